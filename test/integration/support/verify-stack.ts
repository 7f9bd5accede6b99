import { spawn } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { Server } from "http";
import { tmpdir } from "os";
import { join } from "path";
import { PolicySet } from "../../../authorizer/core/policy-set";
import { closeServer } from "../../../common/http-server";
import { renderLocalApiDefinition } from "../../../gateway/local-api";
import { FREE_PORTS_ENV, parseStackConfig } from "../../../local/config";
import { createLocalGateway, RunningStack, startStack } from "../../../local/stack";
import { REPO_ROOT } from "../../../project/paths";
import { testUiDirectory } from "../../support/test-ui";

/**
 * A real local stack for `mlflow-gate verify`'s tests, with what they need beside it: gateways of other policies
 * in front of the stack's guard or MLflow (deployments that do not do what the files say), and verify as a user
 * runs it against this stack's data directory.
 */
export interface VerifyStack {
  readonly stack: RunningStack;
  readonly dataDir: string;
  /** Another gateway in front of `upstream`, deciding with these policies; its URL. */
  gateway(policySet: PolicySet, upstream: URL): Promise<string>;
  /** `mlflow-gate verify` (bin/mlflow-gate.js) with the environment the stack was started with. */
  verify(...args: string[]): Promise<{ code: number | null; out: string }>;
  stop(): Promise<void>;
}

/** Starts the stack on free ports in a fresh data directory; `env` adds stack variables (and verify's). */
export async function startVerifyStack(env: Record<string, string> = {}): Promise<VerifyStack> {
  const dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-verify-"));
  const stack = await startStack(
    parseStackConfig({
      MLFLOW_GATE_DATA: dataDir,
      ...FREE_PORTS_ENV,
      ...env,
    }),
    { uiDirectory: await testUiDirectory(), progress: () => undefined, log: () => undefined },
  );
  const gateways: Server[] = [];
  return {
    stack,
    dataDir,
    async gateway(policySet, upstream) {
      const server = createLocalGateway({
        region: stack.summary.region,
        api: renderLocalApiDefinition(policySet.catalog.routes, {
          upstream,
          uiConfigJson: JSON.stringify({
            userPoolId: stack.summary.cognito.userPoolId,
            userPoolClientId: stack.summary.cognito.clientId,
            region: stack.summary.region,
          }),
          integrationTimeoutMs: 29_000,
          authorizerTtlSeconds: 300,
          version: policySet.catalog.mlflowVersion,
          ...(policySet.teams ? { workspaces: true } : {}),
        }),
        policySet,
        userPool: stack.userPool,
        principals: stack.principals,
        accessLog: () => undefined,
        authorizerLogger: { info: () => undefined, error: () => undefined },
        uiDirectory: await testUiDirectory(),
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      gateways.push(server);
      return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    },
    verify(...args) {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "mlflow-gate.js"), "verify", ...args], {
          cwd: REPO_ROOT,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, MLFLOW_GATE_DATA: dataDir, ...env },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        child.stdout.on("data", (c: Buffer) => (out += c.toString()));
        child.stderr.on("data", (c: Buffer) => (out += c.toString()));
        child.once("exit", (code) => resolve({ code, out }));
      });
    },
    async stop() {
      for (const g of gateways) await closeServer(g);
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
