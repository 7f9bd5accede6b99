/**
 * How many bytes of request bodies the guard may hold at once, over all requests: each body it reads
 * whole (to stamp, audit or check it) is at most API Gateway's 10 MB, but many at once would take the
 * memory the guard shares with MLflow in its task. Past the budget a request waits for nothing: it is
 * answered 503, and its client retries. Pure.
 */
export interface ByteBudget {
  /** Reserves `bytes`; the release function gives them back (once, however often it is called). */
  tryReserve(bytes: number): (() => void) | undefined;
  /** Bytes reserved now. */
  readonly reserved: number;
}

/**
 * The default budget: six bodies of API Gateway's largest size at once. Parsed JSON takes a few times its
 * bytes, so this is a few hundred MiB of the task's memory at worst.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

export function createByteBudget(limit: number): ByteBudget {
  let reserved = 0;
  return {
    tryReserve(bytes) {
      if (reserved + bytes > limit) return undefined;
      reserved += bytes;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        reserved -= bytes;
      };
    },
    get reserved() {
      return reserved;
    },
  };
}
