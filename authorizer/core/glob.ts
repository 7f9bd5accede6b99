import { parsePathTemplate } from "./catalog";

/**
 * IAM resource globs and an exact emptiness test for "can this glob match a request of that route?".
 * In IAM, `*` matches any run of characters (slashes included) and `?` exactly one.
 */

export function globToRegExp(glob: string, flags = ""): RegExp {
  const body = [...glob]
    .map((c) => (c === "*" ? "[\\s\\S]*" : c === "?" ? "[\\s\\S]" : c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, flags);
}

type CharClass = { readonly lit: string } | "any" | "notSlash";

interface Nfa {
  readonly moves: { readonly on: CharClass; readonly to: number }[][];
  readonly epsilon: number[][];
  readonly accept: number;
}

function newNfa(size: number): { moves: { on: CharClass; to: number }[][]; epsilon: number[][] } {
  return { moves: Array.from({ length: size }, () => []), epsilon: Array.from({ length: size }, () => []) };
}

function globNfa(glob: string): Nfa {
  // UTF-16 units, as the evaluator's RegExp (globToRegExp, no `u` flag) reads a glob and a request.
  const chars = glob.split("");
  const nfa = newNfa(chars.length + 1);
  chars.forEach((c, i) => {
    if (c === "*") {
      nfa.moves[i]!.push({ on: "any", to: i });
      nfa.epsilon[i]!.push(i + 1);
    } else {
      nfa.moves[i]!.push({ on: c === "?" ? "any" : { lit: c }, to: i + 1 });
    }
  });
  return { ...nfa, accept: chars.length };
}

/**
 * The requests of a route, as the resource suffix API Gateway builds: `VERB` + path. With `extraSlashes`, the
 * requests API Gateway routes to an API resource of that template: it matches a path by its non-empty parts, so
 * any `/` may be repeated and more may follow.
 */
export function routeNfa(method: string, pathTemplate: string, extraSlashes = false): Nfa {
  const steps: ({ lit: string } | "segment" | "greedy")[] = method.split("").map((c) => ({ lit: c }));
  for (const part of parsePathTemplate(pathTemplate)) {
    if (part.kind === "literal") steps.push(...part.text.split("").map((c) => ({ lit: c })));
    else steps.push(part.kind);
  }
  const nfa = newNfa(steps.length + 1);
  steps.forEach((s, i) => {
    if (s === "segment") {
      // one or more characters of one path segment
      nfa.moves[i]!.push({ on: "notSlash", to: i + 1 });
      nfa.moves[i + 1]!.push({ on: "notSlash", to: i + 1 });
    } else if (s === "greedy") {
      // any rest, possibly empty (Starlette's :path); a superset of werkzeug's
      nfa.moves[i]!.push({ on: "any", to: i });
      nfa.epsilon[i]!.push(i + 1);
    } else {
      nfa.moves[i]!.push({ on: s, to: i + 1 });
      if (extraSlashes && s.lit === "/" && i >= method.length) nfa.moves[i + 1]!.push({ on: s, to: i + 1 });
    }
  });
  if (!extraSlashes) return { ...nfa, accept: steps.length };
  // Trailing slashes: a state of their own, so that they never mix with a last parameter's characters.
  const trailing = steps.length + 1;
  nfa.moves.push([{ on: { lit: "/" }, to: trailing }]);
  nfa.epsilon.push([]);
  nfa.epsilon[steps.length]!.push(trailing);
  return { ...nfa, accept: trailing };
}

function overlap(a: CharClass, b: CharClass): boolean {
  if (typeof a === "object" && typeof b === "object") return a.lit === b.lit;
  if (typeof a === "object") return b === "any" || a.lit !== "/";
  if (typeof b === "object") return a === "any" || b.lit !== "/";
  return true;
}

function closure(nfa: Nfa, state: number): number[] {
  const out = [state];
  for (let i = 0; i < out.length; i++) for (const n of nfa.epsilon[out[i]!]!) if (!out.includes(n)) out.push(n);
  return out;
}

/** True when some string is accepted by both automata (product construction, breadth first). */
function intersects(a: Nfa, b: Nfa): boolean {
  const seen = new Set<number>();
  const width = b.moves.length;
  const queue: [number, number][] = [];
  const push = (x: number, y: number) => {
    for (const cx of closure(a, x)) {
      for (const cy of closure(b, y)) {
        const key = cx * width + cy;
        if (!seen.has(key)) {
          seen.add(key);
          queue.push([cx, cy]);
        }
      }
    }
  };
  push(0, 0);
  for (let i = 0; i < queue.length; i++) {
    const [x, y] = queue[i]!;
    if (x === a.accept && y === b.accept) return true;
    for (const ma of a.moves[x]!) for (const mb of b.moves[y]!) if (overlap(ma.on, mb.on)) push(ma.to, mb.to);
  }
  return false;
}

/** The literal text before the first wildcard or parameter: a cheap filter before the product. */
function literalPrefix(text: string, stop: RegExp): string {
  const i = text.search(stop);
  return i < 0 ? text : text.slice(0, i);
}

/** Whether a resource glob (`VERB/path…`) can match any request of the route. Exact. */
export function globIntersectsRoute(glob: string, method: string, pathTemplate: string): boolean {
  const g = literalPrefix(glob, /[*?]/);
  const r = literalPrefix(method + pathTemplate, /\{/);
  const n = Math.min(g.length, r.length);
  if (g.slice(0, n) !== r.slice(0, n)) return false;
  return intersects(globNfa(glob), routeNfa(method, pathTemplate));
}

/** Whether two resource globs can match one same request: a Deny that overlaps an Allow can take part of it away. Exact. */
export function globsIntersect(a: string, b: string): boolean {
  const pa = literalPrefix(a, /[*?]/);
  const pb = literalPrefix(b, /[*?]/);
  const n = Math.min(pa.length, pb.length);
  if (pa.slice(0, n) !== pb.slice(0, n)) return false;
  return intersects(globNfa(a), globNfa(b));
}

/**
 * Whether a resource glob can match a request API Gateway routes to the API resource `resourcePath` with that
 * verb: its path's non-empty parts match the resource's (`//` and a trailing `/` route as `/` does). Exact.
 */
export function globIntersectsResource(glob: string, method: string, resourcePath: string): boolean {
  // Runs of `/` collapsed, the literal prefixes of both must agree (a prefix of a request collapses to a prefix of it).
  const g = literalPrefix(glob, /[*?]/).replace(/\/+/g, "/");
  const r = literalPrefix(method + resourcePath, /\{/);
  const n = Math.min(g.length, r.length);
  if (g.slice(0, n) !== r.slice(0, n)) return false;
  return intersects(globNfa(glob), routeNfa(method, resourcePath, true));
}
