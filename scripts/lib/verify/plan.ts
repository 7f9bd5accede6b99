// `mlflow-gate verify`, the pure half: who is verified, which routes are sampled and what each must get,
// how an answer is read (the gateway's refusal, the guard's, or MLflow's), and how results are printed.
import { AuthType, CatalogRoute, ROUTE_CLASSES, RouteClass } from "../../../authorizer/core/catalog";
import { PolicySet } from "../../../authorizer/core/policy-set";

/** A caller of the deployment: an AWS profile signing SigV4, or a Cognito user sending a bearer token. */
export type VerifyPrincipal =
  | { readonly kind: "sigv4"; readonly name: string; readonly group: string }
  | {
      readonly kind: "bearer";
      readonly name: string;
      readonly group: string;
      readonly password?: string;
      readonly refreshToken?: string;
    };

export const surfaceOf = (p: VerifyPrincipal): AuthType => (p.kind === "sigv4" ? "iam" : "cognito");

/** What one check found: a line each, and whether it holds. */
export interface CheckResult {
  readonly id: string;
  readonly ok: boolean;
  readonly text: string;
  /** Lines under the check's own, for a failure: what was expected and what came. */
  readonly details?: readonly string[];
}

/** A check that could not run (a precondition the deployment or the configuration lacks): neither passed nor failed. */
export interface SkippedCheck {
  readonly id: string;
  readonly skipped: string;
}

export type VerifyLine = CheckResult | SkippedCheck;

export const isSkipped = (l: VerifyLine): l is SkippedCheck => "skipped" in l;

export function formatLine(line: VerifyLine): string {
  if (isSkipped(line)) return `SKIP  ${line.id}: ${line.skipped}`;
  const head = `${line.ok ? "PASS" : "FAIL"}  ${line.id}: ${line.text}`;
  return [head, ...(line.ok ? [] : (line.details ?? []).map((d) => `        ${d}`))].join("\n");
}

/** The last line CI reads: `N passed, N failed` (skips said before it). */
export function summaryLines(lines: readonly VerifyLine[]): string[] {
  const results = lines.filter((l): l is CheckResult => !isSkipped(l));
  const skipped = lines.length - results.length;
  const passed = results.filter((r) => r.ok).length;
  return [
    ...(skipped > 0 ? [`${skipped} skipped (see the SKIP lines: not counted)`] : []),
    `${passed} passed, ${results.length - passed} failed`,
  ];
}

/** Every name verify gives what it creates: its own, unique to one run, never anyone else's. */
export const VERIFY_PREFIX = "mlflow-gate-verify";

export function runName(now: Date, random: string): string {
  return `${VERIFY_PREFIX}-${now.toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}-${random}`;
}

/** The value verify puts in every path parameter of a sampled route: names nothing that exists. */
export const PROBE_PARAMETER = `${VERIFY_PREFIX}-none`;

/**
 * The identity header a probe forges, in a spelling API Gateway's mapping does not overwrite: the
 * guard refuses it before MLflow reads anything, so a probe of a write route changes nothing.
 */
export const PROBE_FORGED_HEADER = ["X-MLFLOW-GATE-USERNAME", VERIFY_PREFIX] as const;

/** Classes whose routes the probes sample: all but `static`, whose routes are public. */
const SAMPLED_CLASSES: readonly RouteClass[] = ROUTE_CLASSES.filter((c) => c !== "static");

/**
 * Routes whose body MLflow stores as bytes (artifact uploads): a probe would write a file if a deployment
 * let it through, so they are verified by the artifact check on verify's own run instead.
 */
function storesBody(route: CatalogRoute): boolean {
  return route.method === "PUT" && route.path.includes("/mlflow-artifacts/artifacts/");
}

/** Up to `perClass` routes of each class on one surface, spread over the catalog's order (deterministic). */
export function sampleRoutes(routes: readonly CatalogRoute[], surface: AuthType, perClass = 3): CatalogRoute[] {
  const out: CatalogRoute[] = [];
  for (const cls of SAMPLED_CLASSES) {
    const candidates = routes.filter((r) => r.auth === surface && r.class === cls && !storesBody(r));
    if (candidates.length === 0) continue;
    const step = candidates.length / Math.min(perClass, candidates.length);
    for (let i = 0; i < Math.min(perClass, candidates.length); i++)
      out.push(candidates[Math.floor(i * step)] as CatalogRoute);
  }
  return out;
}

/** A route template with every parameter filled: `{x}` one segment, `{x+}` two. */
export function probePath(template: string): string {
  return template.replace(/\{[^}]+\}/g, (p) => (p.endsWith("+}") ? `${PROBE_PARAMETER}/0` : PROBE_PARAMETER));
}

export interface ProbeExpectation {
  readonly route: CatalogRoute;
  readonly allowed: boolean;
}

/**
 * What the group files say each sampled route must get for this principal: in a team's workspace (its routes under
 * `/ws/<team>/`) when the deployment has teams.
 */
export function expectations(
  policySet: PolicySet,
  principal: VerifyPrincipal,
  workspace?: string,
  perClass = 3,
): ProbeExpectation[] {
  return sampleRoutes(policySet.catalog.routes, surfaceOf(principal), perClass).map((route) => ({
    route,
    allowed: policySet.intends([principal.group], route, workspace),
  }));
}

/** An answer as verify reads it. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

function jsonOf(body: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(body.toString("utf8")) as unknown;
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * API Gateway's own refusal: 401, or 403 with its `{"message": ...}` (an authorizer's or a missing route's)
 * or IAM's `{"Message": ...}`. MLflow's and the guard's answers carry `error_code` instead.
 */
export function isGatewayRefusal(a: Answer): boolean {
  if (a.status !== 401 && a.status !== 403) return false;
  const body = jsonOf(a.body);
  return body !== undefined && body.error_code === undefined && ("message" in body || "Message" in body);
}

/**
 * An allowed probe's answer: it passed the gateway and was answered behind it, by the guard (its refusal of the
 * forged header or the body) or by MLflow in its own error shape. A 5xx, a 429 or a page is no proof of either.
 */
export function isAnsweredBehindGateway(a: Answer): boolean {
  if (guardReason(a) !== undefined) return true;
  return a.status >= 400 && a.status < 500 && a.status !== 429 && jsonOf(a.body)?.error_code !== undefined;
}

/** The guard's refusal: a 400 in MLflow's shape with the guard's reason code. */
export function guardReason(a: Answer): string | undefined {
  const body = jsonOf(a.body);
  return a.status === 400 && typeof body?.reason === "string" ? body.reason : undefined;
}

/** A short, credential-free account of an answer for a FAIL line. */
export function describeAnswer(a: Answer): string {
  const text = a.body.toString("utf8").replace(/\s+/g, " ").slice(0, 160);
  return `${a.status}${text ? ` ${text}` : ""}`;
}
