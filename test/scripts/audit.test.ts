import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { AuditRecord } from "../../guard/audit";
import { runCli } from "./support/run-cli";

// The audit command on a file of audit lines; the lines the guard writes are tested in test/guard, and the whole
// path (the real SDK, the guard, this command) in test/integration/promotion-audit.test.ts.

let dir: string;
let file: string;

function line(time: string, fields: Partial<AuditRecord>): string {
  const r: AuditRecord = {
    time: `2026-12-05T10:00:${time}.000Z`,
    level: "info",
    component: "guard",
    event: "audit",
    requestId: `req-${time}`,
    surface: "iam",
    principal: "arn:aws:iam::000000000000:user/mlflow-model-approver",
    username: "arn:aws:iam::000000000000:user/mlflow-model-approver",
    groups: [],
    caller: "user/mlflow-model-approver",
    sourceIp: "127.0.0.1",
    action: "TransitionModelVersionStage",
    method: "POST",
    path: "/api/2.0/mlflow/model-versions/transition-stage",
    resources: { model: "churn", version: "1", stage: "Staging" },
    status: 200,
    decision: "forwarded",
    latencyMs: 3,
    ...fields,
  };
  return JSON.stringify(r);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mlflow-gate-audit-cli-"));
  file = join(dir, "audit.jsonl");
  writeFileSync(
    file,
    [
      line("01", {
        action: "CreateModelVersion",
        caller: "user/mlflow-admin",
        resources: { model: "churn", version: "1" },
      }),
      line("02", { promotion: { kind: "transition", to: "Staging", from: "None", creator: "user/mlflow-admin" } }),
      '{"component":"guard","event":"started"}',
      line("03", {
        resources: { model: "churn", version: "1", stage: "production" },
        promotion: { kind: "transition", to: "Production", from: "Staging", message: "no promotion to Production" },
        status: 403,
        decision: "refused",
        reason: "promotion-stage-not-allowed",
      }),
      line("04", { action: "SetTag", resources: { model: "churn", tag: "k" } }),
      line("05", { resources: { model: "other", version: "1", stage: "Staging" } }),
      line("06", {
        action: "DeleteModelVersion",
        method: "DELETE",
        path: "/api/2.0/mlflow/model-versions/delete",
        resources: { model: "churn", version: "1" },
        promotion: { kind: "delete-version", from: "Staging", message: "no archiving from Staging" },
        status: 403,
        decision: "refused",
        reason: "promotion-stage-not-allowed",
      }),
      line("07", {
        action: "RenameRegisteredModel",
        path: "/api/2.0/mlflow/registered-models/rename",
        resources: { model: "churn", newModel: "churn-v2" },
        promotion: { kind: "rename" },
      }),
      "",
    ].join("\n"),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("mlflow-gate audit --model", () => {
  test("prints the model's promotions version by version, refusals with their message", async () => {
    const r = await runCli(["audit", "--model", "churn", "--file", file]);

    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("model churn: 4 promotion requests, 2 refused by the guard\n");
    expect(r.stdout).toContain("version 1  created 2026-12-05T10:00:01.000Z by user/mlflow-admin\n");
    expect(r.stdout).toMatch(/10:00:02\.000Z {2}user\/mlflow-model-approver {2}stage None -> Staging {8}done\n/);
    expect(r.stdout).toMatch(
      /stage Staging -> Production {2}refused 403 promotion-stage-not-allowed\n {20,}no promotion to Production\n/,
    );
    expect(r.stdout).not.toMatch(/SetTag|other/);
  });

  test("a version's deletion under the version, the model's rename after the versions; under the new name, where it came from", async () => {
    const r = await runCli(["audit", "--model", "churn", "--file", file]);
    const renamed = await runCli(["audit", "--model", "churn-v2", "--file", file]);

    expect(r.stdout).toMatch(
      /delete version \(in Staging\) +refused 403 promotion-stage-not-allowed\n {20,}no archiving from Staging\n\nwhole model \(deletions and renames\)\n/,
    );
    expect(r.stdout).toMatch(/10:00:07\.000Z {2}user\/mlflow-model-approver {2}rename to churn-v2 +done\n$/);
    expect(renamed.stdout).toBe(
      [
        "model churn-v2: 1 promotion request, 0 refused by the guard",
        "",
        "whole model (deletions and renames)",
        "  TIME                      WHO                         REQUEST             OUTCOME",
        "  2026-12-05T10:00:07.000Z  user/mlflow-model-approver  renamed from churn  done",
        "",
      ].join("\n"),
    );
  });

  test("--json: one object per request, in time order; the other filters select among them", async () => {
    const r = await runCli(["audit", "--model", "churn", "--json", "--refused", "--file", file]);

    expect(r.code).toBe(0);
    const entries = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toEqual([
      expect.objectContaining({
        model: "churn",
        version: "1",
        kind: "transition",
        from: "Staging",
        to: "Production",
        who: "user/mlflow-model-approver",
        outcome: "refused",
        reason: "promotion-stage-not-allowed",
        message: "no promotion to Production",
        requestId: "req-03",
      }),
      expect.objectContaining({
        model: "churn",
        version: "1",
        kind: "delete-version",
        from: "Staging",
        outcome: "refused",
        message: "no archiving from Staging",
        requestId: "req-06",
      }),
    ]);
  });

  test("--lines: every line about the model, as without --model", async () => {
    const r = await runCli(["audit", "--model", "churn", "--lines", "--file", file]);

    expect(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => l.split("  ")[2]),
    ).toEqual([
      "CreateModelVersion",
      "TransitionModelVersionStage",
      "TransitionModelVersionStage",
      "SetTag",
      "DeleteModelVersion",
      "RenameRegisteredModel",
    ]);
  });

  test("a model without promotions in the trail: nothing on stdout, one line on stderr", async () => {
    const r = await runCli(["audit", "--model", "nobody", "--file", file]);

    expect(r).toMatchObject({
      code: 0,
      stdout: "",
      stderr: "mlflow-gate: no promotion of nobody matches in the audit trail\n",
    });
  });

  test("--lines belongs to audit only", async () => {
    const r = await runCli(["policy", "lint", "--lines"]);
    expect(r.code).toBe(2);
  });
});
