import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { FREE_PORTS_ENV, parseStackConfig, StackConfig } from "../../../local/config";
import { RestartPolicy } from "../../../local/mlflow-server";
import { RunningStack, startStack } from "../../../local/stack";
import { ensureMlflowVenv } from "../../../project/mlflow-venv";
import { testUiDirectory } from "../../support/test-ui";
import { CallerSpec } from "./load";

export interface ReliabilityStack {
  readonly stack: RunningStack;
  readonly config: StackConfig;
  /** The stack's progress lines (MLflow restarts are logged there). */
  readonly progress: string[];
  /** Every local principal (SigV4) and every demo user (bearer, freshly logged in): all groups, both surfaces. */
  callers(): Promise<CallerSpec[]>;
  stop(): Promise<void>;
}

/** The whole local stack (real MLflow, real cognito-local) on free loopback ports in a fresh directory, removed at stop. */
export async function startReliabilityStack(
  options: {
    config?: Partial<StackConfig>;
    mlflowRestart?: Omit<RestartPolicy, "log">;
    echo?: (line: string) => void;
  } = {},
): Promise<ReliabilityStack> {
  ensureMlflowVenv();
  const dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-rel-"));
  const config: StackConfig = {
    ...parseStackConfig({
      MLFLOW_GATE_DATA: dataDir,
      ...FREE_PORTS_ENV,
    }),
    ...options.config,
  };
  const progress: string[] = [];
  let stack: RunningStack;
  try {
    stack = await startStack(config, {
      uiDirectory: await testUiDirectory(),
      progress: (line) => {
        progress.push(line);
        options.echo?.(line);
      },
      log: () => undefined,
      ...(options.mlflowRestart ? { mlflowRestart: options.mlflowRestart } : {}),
    });
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    stack,
    config,
    progress,
    async callers() {
      // The principals that stand for a group's role (data-science only assumes roles: no MLflow rights of its own).
      const sigv4: CallerSpec[] = stack.principals.flatMap((p) =>
        p.group === undefined
          ? []
          : [
              {
                kind: "sigv4" as const,
                name: p.name,
                group: p.group,
                keys: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey },
              },
            ],
      );
      const bearer: CallerSpec[] = [];
      for (const u of stack.summary.demoUsers) {
        const { accessToken } = await stack.userPool.login(u.username, u.password);
        bearer.push({ kind: "bearer", name: u.username, group: u.group, accessToken });
      }
      return [...sigv4, ...bearer];
    },
    async stop() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
