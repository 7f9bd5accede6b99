// The local stack's live reload of the group and team files: what changed, what would need a restart, the
// watch on the files, and a gateway whose policies can be replaced between two requests.
import { FSWatcher, watch } from "fs";
import type { IncomingMessage, ServerResponse } from "http";
import { GroupPolicyError } from "../authorizer/core/errors";
import type { PolicySet } from "../authorizer/core/policy-set";
import { LogSink, logLine } from "../common/log";
import type { Gateway } from "../gateway/server";

/** A group's meaning, comparable: its routes and everything else its file says. */
function signatureOf(set: PolicySet, tier: string): string {
  return JSON.stringify(set.groups.get(tier), (_k, v: unknown) => (v instanceof Set ? [...v].sort() : v));
}

/** What a reload changes, a line per group file: `readers: +2 routes, -0`; nothing when nothing changed. */
export function describePolicyChange(before: PolicySet, after: PolicySet): string[] {
  const tiers = [...new Set([...before.groups.keys(), ...after.groups.keys()])].sort();
  const lines: string[] = [];
  for (const tier of tiers) {
    const was = before.groups.get(tier)?.allowedRouteIds ?? new Set<string>();
    const is = after.groups.get(tier)?.allowedRouteIds ?? new Set<string>();
    const added = [...is].filter((r) => !was.has(r)).length;
    const removed = [...was].filter((r) => !is.has(r)).length;
    if (added > 0 || removed > 0) lines.push(`${tier}: +${added} routes, -${removed}`);
    else if (signatureOf(before, tier) !== signatureOf(after, tier)) lines.push(`${tier}: changed, same routes`);
  }
  const holders = (set: PolicySet) => JSON.stringify(set.teams, (_k, v: unknown) => (v instanceof Map ? [...v] : v));
  if (lines.length === 0 && holders(before) !== holders(after)) lines.push("teams: who holds which tier changed");
  return lines;
}

/**
 * Why a new set of files cannot replace the running one without a restart, or undefined: the caller groups
 * are the user pool's groups, and the teams are MLflow's workspaces and the API's paths.
 */
export function restartReason(before: PolicySet, after: PolicySet): string | undefined {
  const was = [...before.callerGroups].sort();
  const is = [...after.callerGroups].sort();
  if (was.join(",") !== is.join(",")) {
    const added = is.filter((g) => !was.includes(g));
    const removed = was.filter((g) => !is.includes(g));
    return `the groups changed (${[...added.map((g) => `+${g}`), ...removed.map((g) => `-${g}`)].join(", ")}), which the user pool must have`;
  }
  const teams = (set: PolicySet) => (set.teams === undefined ? "(none)" : set.teams.names.join(","));
  if (teams(before) !== teams(after)) return "the teams changed, which are MLflow's workspaces and the API's paths";
  return undefined;
}

/**
 * Calls `onChange` once the files under `paths` (directories or files) have stopped changing for
 * `debounceMs`: an editor's save is a burst of events. A path that does not exist is not watched.
 */
export function watchPaths(paths: readonly string[], onChange: () => void, debounceMs = 150): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  for (const path of paths) {
    try {
      const w = watch(path, { persistent: false }, () => {
        clearTimeout(timer);
        timer = setTimeout(onChange, debounceMs);
      });
      w.on("error", () => undefined);
      watchers.push(w);
    } catch {
      // not there (no team files): nothing to watch
    }
  }
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

/** A gateway that answers with the latest one given: each request is decided by one set of policies, whole. */
export interface SwappableGateway extends Gateway {
  swap(next: Gateway): void;
}

/** A replaced gateway's connections to the guard are closed once the longest request it may answer is over. */
const RETIRE_AFTER_MS = 35_000;

export function swappableGateway(initial: Gateway): SwappableGateway {
  let current = initial;
  const retired = new Set<Gateway>();
  return {
    handle: (req: IncomingMessage, res: ServerResponse) => current.handle(req, res),
    close: () => {
      current.close();
      for (const g of retired) g.close();
      retired.clear();
    },
    swap(next: Gateway) {
      // The replaced one finishes what it answers (up to the 29 s integration timeout) on its own connections.
      const before = current;
      current = next;
      retired.add(before);
      setTimeout(() => {
        if (retired.delete(before)) before.close();
      }, RETIRE_AFTER_MS).unref();
    },
  };
}

export interface PolicyReloadProps {
  /** The group and team files' directories, watched. */
  readonly paths: readonly string[];
  /** Reads the files again; throws a GroupPolicyError (its problems as `file:line: ...`) when they do not load. */
  readonly load: () => PolicySet;
  /** The policies the stack started with. */
  readonly initial: PolicySet;
  /** Puts new policies in place: the gateway's, then the guard's. */
  readonly apply: (next: PolicySet) => void;
  readonly progress: (line: string) => void;
  readonly log: LogSink;
}

export interface PolicyReload {
  /** The policies in force. */
  current(): PolicySet;
  /** Reads the files now (the watch calls it); what it did is on `progress` and `log`. */
  reload(): void;
  close(): void;
}

/**
 * Watches the group and team files and puts each valid edit in force within the debounce; a set of files that
 * does not load, or would need a restart, leaves the running policies in place and says why.
 */
export function startPolicyReload(props: PolicyReloadProps): PolicyReload {
  let running = props.initial;
  const refuse = (why: string, fields: Record<string, unknown>) => {
    props.progress(`policies      not reloaded, the running policies stay: ${why}`);
    props.log(logLine("local", "policies-not-reloaded", fields, "warn"));
  };
  const reload = () => {
    let next: PolicySet;
    try {
      next = props.load();
    } catch (e) {
      const problems = e instanceof GroupPolicyError ? e.problems : [(e as Error).message];
      return refuse(`the files do not load:\n  ${problems.join("\n  ")}`, { problems });
    }
    const blocker = restartReason(running, next);
    if (blocker !== undefined) return refuse(`${blocker}: restart npm start to apply it`, { reason: blocker });
    const changes = describePolicyChange(running, next);
    if (changes.length === 0) return;
    running = next;
    props.apply(next);
    props.progress(`policies      reloaded: ${changes.join("; ")}`);
    props.log(logLine("local", "policies-reloaded", { changes }));
  };
  const watcher = watchPaths(props.paths, reload);
  return { current: () => running, reload, close: () => watcher.close() };
}
