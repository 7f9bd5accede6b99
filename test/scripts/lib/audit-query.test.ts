import { AuditRecord } from "../../../guard/audit";
import { formatAuditRecord, matchesAudit, parseAuditLine, parseSince } from "../../../scripts/lib/audit-query";
import { CliUsageError } from "../../../scripts/lib/cli-errors";

const RECORD: AuditRecord = {
  time: "2026-12-04T10:00:00.000Z",
  level: "info",
  component: "guard",
  event: "audit",
  requestId: "r",
  surface: "iam",
  principal: "arn:aws:iam::000000000000:user/mlflow-admin",
  username: "arn:aws:iam::000000000000:user/mlflow-admin",
  groups: [],
  caller: "user/mlflow-admin",
  action: "CreateModelVersion",
  method: "POST",
  path: "/api/2.0/mlflow/model-versions/create",
  resources: { model: "churn", version: "3", run: "abc" },
  status: 200,
  decision: "forwarded",
  latencyMs: 12,
};
const NOW = new Date("2026-12-04T12:00:00Z");

test("parseSince reads dates, times and spans back from now", () => {
  expect(parseSince("2h", NOW)).toEqual(new Date("2026-12-04T10:00:00Z"));
  expect(parseSince("7d", NOW)).toEqual(new Date("2026-11-27T12:00:00Z"));
  expect(parseSince("2026-12-01", NOW)).toEqual(new Date("2026-12-01T00:00:00Z"));
  expect(parseSince("2026-12-01T10:00:00Z", NOW)).toEqual(new Date("2026-12-01T10:00:00Z"));
  for (const bad of ["yesterday", "2h ago", "12", "2026-13-45"])
    expect(() => parseSince(bad, NOW)).toThrow(CliUsageError);
});

test("parseAuditLine keeps audit records only", () => {
  expect(parseAuditLine(JSON.stringify(RECORD))).toEqual(RECORD);
  expect(parseAuditLine('{"component":"guard","event":"started"}')).toBeUndefined();
  expect(parseAuditLine('{"event":"audit"')).toBeUndefined();
  expect(parseAuditLine("")).toBeUndefined();
});

test("matchesAudit combines the filters; --user matches the stamped name, the username or the ARN", () => {
  expect(matchesAudit(RECORD, { model: "churn", run: "abc" })).toBe(true);
  expect(matchesAudit(RECORD, { model: "other" })).toBe(false);
  const rename = { ...RECORD, action: "RenameRegisteredModel", resources: { model: "churn", newModel: "churn-v2" } };
  expect(matchesAudit(rename, { model: "churn-v2" })).toBe(true);
  expect(matchesAudit(RECORD, { user: "user/mlflow-admin" })).toBe(true);
  expect(matchesAudit(RECORD, { user: RECORD.principal! })).toBe(true);
  expect(matchesAudit(RECORD, { user: "mlflow-admin" })).toBe(false);
  expect(matchesAudit(RECORD, { since: new Date("2026-12-04T10:00:00Z") })).toBe(true);
  expect(matchesAudit(RECORD, { since: new Date("2026-12-04T10:00:01Z") })).toBe(false);
  expect(matchesAudit(RECORD, { refusedOnly: true })).toBe(false);
});

test("formatAuditRecord: when, who, what, outcome, resources", () => {
  expect(formatAuditRecord(RECORD)).toBe(
    "2026-12-04T10:00:00.000Z  user/mlflow-admin  CreateModelVersion  200  model=churn version=3 run=abc",
  );
  expect(
    formatAuditRecord({ ...RECORD, decision: "refused", status: 400, reason: "stamp-refused", resources: {} }),
  ).toBe("2026-12-04T10:00:00.000Z  user/mlflow-admin  CreateModelVersion  refused 400 stamp-refused");
});
