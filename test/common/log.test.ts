import { jsonLineWriter, logLine } from "../../common/log";

test("logLine puts the head first: time, level, component, event, then the fields", () => {
  const line = logLine("stack", "started", { url: "http://127.0.0.1:8080" }, "info", new Date(0));
  expect(Object.keys(line)).toEqual(["time", "level", "component", "event", "url"]);
  expect(line).toMatchObject({ time: "1970-01-01T00:00:00.000Z", level: "info", component: "stack", event: "started" });
});

test("jsonLineWriter writes one JSON line per call, and a failing stream does not throw", () => {
  const out: string[] = [];
  jsonLineWriter({ write: (t) => out.push(t) })(logLine("guard", "started", {}, "info", new Date(0)));
  expect(out).toEqual(['{"time":"1970-01-01T00:00:00.000Z","level":"info","component":"guard","event":"started"}\n']);
  expect(() =>
    jsonLineWriter({
      write: () => {
        throw new Error("EPIPE");
      },
    })(logLine("x", "y")),
  ).not.toThrow();
});
