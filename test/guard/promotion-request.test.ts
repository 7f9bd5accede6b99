import { readPromotionRequest } from "../../guard/promotion-request";

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
