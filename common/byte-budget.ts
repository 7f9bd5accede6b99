// How many bytes of request bodies a server holds at once, over all its requests: the guard's and the
// emulator's. Past the budget a request waits for nothing: it is refused, and its client retries. Pure.

export interface ByteBudget {
  /** Reserves `bytes`; the release function gives them back (once, however often it is called). */
  tryReserve(bytes: number): (() => void) | undefined;
  /** Bytes reserved now. */
  readonly reserved: number;
}

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
