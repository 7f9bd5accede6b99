// The guard's program: `node guard/main.js` in the MLflow task's sidecar container, and the local
// stack's supervised child. Configured by the environment (guard/config.ts).
import { join } from "path";
import { ConfigError, GroupPolicyError } from "../authorizer/core/errors";
import { RouteMatcher } from "../authorizer/core/catalog";
import { loadGroupFiles, loadRouteCatalog, loadTeamFiles } from "../authorizer/load-policies";
import { restartReason } from "../authorizer/core/policy-diff";
import { PolicySet } from "../authorizer/core/policy-set";
import { closeServer } from "../common/http-server";
import { openAuditSink } from "./audit-sink";
import { parseGuardConfig } from "./config";
import { createGuardServer } from "./server";

/** One JSON line on stderr for the guard's own events (start, stop, a bad config); audit lines are separate. */
function event(level: "info" | "error", name: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, component: "guard", event: name, ...fields })}\n`,
  );
}

/**
 * SIGHUP: the group and team files again (the local stack's live reload). Files that do not load leave the
 * running policies in place, and so does what would need a restart (authorizer/core/policy-diff.ts). Handled
 * from the first moment, so that a reload sent while the guard starts never ends it (SIGHUP's default).
 */
let reloadOnHangup: () => Promise<void> = async () => undefined;

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  process.on("SIGHUP", () => void reloadOnHangup());
  try {
    // The repository's layout, which the bundle and the image keep (guard/build.ts): one rule for the three.
    const config = parseGuardConfig(env, {
      catalogFile: join(__dirname, "..", "policies", "mlflow-routes.json"),
      groupsDir: join(__dirname, "..", "policies", "groups"),
      teamsDir: join(__dirname, "..", "policies", "teams"),
    });
    const catalog = loadRouteCatalog(config.catalogFile);
    const load = () =>
      PolicySet.fromFiles(catalog, loadGroupFiles(config.groupsDir), undefined, loadTeamFiles(config.teamsDir));
    let policySet = load();
    const server = createGuardServer({
      upstream: config.upstream,
      stagePathPrefix: config.stagePathPrefix,
      matcher: new RouteMatcher(catalog),
      maxBodyBytes: config.maxBodyBytes,
      maxBufferedBytes: config.maxBufferedBytes,
      graphql: config.graphql,
      audit: openAuditSink(config.auditFile),
      auditReads: config.auditReads,
      // Read per request: a reload (SIGHUP) replaces the policies for the requests after it.
      promotion: {
        get policySet() {
          return policySet;
        },
        iamGroups: config.iamGroups,
      },
      ...(policySet.teams
        ? {
            workspaces: {
              reachable: (groups) => policySet.reachableWorkspaces(groups),
              mayManage: (groups) => policySet.mayManageWorkspaces(groups),
            },
          }
        : {}),
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, resolve);
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    event("info", "started", {
      listen: `${config.host}:${port}`,
      upstream: config.upstream.origin,
      mlflowVersion: catalog.mlflowVersion,
    });
    const stop = (signal: string) => {
      event("info", "stopping", { signal });
      void closeServer(server).then(() => process.exit(0));
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
    reloadOnHangup = async () => {
      // A file caught in the middle of an editor's save does not load: read again, twice, before refusing.
      let last: unknown;
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const next = load();
          const blocker = restartReason(policySet, next);
          if (blocker !== undefined)
            return event("error", "reload-refused", { message: `${blocker}: restart the guard` });
          policySet = next;
          return event("info", "reloaded", { groups: [...next.groups.keys()].sort() });
        } catch (e) {
          last = e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const message = last instanceof GroupPolicyError ? last.problems.join("; ") : (last as Error).message;
      event("error", "reload-refused", { message });
    };
  } catch (e) {
    const message =
      e instanceof ConfigError
        ? e.message
        : e instanceof GroupPolicyError
          ? e.problems.join("; ")
          : (e as Error).message;
    event("error", "cannot-start", { message });
    process.exit(1);
  }
}

if (require.main === module) void main();
