import { JsonObject } from "../../guard/json-body";
import {
  isPromotionDecided,
  readPromotionRequest,
  readRegistryChangeRequest,
  RegistryChangeAction,
} from "../../guard/promotion-request";

describe("readPromotionRequest: the fields as MLflow reads them, held to what the guard can decide", () => {
  test("a transition: the stage in MLflow's spellings, the flag under either name", () => {
    expect(
      readPromotionRequest("TransitionModelVersionStage", { name: "m", version: "2", stage: "PRODUCTION" }),
    ).toEqual({
      ok: true,
      target: { name: "m", version: "2", request: { kind: "transition", to: "Production", archiveExisting: false } },
    });
    expect(
      readPromotionRequest("TransitionModelVersionStage", {
        name: "m",
        version: "2",
        stage: "staging",
        archiveExistingVersions: true,
      }),
    ).toMatchObject({ ok: true, target: { request: { to: "Staging", archiveExisting: true } } });
  });

  test.each([
    [{ name: "m", version: "2", stage: "Prod" }, /stage must be one of None, Staging, Production, Archived/],
    [{ name: "m", version: "2", stage: " Production" }, /not " Production"/],
    [{ name: "m", version: " 2", stage: "Staging" }, /version must be a version number/],
    [{ name: "m", version: "02", stage: "Staging" }, /version must be a version number/],
    [{ name: "m", version: 2, stage: "Staging" }, /version must be a non-empty string/],
    [{ name: "m", version: "2", stage: "Staging", archive_existing_versions: "true" }, /must be true or false/],
    [
      { name: "m", version: "2", stage: "Staging", archive_existing_versions: false, archiveExistingVersions: true },
      /archive_existing_versions is given twice/,
    ],
    [{ version: "2", stage: "Staging" }, /name must be a non-empty string/],
  ])("refuses %j", (body, message) => {
    expect(readPromotionRequest("TransitionModelVersionStage", body)).toEqual({
      ok: false,
      message: expect.stringMatching(message),
    });
  });

  test("aliases: set names a version, delete does not", () => {
    expect(readPromotionRequest("SetRegisteredModelAlias", { name: "m", alias: "champion", version: "3" })).toEqual({
      ok: true,
      target: { name: "m", version: "3", request: { kind: "set-alias", alias: "champion" } },
    });
    expect(readPromotionRequest("DeleteRegisteredModelAlias", { name: "m", alias: "champion", version: "3" })).toEqual({
      ok: true,
      target: { name: "m", request: { kind: "delete-alias", alias: "champion" } },
    });
    expect(readPromotionRequest("SetRegisteredModelAlias", { name: "m", alias: "", version: "3" })).toMatchObject({
      ok: false,
    });
  });
});

describe("readRegistryChangeRequest: the registry writes that take stages and aliases along", () => {
  test("the model, the version, the new name, as MLflow reads them", () => {
    expect(readRegistryChangeRequest("DeleteModelVersion", { name: "m", version: "12" })).toEqual({
      ok: true,
      target: { kind: "delete-version", name: "m", version: "12" },
    });
    expect(readRegistryChangeRequest("DeleteRegisteredModel", { name: "m" })).toEqual({
      ok: true,
      target: { kind: "delete-model", name: "m" },
    });
    expect(readRegistryChangeRequest("RenameRegisteredModel", { name: "m", new_name: "n" })).toEqual({
      ok: true,
      target: { kind: "rename-model", name: "m", newName: "n" },
    });
  });

  test.each([
    ["DeleteModelVersion", { name: "m", version: "+2" }, /version must be a version number/],
    ["DeleteModelVersion", { name: "m", version: 2 }, /version must be a non-empty string/],
    ["DeleteRegisteredModel", { name: ["m"] }, /name must be a non-empty string/],
    // MLflow requires the proto name: newName alone is its 400 too.
    ["RenameRegisteredModel", { name: "m", newName: "n" }, /new_name must be a non-empty string/],
    ["RenameRegisteredModel", { name: "m", new_name: "n", newName: "n" }, /new_name is given twice/],
  ] as [RegistryChangeAction, JsonObject, RegExp][])("%s %j: refused", (action, body, message) => {
    expect(readRegistryChangeRequest(action, body)).toEqual({ ok: false, message: expect.stringMatching(message) });
  });

  test("the guard reads these routes' bodies as it reads the promotion routes'", () => {
    for (const action of [
      "DeleteModelVersion",
      "DeleteRegisteredModel",
      "RenameRegisteredModel",
      "SetRegisteredModelAlias",
    ])
      expect(isPromotionDecided(action)).toBe(true);
    expect(isPromotionDecided("UpdateModelVersion")).toBe(false);
  });
});
