// The local stack's live reload of the group and team files: the watch on the files, the reload that puts a
// valid edit in force (what changed and what would need a restart: authorizer/core/policy-diff.ts), and a
// gateway whose policies can be replaced between two requests.
import { FSWatcher, watch } from "fs";
import type { IncomingMessage, ServerResponse } from "http";
import { GroupPolicyError } from "../authorizer/core/errors";
import { describePolicyChange, restartReason } from "../authorizer/core/policy-diff";
import type { PolicySet } from "../authorizer/core/policy-set";
import { LogSink, logLine } from "../common/log";
import type { Gateway } from "../gateway/server";

/**
 * Calls `onChange` once the files under `paths` (directories) have stopped changing for `debounceMs`: an
 * editor's save is a burst of events. A path that does not exist is not watched.
 */
export function watchPaths(
  paths: readonly string[],
  onChange: () => void,
  debounceMs = 150,
  /** Only changes of these names count (a file is watched through its directory: an editor replaces it). */
  only?: (name: string) => boolean,
): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  for (const path of paths) {
    try {
      const w = watch(path, { persistent: false }, (_event, name) => {
        if (only && (name === null || !only(String(name)))) return;
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
