// The `sign` command of `mlflow-gate`: thin I/O around scripts/lib/sign-request.ts.
import { readFileSync } from "fs";
import type { Command, Context } from "./lib/command";
import { CliFailure, CliUsageError } from "./lib/cli-errors";
import { requireProfile } from "./lib/aws-profile";
import { accessTokenFromLogin, localClientId } from "./lib/bearer-token";
import type { HttpRequest } from "@smithy/protocol-http";
import {
  buildHttpRequest,
  buildSignPlan,
  formatResponseHead,
  resolveCredentials,
  resolveRegion,
  sendRequest,
  signRequest,
  SignPlan,
} from "./lib/sign-request";

/** Exit status when the server answered 400 or more: distinct from 1 (nothing answered) so scripts can tell. */
export const HTTP_ERROR_EXIT = 3;

async function readBody(ctx: Context, plan: SignPlan): Promise<Uint8Array> {
  const b = plan.body;
  if (b.kind === "none") return new Uint8Array();
  if (b.kind === "inline") return Buffer.from(b.text, "utf8");
  if (b.kind === "file") {
    try {
      return readFileSync(b.path);
    } catch (e) {
      throw new CliFailure([
        `mlflow-gate: cannot read ${b.path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      ]);
    }
  }
  const chunks: Buffer[] = [];
  for await (const c of ctx.io.stdin ?? process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks);
}

async function sign(ctx: Context): Promise<number> {
  const [url, extra] = ctx.args;
  if (url === undefined) throw new CliUsageError("sign needs a URL");
  if (extra !== undefined) throw new CliUsageError(`unexpected argument "${extra}"`);
  const plan = buildSignPlan({
    headers: ctx.values.header ?? [],
    include: ctx.values.include === true,
    url,
    ...(ctx.values.request !== undefined ? { method: ctx.values.request } : {}),
    ...(ctx.values.data !== undefined ? { data: ctx.values.data } : {}),
    ...(ctx.values.profile !== undefined ? { profile: ctx.values.profile } : {}),
    ...(ctx.values.region !== undefined ? { region: ctx.values.region } : {}),
    ...(ctx.values.service !== undefined ? { service: ctx.values.service } : {}),
  });
  if (ctx.values.bearer === true) return sendWithBearer(ctx, plan);
  // The SDK reads the shared files and AWS_PROFILE from the process environment; --profile wins over AWS_PROFILE.
  const profile = plan.profile ?? (process.env.AWS_PROFILE || undefined);
  if (profile !== undefined) await requireProfile(profile, process.env);
  const body = await readBody(ctx, plan);
  const region = await resolveRegion(plan, profile);
  const credentials = await resolveCredentials(profile);
  const signed = await signRequest(buildHttpRequest(plan, body), credentials, region, plan.service);
  return send(ctx, plan, signed);
}

/**
 * `--bearer`: the request as the person `mlflow-gate login` signed in (the UI's path: `/ajax-api/` routes),
 * with an access token renewed from the saved refresh token, instead of a SigV4 signature.
 */
async function sendWithBearer(ctx: Context, plan: SignPlan): Promise<number> {
  if (plan.profile !== undefined)
    throw new CliUsageError("--bearer and --profile are two ways to authenticate: give one");
  if (plan.headers.some(([name]) => name.toLowerCase() === "authorization"))
    throw new CliUsageError("--bearer sets Authorization itself: leave out -H Authorization");
  const env = ctx.io.env ?? process.env;
  const token = await accessTokenFromLogin(env, ctx.values["client-id"] ?? localClientId(env));
  const req = buildHttpRequest(plan, await readBody(ctx, plan));
  req.headers.authorization = `Bearer ${token}`;
  return send(ctx, plan, req);
}

async function send(ctx: Context, plan: SignPlan, req: HttpRequest): Promise<number> {
  // Streamed: the status first, then the body as it arrives (artifact downloads can be large).
  const head = await sendRequest(req, {
    head: (h) =>
      plan.include
        ? ctx.io.stdout.write(formatResponseHead(h))
        : ctx.io.stderr.write(`${`HTTP ${h.status} ${h.statusText}`.trimEnd()}\n`),
    chunk: (data) => ctx.io.stdout.write(data),
  });
  return head.status >= 400 ? HTTP_ERROR_EXIT : 0;
}

export const signCommand: Command = {
  name: "sign",
  options: ["request", "header", "data", "include", "profile", "region", "service", "bearer", "client-id"],
  run: sign,
};
