import { parseSoakArgs } from "../../bench/soak";

test("defaults: 5 minutes of load, 2 loops per caller", () => {
  expect(parseSoakArgs([])).toEqual({ durationSeconds: 300, loopsPerCaller: 2 });
});

test("--duration and --loops are read", () => {
  expect(parseSoakArgs(["--duration", "180", "--loops", "3"])).toEqual({ durationSeconds: 180, loopsPerCaller: 3 });
});

test("every problem is listed at once: out of range, not a number, unknown option, stray argument", () => {
  // Act
  const error = (() => {
    try {
      parseSoakArgs(["--duration", "5", "--loops", "x", "--fast", "now"]);
    } catch (e) {
      return (e as Error).message;
    }
    return "";
  })();

  // Assess
  expect(error).toContain('--duration must be an integer from 10 to 3600, not "5"');
  expect(error).toContain('--loops must be an integer from 1 to 16, not "x"');
  expect(error).toContain("unknown option --fast");
  expect(error).toContain("unexpected argument now");
});
