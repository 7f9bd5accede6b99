import { Agent, Server } from "http";
import { Refusal } from "../../guard/answers";
import { registryLookup } from "../../guard/registry-lookup";
import { closeServer } from "../../common/http-server";
import { SeenRequest, startRecordingUpstream } from "../support/recording-upstream";

let upstream: Server;
let url: URL;
let seen: SeenRequest[] = [];
let answer = { status: 200, body: "{}" };
const agent = new Agent({ keepAlive: true });

beforeAll(async () => {
  ({ server: upstream, url } = await startRecordingUpstream(
    (r) => seen.push(r),
    () => ({ status: answer.status, headers: { "content-type": "application/json" }, body: answer.body }),
  ));
});
afterAll(async () => {
  agent.destroy();
  await closeServer(upstream);
});
beforeEach(() => {
  seen = [];
});

describe("registryLookup", () => {
  test("a version: MLflow's GetModelVersion, its stage, aliases and stamped creator", async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        model_version: { current_stage: "Staging", aliases: ["a"], tags: [{ key: "mlflow.user", value: "bob" }] },
      }),
    };
    expect(await registryLookup(url, agent).version("m x", "2")).toEqual({
      stage: "Staging",
      aliases: ["a"],
      creator: "bob",
    });
    expect(seen.map((q) => `${q.method} ${q.url}`)).toEqual([
      "GET /api/2.0/mlflow/model-versions/get?name=m+x&version=2",
    ]);
  });

  test("404: none; a 4xx with MLflow's message: the client's 400; anything else: 502", async () => {
    const lookup = registryLookup(url, agent);
    answer = { status: 404, body: "{}" };
    expect(await lookup.model("m")).toBeUndefined();
    answer = { status: 400, body: JSON.stringify({ error_code: "INVALID_PARAMETER_VALUE", message: "bad name" }) };
    await expect(lookup.model("a/b")).rejects.toEqual(
      new Refusal("promotion-lookup-refused", {
        status: 400,
        errorCode: "INVALID_PARAMETER_VALUE",
        message: "MLflow cannot read what this request names: bad name",
      }),
    );
    answer = { status: 500, body: "<html>" };
    await expect(lookup.model("m")).rejects.toMatchObject({ reason: "upstream-unreachable" });
    answer = { status: 200, body: JSON.stringify({ registered_model: { aliases: "not a list" } }) };
    await expect(lookup.model("m")).rejects.toMatchObject({ reason: "upstream-unreachable" });
  });

  test("a team's lookup asks MLflow in the team's workspace; without a team, MLflow's default", async () => {
    answer = { status: 200, body: JSON.stringify({ registered_model: { aliases: [], latest_versions: [] } }) };
    await registryLookup(url, agent, "team-a").model("m");
    await registryLookup(url, agent).model("m");
    expect(seen.map((q) => q.headers["x-mlflow-workspace"])).toEqual(["team-a", undefined]);
  });
});
