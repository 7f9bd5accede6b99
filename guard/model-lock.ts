import { JsonObject } from "./json-body";

/**
 * Registry writes that the promotion rules decide, serialised per registered model within this guard: from the
 * guard's reading of MLflow's state to MLflow's answer, no other decided write of the same model runs. Without
 * it, a write decided on a state another write is about to change (a version moved out of Production while it
 * was Archived, a model renamed under a decided transition) would reach MLflow. Guards of several tasks do not
 * share it (docs/guard.md).
 */
export class ModelLock {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Waits until no other holder of any of `names` is left, then holds them all; the returned function releases
   * them (once; later calls do nothing). Names are compared without regard to ASCII case, as a database with a
   * case-insensitive collation would; holding several names at once is done in one step, so two holders of the
   * same names never wait on each other.
   */
  async acquire(names: readonly string[]): Promise<() => void> {
    const keys = [...new Set(names.map((n) => n.replace(/[A-Z]/g, (c) => c.toLowerCase())))];
    const before = keys.map((k) => this.tails.get(k) ?? Promise.resolve());
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    for (const k of keys) this.tails.set(k, held);
    await Promise.all(before);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      for (const k of keys) if (this.tails.get(k) === held) this.tails.delete(k);
    };
  }

  /** Names held or awaited now (for tests). */
  get size(): number {
    return this.tails.size;
  }
}

/** The registered models a decided registry write touches: its `name`, and a rename's `new_name`. */
export function modelNamesOf(body: JsonObject | undefined): string[] {
  return [body?.name, body?.new_name].filter((n): n is string => typeof n === "string");
}
