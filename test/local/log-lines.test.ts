import { decisionLogger, parseLogLine } from "../../local/log-lines";

test("the local stack writes the authorizer's decisions and the guard's lines in the same shape", () => {
  const lines: unknown[] = [];
  decisionLogger((l) => lines.push(l)).info("authorizer decision", { decision: "allow", username: "alice" });
  expect(lines[0]).toMatchObject({ level: "info", component: "authorizer", event: "decision", decision: "allow" });
  expect(parseLogLine('{"time":"t","level":"info","component":"guard","event":"started"}', "guard")).toEqual({
    time: "t",
    level: "info",
    component: "guard",
    event: "started",
  });
  expect(parseLogLine("Error: boom", "guard")).toMatchObject({
    level: "warn",
    component: "guard",
    event: "output",
    text: "Error: boom",
  });
});
