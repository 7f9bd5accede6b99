// `mlflow-gate verify`: the checks, each a few requests through the API as one principal and a verdict.
// Every write names only verify's own experiment, run and registered model; the probes of other routes
// name nothing that exists and carry an identity header the guard refuses before MLflow reads anything.
import { createHash, randomBytes } from "crypto";
import { readFileSync } from "fs";
import { PolicySet } from "../../../authorizer/core/policy-set";
import { decidePromotionRequest } from "../../../authorizer/core/decide-promotion";
import { CatalogRoute } from "../../../authorizer/core/catalog";
import { STAGES } from "../../../authorizer/core/promotion";
import { Caller, RawRequest, sendPresigned } from "./callers";
import { mayIn } from "./teams";
import {
  Answer,
  CheckResult,
  describeAnswer,
  expectations,
  guardReason,
  isAnsweredBehindGateway,
  isGatewayRefusal,
  probePath,
  PROBE_FORGED_HEADER,
  surfaceOf,
  VERIFY_PREFIX,
  VerifyLine,
  VerifyPrincipal,
} from "./plan";

export interface VerifyContext {
  readonly policySet: PolicySet;
  readonly callers: readonly Caller[];
  readonly anonymous: Pick<Caller, "send">;
  /** verify's unique name: its experiment and registered model. */
  readonly name: string;
  readonly artifactBytes: number;
  /** The team whose workspace the callers' base URL is in (`<url>/ws/<team>`); undefined: no teams. */
  readonly workspace?: string;
  /** The guard's audit trail as a file of JSON lines (the local stack's); undefined: the audit check is skipped. */
  readonly auditFile?: string;
  readonly log: (line: string) => void;
}

/** What verify created, for the cleanup; filled as it goes. */
export interface Created {
  experimentId?: string;
  runIds: string[];
  artifactPaths: string[];
  model?: string;
  /** The name the guard stamped for the writer (from the stamping check): the audit trail must name it. */
  stampedName?: string;
  /** x-amz-apigw-id of each write verify made, with the caller: the audit trail must name them. */
  writes: { readonly requestId: string; readonly principal: VerifyPrincipal; readonly what: string }[];
}

/** A JSON request body. */
export const json = (body: unknown): Uint8Array => Buffer.from(JSON.stringify(body), "utf8");

/** An answer's JSON object, or an empty one when its body is none. */
export function parsed(a: Answer): Record<string, unknown> {
  try {
    return JSON.parse(a.body.toString("utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

const ok = (id: string, text: string): CheckResult => ({ id, ok: true, text });
const fail = (id: string, text: string, details: string[] = []): CheckResult => ({ id, ok: false, text, details });

const who = (p: VerifyPrincipal) => `${p.name} (${p.group})`;

/** The first caller whose group the files let do every one of these actions, on its own surface, in the workspace. */
function callerMay(
  ctx: Pick<VerifyContext, "policySet" | "callers" | "workspace">,
  actions: readonly string[],
  kind: VerifyPrincipal["kind"] = "sigv4",
): Caller | undefined {
  return ctx.callers.find(
    (c) => c.principal.kind === kind && mayIn(ctx.policySet, c.principal, actions, ctx.workspace),
  );
}

/** Whether the caller's group may call every route of the action on the caller's surface in the workspace. */
function callerMayDo(ctx: Pick<VerifyContext, "policySet" | "workspace">, caller: Caller, action: string): boolean {
  return mayIn(ctx.policySet, caller.principal, [action], ctx.workspace);
}

/** The actions verify's writer needs: its experiment, runs, a registered model, an artifact, and their deletion. */
export const WRITER_ACTIONS = [
  "CreateExperiment",
  "CreateRun",
  "GetRun",
  "CreateRegisteredModel",
  "GetRegisteredModel",
  "CreateMultipartUpload",
  "CompleteMultipartUpload",
  "DeleteArtifact",
  "DeleteRun",
  "DeleteRegisteredModel",
  "DeleteExperiment",
] as const;

export function writerOf(ctx: Pick<VerifyContext, "policySet" | "callers" | "workspace">): Caller | undefined {
  return callerMay(ctx, WRITER_ACTIONS);
}

/** The stamped name the guard gives a caller (docs/guard.md): a pattern for SigV4 callers, whose ARN verify does not know. */
function stampedNameMatches(p: VerifyPrincipal, name: unknown): boolean {
  if (typeof name !== "string") return false;
  return p.kind === "bearer" ? name === p.name : /^(user|assumed-role)\/[\w+=,.@/-]+$/.test(name);
}

async function write(caller: Caller, created: Created, what: string, request: RawRequest): Promise<Answer> {
  const answer = await caller.send(request);
  const requestId = answer.headers["x-amz-apigw-id"];
  // Each write MLflow carried out has an audit line naming its caller (a refusal may be audited before
  // the guard read who was calling).
  if (requestId !== undefined && answer.status === 200)
    created.writes.push({ requestId, principal: caller.principal, what });
  return answer;
}

export async function checkUiConfig(ctx: VerifyContext): Promise<CheckResult> {
  const a = await ctx.anonymous.send({ method: "GET", path: "/mlflow-gate-ui.json" });
  const body = parsed(a);
  const fields = ["userPoolId", "userPoolClientId", "region"].filter((f) => typeof body[f] !== "string");
  return a.status === 200 && fields.length === 0
    ? ok("ui-config", `/mlflow-gate-ui.json names the user pool ${String(body.userPoolId)} and its app client`)
    : fail("ui-config", "/mlflow-gate-ui.json does not load", [
        `expected 200 with userPoolId, userPoolClientId, region; got ${describeAnswer(a)}`,
      ]);
}

/** Each principal's sampled routes: allowed ones pass the gateway, denied ones get its refusal. */
export async function checkRoutes(ctx: VerifyContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const caller of ctx.callers) {
    const wrong: string[] = [];
    const expected = expectations(ctx.policySet, caller.principal, ctx.workspace);
    for (const { route, allowed } of expected) {
      const a = await caller.send({
        method: route.method,
        path: probePath(route.path),
        headers: { [PROBE_FORGED_HEADER[0]]: PROBE_FORGED_HEADER[1] },
        ...(route.method === "GET" ? {} : { body: json([]) }),
      });
      if (allowed ? !isAnsweredBehindGateway(a) : !isGatewayRefusal(a))
        wrong.push(
          `${route.method} ${route.path} (${route.action}, ${route.class}): expected ${allowed ? "allowed" : "refused by the gateway"}, got ${describeAnswer(a)}`,
        );
    }
    const id = `routes ${who(caller.principal)}${ctx.workspace !== undefined ? ` in ${ctx.workspace}` : ""}`;
    results.push(
      wrong.length === 0
        ? ok(
            id,
            ctx.workspace === undefined
              ? `${expected.length} sampled routes (every class), decided as policies/groups/${caller.principal.group}.yaml says`
              : `${expected.length} sampled routes (every class) under /ws/${ctx.workspace}/, decided as the tiers ${caller.principal.group} holds there say`,
          )
        : fail(
            id,
            `${wrong.length} of ${expected.length} sampled routes decided otherwise than the group files`,
            wrong,
          ),
    );
  }
  return results;
}

/** verify's experiment, created by the writer; every later write check needs it. */
export async function createExperiment(ctx: VerifyContext, writer: Caller, created: Created): Promise<CheckResult> {
  const a = await write(writer, created, "CreateExperiment", {
    method: "POST",
    path: "/api/2.0/mlflow/experiments/create",
    body: json({ name: ctx.name }),
  });
  const id = parsed(a).experiment_id;
  if (a.status === 200 && typeof id === "string") {
    created.experimentId = id;
    return ok("experiment", `${who(writer.principal)} created experiment ${ctx.name} (${id})`);
  }
  return fail("experiment", `${who(writer.principal)} could not create experiment ${ctx.name}`, [describeAnswer(a)]);
}

async function createRun(writer: Caller, created: Created, headers: Record<string, string> = {}): Promise<Answer> {
  return write(writer, created, "CreateRun", {
    method: "POST",
    path: "/api/2.0/mlflow/runs/create",
    headers,
    body: json({
      experiment_id: created.experimentId,
      user_id: `${VERIFY_PREFIX}-forged`,
      tags: [{ key: "mlflow.user", value: `${VERIFY_PREFIX}-forged` }],
    }),
  });
}

async function runOf(caller: Caller, runId: string): Promise<Record<string, unknown>> {
  const a = await caller.send({ method: "GET", path: `/api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(runId)}` });
  return (parsed(a).run ?? {}) as Record<string, unknown>;
}

function runIdOf(a: Answer): string | undefined {
  const id = ((parsed(a).run as { info?: { run_id?: unknown } } | undefined)?.info?.run_id ?? undefined) as unknown;
  return typeof id === "string" ? id : undefined;
}

/** The caller MLflow stored on a run: its user_id and its mlflow.user tag. */
function storedCaller(run: Record<string, unknown>): { userId: unknown; tag: unknown } {
  const info = (run.info ?? {}) as { user_id?: unknown };
  const tags = ((run.data as { tags?: { key: string; value: string }[] } | undefined)?.tags ?? []).filter(
    (t) => t.key === "mlflow.user",
  );
  return { userId: info.user_id, tag: tags[0]?.value };
}

/** Owner stamping: the run and the registered model name the verified caller, not what the body claimed. */
export async function checkStamping(ctx: VerifyContext, writer: Caller, created: Created): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const a = await createRun(writer, created);
  const runId = runIdOf(a);
  if (runId === undefined)
    return [fail("stamping run", `${who(writer.principal)} could not create a run`, [describeAnswer(a)])];
  created.runIds.push(runId);
  const stored = storedCaller(await runOf(writer, runId));
  if (stampedNameMatches(writer.principal, stored.userId)) created.stampedName = stored.userId as string;
  results.push(
    stampedNameMatches(writer.principal, stored.userId) && stored.tag === stored.userId
      ? ok(
          "stamping run",
          `a run created with user_id and mlflow.user "${VERIFY_PREFIX}-forged" names its caller: ${String(stored.userId)}`,
        )
      : fail("stamping run", "a run stores the name the client claimed, not the verified caller", [
          `user_id ${JSON.stringify(stored.userId)}, mlflow.user ${JSON.stringify(stored.tag)}; expected the caller's stamped name`,
        ]),
  );

  const m = await write(writer, created, "CreateRegisteredModel", {
    method: "POST",
    path: "/api/2.0/mlflow/registered-models/create",
    body: json({ name: ctx.name, tags: [{ key: "mlflow.user", value: `${VERIFY_PREFIX}-forged` }] }),
  });
  if (m.status !== 200) {
    results.push(
      fail("stamping model", `${who(writer.principal)} could not create registered model ${ctx.name}`, [
        describeAnswer(m),
      ]),
    );
    return results;
  }
  created.model = ctx.name;
  const got = parsed(
    await writer.send({
      method: "GET",
      path: `/api/2.0/mlflow/registered-models/get?name=${encodeURIComponent(ctx.name)}`,
    }),
  );
  const tags = ((got.registered_model as { tags?: { key: string; value: string }[] } | undefined)?.tags ?? []).filter(
    (t) => t.key === "mlflow.user",
  );
  results.push(
    tags.length === 1 && stampedNameMatches(writer.principal, tags[0]?.value) && tags[0]?.value === stored.userId
      ? ok("stamping model", `registered model ${ctx.name} is tagged with its creator ${String(tags[0]?.value)}`)
      : fail("stamping model", "the registered model's mlflow.user tag is not the verified caller", [
          JSON.stringify(tags),
        ]),
  );
  return results;
}

/** The stages verify asks for, in this order, when it looks for one a group may not move a version to. */
const PROBED_STAGES = ["Production", "Staging", "Archived", "None"] as const;

/** A principal's promotion probe: a stage its group may not move a version to, on its surface's route. */
export interface PromotionProbe {
  readonly caller: Caller;
  readonly stage: (typeof PROBED_STAGES)[number];
  readonly path: string;
}

/** The stages the guard lets the group move someone else's version to (from some stage), in the workspace. */
function stagesTo(ctx: Pick<VerifyContext, "policySet" | "workspace">, group: string, route: CatalogRoute) {
  return STAGES.filter((to) =>
    STAGES.some(
      (from) =>
        decidePromotionRequest(
          ctx.policySet,
          [group],
          route,
          { kind: "transition", to, from, archiveExisting: false },
          { caller: "someone", creator: "someone else" },
          ctx.workspace,
        ).ok,
    ),
  );
}

/** The principals whose group file restricts the stages a version may be moved to, each with a stage it lacks. */
export function promotionProbes(ctx: Pick<VerifyContext, "policySet" | "callers" | "workspace">): PromotionProbe[] {
  return ctx.callers.flatMap((caller) => {
    const route = ctx.policySet.catalog.routes.find(
      (r) => r.action === "TransitionModelVersionStage" && r.auth === surfaceOf(caller.principal),
    );
    if (route === undefined || !ctx.policySet.intends([caller.principal.group], route, ctx.workspace)) return [];
    const allowed = stagesTo(ctx, caller.principal.group, route);
    const stage = PROBED_STAGES.find((s) => !allowed.includes(s));
    return stage === undefined ? [] : [{ caller, stage, path: route.path }];
  });
}

/**
 * Promotion rules on the deployment: every principal whose group file restricts the stages a version may be moved
 * to asks for one it lacks, on a version verify's writer registered, and must get the guard's 403 for its own
 * group's rule (`promotion-stage-not-allowed`). Any other answer fails: a 200 is a rule not enforced, and
 * `promotion-no-group` says the guard does not know the caller's group (on AWS, a SigV4 role outside the role
 * table the stacks compute). Nothing changes: a refusal never reaches MLflow.
 */
export async function checkPromotionRules(ctx: VerifyContext, writer: Caller, created: Created): Promise<VerifyLine[]> {
  const probes = promotionProbes(ctx);
  if (probes.length === 0)
    return [{ id: "promotion", skipped: "no principal whose group restricts the stages it may move versions to" }];
  const runId = created.runIds[0];
  if (created.model === undefined || runId === undefined)
    return [{ id: "promotion", skipped: "verify registered no model to promote" }];
  if (!callerMayDo(ctx, writer, "CreateModelVersion"))
    return [{ id: "promotion", skipped: `${who(writer.principal)} may not register a model version to promote` }];
  const v = await write(writer, created, "CreateModelVersion", {
    method: "POST",
    path: "/api/2.0/mlflow/model-versions/create",
    body: json({ name: created.model, source: `runs:/${runId}/model`, run_id: runId }),
  });
  const version = (parsed(v).model_version as { version?: unknown } | undefined)?.version;
  if (v.status !== 200 || typeof version !== "string")
    return [
      fail("promotion", `${who(writer.principal)} could not register a version of ${created.model}`, [
        describeAnswer(v),
      ]),
    ];
  const results: CheckResult[] = [];
  for (const { caller, stage, path } of probes) {
    const a = await caller.send({
      method: "POST",
      path,
      body: json({ name: created.model, version, stage, archive_existing_versions: false }),
    });
    const reason = parsed(a).reason;
    results.push(
      a.status === 403 && reason === "promotion-stage-not-allowed"
        ? ok("promotion", `${who(caller.principal)} may not move a version to ${stage}: 403 ${reason}`)
        : fail(
            "promotion",
            `${who(caller.principal)} moving a version to ${stage}: expected the guard's 403 promotion-stage-not-allowed`,
            [describeAnswer(a)],
          ),
    );
  }
  return results;
}

/** The spellings of a mapped identity header a client might send: API Gateway's own (lower case) and two others. */
export const FORGED_SPELLINGS = ["x-mlflow-gate-username", "X-Mlflow-Gate-Username", "X-MLFLOW-GATE-USERNAME"] as const;

/** A client's identity header never becomes the caller: refused, or overwritten by the mapping. */
export async function checkForgedIdentity(writer: Caller, created: Created): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const spelling of FORGED_SPELLINGS) {
    const id = `identity header ${spelling}`;
    const a = await createRun(writer, created, { [spelling]: `${VERIFY_PREFIX}-forged` });
    const runId = runIdOf(a);
    if (runId === undefined) {
      results.push(
        a.status >= 400 && a.status < 500
          ? ok(id, `refused (${a.status}${guardReason(a) ? `, ${guardReason(a)}` : ""})`)
          : fail(id, "neither refused nor a run", [describeAnswer(a)]),
      );
      continue;
    }
    created.runIds.push(runId);
    const stored = storedCaller(await runOf(writer, runId));
    results.push(
      stampedNameMatches(writer.principal, stored.userId)
        ? ok(id, `overwritten: the run names ${String(stored.userId)}`)
        : fail(id, "the forged name reached MLflow", [`user_id ${JSON.stringify(stored.userId)}`]),
    );
  }
  return results;
}

/**
 * Paths MLflow could read otherwise than API Gateway authorized them. Each lies under a `{proxy+}` resource, so
 * the gateway passes it on as API Gateway does, and the guard must refuse it; a gateway's own refusal counts too.
 */
export const PATH_TRICKS = [
  "/api/2.0/mlflow/runs/../experiments/search",
  "/api/2.0/mlflow/runs/./get",
  "/api/2.0/mlflow/runs//get",
  "/api/2.0/mlflow/runs/%2E%2E/experiments/search",
  "/api/2.0/mlflow/runs/get%2F..%2F..%2Fexperiments%2Fsearch",
] as const;

export async function checkPathTricks(reader: Caller): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const path of PATH_TRICKS) {
    const a = await reader.send({ method: "GET", path: `${path}?max_results=1` });
    const reason = guardReason(a);
    results.push(
      reason !== undefined || isGatewayRefusal(a)
        ? ok(`path ${path}`, `refused (${a.status}${reason ? `, ${reason}` : ", by the gateway"})`)
        : fail(`path ${path}`, "not refused by the guard or the gateway", [describeAnswer(a)]),
    );
  }
  return results;
}

interface MultipartCredential {
  readonly url: string;
  readonly part_number: number;
  readonly headers?: Record<string, string>;
}

const PART_BYTES = 10 * 1024 * 1024;

/** MLflow's proxied multipart upload, as its SDK does it: create, PUT each part to its presigned URL, complete (or abort). */
async function uploadInParts(
  writer: Caller,
  created: Created,
  dir: string,
  file: string,
  data: Buffer,
): Promise<Answer | undefined> {
  const parts = Math.ceil(data.length / PART_BYTES);
  const c = await write(writer, created, "CreateMultipartUpload", {
    method: "POST",
    path: `/api/2.0/mlflow-artifacts/mpu/create/${dir}`,
    body: json({ path: file, num_parts: parts }),
  });
  if (c.status !== 200) return c;
  const { credentials, upload_id: uploadId } = parsed(c) as { credentials?: MultipartCredential[]; upload_id?: string };
  const etags: { part_number: number; etag: string; url: string }[] = [];
  let failed: Answer | undefined;
  for (const credential of credentials ?? []) {
    const i = credential.part_number - 1;
    const put = await sendPresigned(
      "PUT",
      credential.url,
      credential.headers ?? {},
      data.subarray(i * PART_BYTES, (i + 1) * PART_BYTES),
    );
    if (put.status !== 200) {
      failed = put;
      break;
    }
    etags.push({ part_number: credential.part_number, etag: put.headers.etag ?? "", url: credential.url });
  }
  if (failed === undefined) {
    const done = await write(writer, created, "CompleteMultipartUpload", {
      method: "POST",
      path: `/api/2.0/mlflow-artifacts/mpu/complete/${dir}`,
      body: json({ path: file, upload_id: uploadId, parts: etags }),
    });
    if (done.status === 200) return undefined;
    failed = done;
  }
  await abortUpload(writer, dir, file, uploadId);
  return failed;
}

/** Leaves no incomplete multipart upload behind (S3 bills its parts until a lifecycle rule removes them). */
async function abortUpload(caller: Caller, dir: string, file: string, uploadId: unknown): Promise<void> {
  if (typeof uploadId !== "string") return;
  await caller.send({
    method: "POST",
    path: `/api/2.0/mlflow-artifacts/mpu/abort/${dir}`,
    body: json({ path: file, upload_id: uploadId }),
  });
}

async function downloadPresigned(caller: Caller, artifactPath: string): Promise<{ data?: Buffer; answer: Answer }> {
  const p = await caller.send({ method: "GET", path: `/api/2.0/mlflow-artifacts/presigned/${artifactPath}` });
  if (p.status !== 200) return { answer: p };
  const { url, headers } = parsed(p) as { url?: string; headers?: Record<string, string> };
  if (typeof url !== "string") return { answer: p };
  const got = await sendPresigned("GET", url, headers ?? {});
  return got.status === 200 ? { data: got.body, answer: got } : { answer: got };
}

/**
 * A large artifact: the writer uploads it in parts to presigned URLs (past API Gateway's 10 MB), each other
 * SigV4 principal downloads it byte-identical if its group may read artifacts, and is refused the upload
 * if its group may not write them.
 */
export async function checkArtifacts(ctx: VerifyContext, writer: Caller, created: Created): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const runId = created.runIds[0];
  if (created.experimentId === undefined || runId === undefined)
    return [fail("artifact upload", "no run of verify's to log an artifact in (see the lines above)")];
  const dir = `${created.experimentId}/${runId}/artifacts/${VERIFY_PREFIX}`;
  const file = "payload.bin";
  const data = randomBytes(ctx.artifactBytes);
  const digest = createHash("sha256").update(data).digest("hex");
  const mb = (ctx.artifactBytes / 1024 / 1024).toFixed(0);
  const began = Date.now();
  const refused = await uploadInParts(writer, created, dir, file, data);
  if (refused !== undefined)
    return [
      fail("artifact upload", `${who(writer.principal)} could not upload ${mb} MB in parts`, [describeAnswer(refused)]),
    ];
  created.artifactPaths.push(`${dir}/${file}`);
  results.push(
    ok(
      "artifact upload",
      `${who(writer.principal)} uploaded ${mb} MB in parts to presigned URLs (${((Date.now() - began) / 1000).toFixed(1)} s)`,
    ),
  );

  for (const caller of ctx.callers.filter((c) => c.principal.kind === "sigv4")) {
    const mayRead = ctx.policySet.catalog.routes
      .filter((r) => r.action === "GetPresignedDownloadUrl" && r.auth === "iam")
      .every((r) => ctx.policySet.intends([caller.principal.group], r, ctx.workspace));
    if (mayRead) {
      const { data: got, answer } = await downloadPresigned(caller, `${dir}/${file}`);
      const same = got !== undefined && createHash("sha256").update(got).digest("hex") === digest;
      results.push(
        same
          ? ok(`artifact download ${who(caller.principal)}`, `${mb} MB byte-identical through a presigned URL`)
          : fail(`artifact download ${who(caller.principal)}`, "did not get the same bytes", [
              got !== undefined ? `got ${got.length} bytes of another digest` : describeAnswer(answer),
            ]),
      );
    }
    if (caller === writer) continue;
    const mayWrite = ctx.policySet.catalog.routes
      .filter((r) => r.action === "CreateMultipartUpload" && r.auth === "iam")
      .every((r) => ctx.policySet.intends([caller.principal.group], r, ctx.workspace));
    if (mayWrite) continue;
    const a = await caller.send({
      method: "POST",
      path: `/api/2.0/mlflow-artifacts/mpu/create/${dir}`,
      body: json({ path: "refused.bin", num_parts: 1 }),
    });
    // A deployment that wrongly let it through started an upload: abort it, with the writer's rights.
    if (a.status === 200) await abortUpload(writer, dir, "refused.bin", parsed(a).upload_id);
    results.push(
      isGatewayRefusal(a)
        ? ok(`artifact upload refused ${who(caller.principal)}`, `mpu/create refused by the gateway (${a.status})`)
        : fail(
            `artifact upload refused ${who(caller.principal)}`,
            "a group that may not write artifacts got past the gateway",
            [describeAnswer(a)],
          ),
    );
  }
  return results;
}

interface AuditLine {
  readonly requestId?: string;
  readonly username?: string;
  readonly caller?: string;
  readonly principal?: string;
}

/** The audit trail names the caller of each of verify's writes, found by the request id API Gateway gave it. */
export function checkAudit(ctx: VerifyContext, created: Created): VerifyLine[] {
  if (ctx.auditFile === undefined)
    return [
      {
        id: "audit",
        skipped: "no audit trail to read: give --audit-file (on AWS, an export of the guard's log group)",
      },
    ];
  let lines: AuditLine[];
  try {
    lines = readFileSync(ctx.auditFile, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as AuditLine);
  } catch (e) {
    return [fail("audit", `cannot read the audit trail ${ctx.auditFile}`, [(e as Error).message])];
  }
  const byId = new Map(lines.filter((l) => l.requestId !== undefined).map((l) => [l.requestId as string, l]));
  const missing = created.writes.filter((w) => {
    const line = byId.get(w.requestId);
    if (line === undefined) return true;
    // The caller the guard names is the one it stamped on verify's run (a SigV4 caller's ARN is not known here).
    const expected = w.principal.kind === "bearer" ? w.principal.name : created.stampedName;
    return expected === undefined || line.caller !== expected;
  });
  if (created.writes.length === 0) return [fail("audit", "verify made no write to look for")];
  return missing.length === 0
    ? [ok("audit", `each of verify's ${created.writes.length} writes is in the audit trail with its caller`)]
    : [
        fail(
          "audit",
          `${missing.length} of ${created.writes.length} writes are not in the audit trail with their caller`,
          missing.slice(0, 5).map((w) => `${w.what} by ${w.principal.name}, request ${w.requestId}`),
        ),
      ];
}

/** Deletes what verify created: its artifact, runs, registered model and experiment. */
export async function cleanUp(writer: Caller, created: Created): Promise<CheckResult> {
  const problems: string[] = [];
  const step = async (what: string, request: RawRequest) => {
    const a = await writer.send(request);
    if (a.status !== 200 && a.status !== 204) problems.push(`${what}: ${describeAnswer(a)}`);
  };
  for (const path of created.artifactPaths)
    await step(`artifact ${path}`, { method: "DELETE", path: `/api/2.0/mlflow-artifacts/artifacts/${path}` });
  for (const runId of created.runIds)
    await step(`run ${runId}`, { method: "POST", path: "/api/2.0/mlflow/runs/delete", body: json({ run_id: runId }) });
  if (created.model !== undefined)
    await step(`registered model ${created.model}`, {
      method: "DELETE",
      path: "/api/2.0/mlflow/registered-models/delete",
      body: json({ name: created.model }),
    });
  if (created.experimentId !== undefined)
    await step(`experiment ${created.experimentId}`, {
      method: "POST",
      path: "/api/2.0/mlflow/experiments/delete",
      body: json({ experiment_id: created.experimentId }),
    });
  const count =
    created.artifactPaths.length + created.runIds.length + (created.model ? 1 : 0) + (created.experimentId ? 1 : 0);
  return problems.length === 0
    ? ok(
        "cleanup",
        `deleted what verify created (${count} objects; MLflow keeps deleted experiments and runs until \`mlflow gc\`)`,
      )
    : fail("cleanup", "could not delete everything verify created", problems);
}
