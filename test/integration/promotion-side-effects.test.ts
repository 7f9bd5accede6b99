import { cpSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { GROUPS_DIR } from "../../project/paths";
import { OpResult, Plan, pluginOps, startTestStack, TestStack } from "./support/stack";

// The registry writes that change stages and aliases as a side effect (deleting a version or a model, renaming a
// model) through the whole stack, with the real MLflow SDK and the plugin: model approvers here may also delete
// and rename (their file grants the route rights), but their promotion block lets them move versions only to
// Staging and Archived, never out of Production, and touch any alias but champion and prod*. Deleting or
// renaming must not take what they could not take by the promotion routes. MLflow's state is read on its private
// port after every refusal.

let t: TestStack;
let groupsDir: string;
const name = `side-effects-${Date.now()}`;
const renamed = `${name}-renamed`;

const ops = (as: string, plan: Plan) => pluginOps(t.stack, as, plan);
const ok = (r: OpResult | undefined): unknown => {
  if (!r?.ok) throw new Error(`operation failed: ${r?.error}`);
  return r.value;
};

beforeAll(async () => {
  groupsDir = mkdtempSync(join(tmpdir(), "mlflow-gate-side-effects-groups-"));
  cpSync(GROUPS_DIR, groupsDir, { recursive: true });
  writeFileSync(
    join(groupsDir, "model-approvers.yaml"),
    [
      "description: Readers who govern the registry, deletions and renames included, within their promotion rules.",
      "extends: readers",
      "allow:",
      "  - class:registry-write",
      "  - class:registry-promote",
      "promotion:",
      "  stages: { to: [Staging, Archived], from: [None, Staging, Archived] }",
      '  aliases: { allow: ["*"], deny: [champion, "prod*"] }',
      "",
    ].join("\n"),
  );
  t = await startTestStack({ env: { MLFLOW_GATE_GROUPS_DIR: groupsDir } });
  // Version 1 in Production, version 2 (a copy of 1) holding champion, both the admin's.
  const r = await ops("mlflow-admin", [
    ["exp", "create_experiment", { name }],
    ["model", "log_large_model", { experiment_id: "$exp", name, sizes: [1024] }],
    ["copy", "copy_model_version", { src_model_uri: `models:/${name}/1`, dst_name: name }],
    ["prod", "transition_model_version_stage", { name, version: "1", stage: "Production" }],
    ["champion", "set_registered_model_alias", { name, alias: "champion", version: "2" }],
  ]);
  for (const step of ["model", "copy", "prod", "champion"]) ok(r[step]);
}, 300_000);
afterAll(async () => {
  await t?.stop();
  rmSync(groupsDir, { recursive: true, force: true });
});

interface Stored {
  stage: string;
  aliases: string[];
  creator: string | undefined;
}

/** A version as MLflow holds it, read on its private port; undefined when it has none. */
async function stored(model: string, version: string): Promise<Stored | undefined> {
  const r = await t.sdk("private", [["v", "get_model_version", { name: model, version }]]);
  if (!r.v?.ok) return undefined;
  const v = r.v.value as { current_stage: string; aliases: string[] | string; tags: Record<string, string> };
  // sdk_ops may report the alias list in Python's repr: ['a', 'b'].
  const aliases = typeof v.aliases === "string" ? (JSON.parse(v.aliases.replace(/'/g, '"')) as string[]) : v.aliases;
  return { stage: v.current_stage, aliases: [...aliases].sort(), creator: v.tags["mlflow.user"] };
}

async function modelExists(model: string): Promise<boolean> {
  const r = await t.sdk("private", [["m", "get_registered_model", { name: model }]]);
  return r.m?.ok === true;
}

describe("a model approver with the route rights (SigV4, its group from the guard's role table)", () => {
  test("cannot delete the version holding champion, nor the one in Production; MLflow's state is unchanged", async () => {
    const r = await ops("mlflow-model-approver", [
      ["champion", "delete_model_version", { name, version: "2" }],
      ["production", "delete_model_version", { name, version: "1" }],
    ]);
    expect(r.champion).toMatchObject({
      ok: false,
      status: 403,
      error: expect.stringContaining(
        `policies/groups/model-approvers.yaml allows no deleting alias champion (deleting version 2 of "${name}" removes alias champion of version 2)`,
      ),
    });
    expect(r.production).toMatchObject({
      ok: false,
      status: 403,
      error: expect.stringContaining("allows no move out of Production"),
    });
    expect(await stored(name, "1")).toMatchObject({ stage: "Production" });
    expect(await stored(name, "2")).toMatchObject({ aliases: ["champion"] });
  }, 120_000);

  test("cannot delete or rename the model around them; MLflow's state is unchanged", async () => {
    const r = await ops("mlflow-model-approver", [
      ["rename", "rename_registered_model", { name, new_name: renamed }],
      ["delete", "delete_registered_model", { name }],
    ]);
    for (const refused of [r.rename, r.delete])
      expect(refused).toMatchObject({
        ok: false,
        status: 403,
        error: expect.stringContaining("policies/groups/model-approvers.yaml allows no"),
      });
    expect(await modelExists(name)).toBe(true);
    expect(await modelExists(renamed)).toBe(false);
    expect(await stored(name, "1")).toMatchObject({ stage: "Production" });
    expect(await stored(name, "2")).toMatchObject({ aliases: ["champion"] });
  }, 120_000);

  test("copies a version (the copy is stamped with the approver, not the source's creator) and deletes it with its challenger alias", async () => {
    const r = await ops("mlflow-model-approver", [
      ["copy", "copy_model_version", { src_model_uri: `models:/${name}/1`, dst_name: name }],
      ["alias", "set_registered_model_alias", { name, alias: "challenger-1", version: "$copy.version" }],
    ]);
    const version = (ok(r.copy) as { version: string }).version;
    ok(r.alias);
    const source = await stored(name, "1");
    const copy = await stored(name, version);
    expect(copy).toMatchObject({ stage: "None", aliases: ["challenger-1"] });
    expect(copy?.creator).toMatch(/mlflow-model-approver/);
    expect(copy?.creator).not.toBe(source?.creator);

    const d = await ops("mlflow-model-approver", [["delete", "delete_model_version", { name, version }]]);
    ok(d.delete);
    expect(await stored(name, version)).toBeUndefined();
  }, 120_000);
});

test("an admin, whose file has no promotion block, renames and deletes the model", async () => {
  const r = await ops("mlflow-admin", [
    ["rename", "rename_registered_model", { name, new_name: renamed }],
    ["delete", "delete_registered_model", { name: renamed }],
  ]);
  ok(r.rename);
  ok(r.delete);
  expect(await modelExists(name)).toBe(false);
  expect(await modelExists(renamed)).toBe(false);
}, 120_000);
