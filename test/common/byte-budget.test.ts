import { createByteBudget } from "../../common/byte-budget";

test("reserves up to the limit, refuses past it, and takes back what is released, once", () => {
  // Prepare
  const budget = createByteBudget(10);

  // Act
  const a = budget.tryReserve(6);
  const b = budget.tryReserve(5);
  const c = budget.tryReserve(4);
  a?.();
  a?.();
  const d = budget.tryReserve(6);

  // Assess
  expect(a).toBeDefined();
  expect(b).toBeUndefined();
  expect(c).toBeDefined();
  expect(d).toBeDefined();
  expect(budget.reserved).toBe(10);
});
