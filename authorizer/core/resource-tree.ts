// API Gateway's resources as a tree to match request paths against: the one matcher of the emulator (over the
// API definition it runs) and of `policy check` (over the definition's resources). Pure.

/** Resource paths that API Gateway cannot hold. */
export class ResourcePathError extends Error {
  override readonly name = "ResourcePathError";
}

interface Node<T> {
  readonly literals: Map<string, Node<T>>;
  variable?: { readonly name: string; readonly node: Node<T> };
  greedy?: { readonly name: string; readonly node: Node<T> };
  readonly methods: Map<string, T>;
}

export interface ResolvedResource<T> {
  readonly value: T;
  readonly resourcePath: string;
  /** The request's path parameters by name (a greedy one's value is the rest of the path as it came). */
  readonly pathParameters: Readonly<Record<string, string>>;
}

const newNode = <T>(): Node<T> => ({ literals: new Map(), methods: new Map() });

/** The request path's non-empty segments, each with where it starts: API Gateway routes `//` as `/`. */
function requestSegments(path: string): { readonly text: string; readonly start: number }[] {
  return [...path.matchAll(/[^/]+/g)].map((m) => ({ text: m[0], start: m.index ?? 0 }));
}

/**
 * Resources and their methods, matched as API Gateway matches them: at each path part a literal resource
 * before a `{param}` before a greedy `{param+}`, the next one when a branch has no resource for the rest of
 * the path; then the method on that resource, or `ANY`, or nothing.
 */
export class ResourceTree<T> {
  private readonly root = newNode<T>();
  private readonly paths = new Map<Node<T>, string>();

  /** Adds a method; a second one of the same resource and method replaces nothing and is an error. */
  add(resourcePath: string, httpMethod: string, value: T): void {
    const node = this.place(resourcePath);
    if (node.methods.has(httpMethod)) throw new ResourcePathError(`${httpMethod} ${resourcePath} is defined twice`);
    node.methods.set(httpMethod, value);
    this.paths.set(node, resourcePath);
  }

  resolve(httpMethod: string, path: string): ResolvedResource<T> | undefined {
    const found = this.resolveIn(path, this.root, requestSegments(path), 0, {});
    if (!found) return undefined;
    const value = found.node.methods.get(httpMethod) ?? found.node.methods.get("ANY");
    if (value === undefined) return undefined;
    return { value, resourcePath: this.paths.get(found.node) ?? "/", pathParameters: found.params };
  }

  private place(resourcePath: string): Node<T> {
    let node = this.root;
    const parts = resourcePath.split("/").filter((s) => s !== "");
    parts.forEach((part, i) => {
      const variable = /^\{([A-Za-z0-9._-]+)(\+?)\}$/.exec(part);
      if (!variable) {
        if (/[{}]/.test(part)) throw new ResourcePathError(`${resourcePath}: path part "${part}" is not valid`);
        let next = node.literals.get(part);
        if (!next) node.literals.set(part, (next = newNode()));
        node = next;
        return;
      }
      const name = variable[1] as string;
      const greedy = variable[2] === "+";
      if (greedy && i !== parts.length - 1)
        throw new ResourcePathError(`${resourcePath}: a greedy parameter must be the last path part`);
      const slot = greedy ? "greedy" : "variable";
      const existing = node[slot];
      if (existing && existing.name !== name)
        throw new ResourcePathError(`${resourcePath}: {${name}} beside {${existing.name}} under the same parent`);
      if (!existing) node[slot] = { name, node: newNode() };
      node = (node[slot] as { readonly node: Node<T> }).node;
    });
    return node;
  }

  private resolveIn(
    path: string,
    node: Node<T>,
    segments: readonly { readonly text: string; readonly start: number }[],
    i: number,
    params: Record<string, string>,
  ): { node: Node<T>; params: Record<string, string> } | undefined {
    if (i === segments.length) return node.methods.size > 0 ? { node, params } : undefined;
    const segment = segments[i] as { readonly text: string; readonly start: number };
    const literal = node.literals.get(segment.text);
    const viaLiteral = literal && this.resolveIn(path, literal, segments, i + 1, params);
    if (viaLiteral) return viaLiteral;
    if (node.variable) {
      const next = { ...params, [node.variable.name]: segment.text };
      const found = this.resolveIn(path, node.variable.node, segments, i + 1, next);
      if (found) return found;
    }
    // A greedy value is the rest of the path as it came, its inner `//` and final `/` kept.
    if (node.greedy && node.greedy.node.methods.size > 0)
      return { node: node.greedy.node, params: { ...params, [node.greedy.name]: path.slice(segment.start) } };
    return undefined;
  }
}
