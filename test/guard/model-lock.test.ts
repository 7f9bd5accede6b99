import { ModelLock } from "../../guard/model-lock";

const tick = () => new Promise((r) => setImmediate(r));

describe("ModelLock", () => {
  test("holders of one model run one after the other, in the order they asked; names compare without ASCII case", async () => {
    const lock = new ModelLock();
    const order: string[] = [];
    const first = await lock.acquire(["Model"]);
    const second = lock.acquire(["model"]).then((release) => {
      order.push("second");
      release();
    });
    await tick();
    order.push("first");
    first();
    await second;
    expect(order).toEqual(["first", "second"]);
    expect(lock.size).toBe(0);
  });

  test("other models do not wait; several names are held at once and released together, once", async () => {
    const lock = new ModelLock();
    const rename = await lock.acquire(["a", "b"]);
    let other = false;
    await lock.acquire(["c"]).then((release) => {
      other = true;
      release();
    });
    expect(other).toBe(true);
    let b = false;
    const waiting = lock.acquire(["b"]).then((release) => {
      b = true;
      release();
    });
    await tick();
    expect(b).toBe(false);
    rename();
    rename();
    await waiting;
    expect(b).toBe(true);
    expect(lock.size).toBe(0);
  });

  test("overlapping sets never wait on each other in a circle", async () => {
    const lock = new ModelLock();
    const held = await lock.acquire(["x"]);
    const both = lock.acquire(["x", "y"]);
    const y = lock.acquire(["y"]);
    held();
    (await both)();
    (await y)();
    expect(lock.size).toBe(0);
  });
});
