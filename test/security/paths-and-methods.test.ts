import { demoAccessToken, startTestStack, TestStack } from "../integration/support/stack";
import { pathTricks } from "./support/tricks";
import {
  expectRefused,
  logEntryOf,
  mlflowState,
  refusedByGuard,
  privateCall,
  RawRequest,
  RawResponse,
  sendRaw,
  signHeaders,
} from "./support/attack";

// Attacks on how the gateway reads a request, against the real local stack: users and roles whose
// credentials are valid try writes their group may not do, through path, method and body tricks, on
// both mounts (/ajax-api with a Cognito token, /api signed with SigV4). Every attempt must get a 4xx,
// never an allow, and leave MLflow as it was (read on its private port). Then an admin, who may do
// everything, sends the same tricks: wherever the gateway forwards, the guard refuses a path MLflow could
// read otherwise, or MLflow must have read it as the gateway did (the route the gateway authorized is the
// one MLflow ran, or MLflow found none).

type Actor = "reader" | "model-approver" | "admin";
const PROFILE: Record<Actor, string> = {
  reader: "mlflow-reader",
  "model-approver": "mlflow-model-approver",
  admin: "mlflow-admin",
};

let t: TestStack;
const tokens = {} as Record<Actor, string>;
let seed: { experimentId: string; victimId: string; runId: string; model: string };
let before: string;

beforeAll(async () => {
  t = await startTestStack();
  for (const actor of ["reader", "model-approver", "admin"] as const) {
    tokens[actor] = await demoAccessToken(t, actor);
  }
  // Seeded on the private MLflow: an experiment with a run and a metric, a registered model with a
  // version, and a victim experiment the admin deletes (and that is restored after each attempt).
  const experimentId = (await privateCall(t, "POST", "/api/2.0/mlflow/experiments/create", { name: "target" }))
    .experiment_id;
  const victimId = (await privateCall(t, "POST", "/api/2.0/mlflow/experiments/create", { name: "victim" }))
    .experiment_id;
  const runId = (
    await privateCall(t, "POST", "/api/2.0/mlflow/runs/create", { experiment_id: experimentId, start_time: 1 })
  ).run.info.run_id;
  await privateCall(t, "POST", "/api/2.0/mlflow/runs/log-metric", {
    run_id: runId,
    key: "loss",
    value: 0.5,
    timestamp: 1,
    step: 0,
  });
  await privateCall(t, "POST", "/api/2.0/mlflow/registered-models/create", { name: "target-model" });
  await privateCall(t, "POST", "/api/2.0/mlflow/model-versions/create", {
    name: "target-model",
    source: `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model`,
    run_id: runId,
  });
  seed = { experimentId, victimId, runId, model: "target-model" };
  before = await mlflowState(t);
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

const gateway = () => t.stack.summary.gatewayUrl;

/**
 * Sends a request as an actor, for the given mount: for /api signed with the actor's role keys (for
 * the path as it goes on the wire, whatever trick it holds), for /ajax-api with the actor's token.
 */
async function send(
  actor: Actor,
  mount: (typeof MOUNTS)[number],
  method: string,
  target: string,
  body: string,
  extra: [string, string][] = [],
): Promise<RawResponse> {
  const originForm = target.replace(/^[a-z]+:\/\/[^/]*/i, "");
  const q = originForm.indexOf("?");
  const wirePath = q < 0 ? originForm : originForm.slice(0, q);
  const query = q < 0 ? "" : originForm.slice(q + 1);
  let headers: [string, string][];
  if (mount === "api") {
    const p = t.stack.principals.find((x) => x.name === PROFILE[actor])!;
    headers = await signHeaders(t, method.toUpperCase(), wirePath, query, body, p);
  } else {
    headers = [
      ["Authorization", `Bearer ${tokens[actor]}`],
      ["Content-Type", "application/json"],
    ];
  }
  const request: RawRequest = { method, target, headers: [...headers, ...extra], body };
  return sendRaw(gateway(), request);
}

interface DeniedWrite {
  readonly name: string;
  readonly actor: Actor;
  readonly method: string;
  /** The route below the mount. */
  readonly rest: string;
  readonly body: () => unknown;
}

const DENIED_WRITES: DeniedWrite[] = [
  {
    name: "a reader deleting an experiment",
    actor: "reader",
    method: "POST",
    rest: "2.0/mlflow/experiments/delete",
    body: () => ({ experiment_id: seed.experimentId }),
  },
  {
    name: "a reader logging a metric",
    actor: "reader",
    method: "POST",
    rest: "2.0/mlflow/runs/log-metric",
    body: () => ({ run_id: seed.runId, key: "loss", value: 9, timestamp: 2, step: 1 }),
  },
  {
    name: "a reader promoting a model version",
    actor: "reader",
    method: "POST",
    rest: "2.0/mlflow/model-versions/transition-stage",
    body: () => ({ name: seed.model, version: "1", stage: "Production", archive_existing_versions: true }),
  },
  {
    name: "a model approver deleting a registered model",
    actor: "model-approver",
    method: "DELETE",
    rest: "2.0/mlflow/registered-models/delete",
    body: () => ({ name: seed.model }),
  },
];

/** Ways to write a route's path so that someone might read it as another route, or not as this one. */
const TRICKS = () => pathTricks(() => t.stack.summary.mlflowPrivateUrl);

const MOUNTS = ["api", "ajax-api"] as const;

describe.each(DENIED_WRITES)("path tricks: $name", (write) => {
  test.each(MOUNTS)("the plain request on /%s: 403", async (mount) => {
    // Act
    const r = await send(write.actor, mount, write.method, `/${mount}/${write.rest}`, JSON.stringify(write.body()));
    // Assess
    expect(r.status).toBe(403);
    expect(logEntryOf(t, r)).toMatchObject({
      decision: "deny",
      groups: [write.actor === "reader" ? "readers" : "model-approvers"],
    });
    expect(await mlflowState(t)).toBe(before);
  });

  describe.each(MOUNTS)("on /%s", (mount) => {
    test.each(TRICKS())("%s: 4xx, and MLflow unchanged", async (_name, trick) => {
      // Act
      const r = await send(write.actor, mount, write.method, trick(mount, write.rest), JSON.stringify(write.body()));
      // Assess
      await expectRefused(t, r, before);
    });
  });
});

describe.each(MOUNTS)(
  "an admin sends every trick on /%s: the guard refuses it, or MLflow reads the path as the gateway did",
  (mount) => {
    const rest = "2.0/mlflow/experiments/delete";

    const victimStage = async (): Promise<string> =>
      (await privateCall(t, "GET", `/api/2.0/mlflow/experiments/get?experiment_id=${seed.victimId}`)).experiment
        .lifecycle_stage;
    /** Restoring changes the victim's last_update_time: the baseline of later tests moves with it. */
    const restoreVictim = async () => {
      await privateCall(t, "POST", "/api/2.0/mlflow/experiments/restore", { experiment_id: seed.victimId });
      before = await mlflowState(t);
    };

    test("the control: the plain request deletes the victim experiment", async () => {
      // Act
      const r = await send(
        "admin",
        mount,
        "POST",
        `/${mount}/${rest}`,
        JSON.stringify({ experiment_id: seed.victimId }),
      );
      // Assess
      expect(r.status).toBe(200);
      expect(logEntryOf(t, r)).toMatchObject({ decision: "allow", action: "DeleteExperiment" });
      expect(await victimStage()).toBe("deleted");
      await restoreVictim();
    });

    test.each(TRICKS())("%s", async (_name, trick) => {
      // Prepare
      const start = before;
      // Act
      const r = await send(
        "admin",
        mount,
        "POST",
        trick(mount, rest),
        JSON.stringify({ experiment_id: seed.victimId }),
      );
      const deleted = (await victimStage()) === "deleted";
      const after = await mlflowState(t);
      const entry = logEntryOf(t, r);
      if (deleted) await restoreVictim();
      // Assess: never a 5xx; the guard refuses what MLflow could read otherwise (400, MLflow unchanged);
      // MLflow deleted the experiment exactly when the gateway authorized DeleteExperiment and the guard
      // let it through, and a forwarded path the gateway found no route for is one MLflow finds none for either
      expect(r.status).toBeLessThan(500);
      const refusedByGuard = r.headers["x-mlflow-gate-refused-by"] === "guard";
      if (refusedByGuard) expect(r.status).toBe(400);
      expect(deleted).toBe(!refusedByGuard && entry?.decision === "allow" && entry.action === "DeleteExperiment");
      if (!deleted) expect(after).toBe(start);
      if (!refusedByGuard && entry?.decision === "allow" && entry.action === undefined) expect(r.status).toBe(404);
    });
  },
);

describe("method tricks", () => {
  describe.each(MOUNTS)("on /%s, a reader", (mount) => {
    const deleteBody = () => JSON.stringify({ experiment_id: seed.experimentId });

    test.each(["post", "Post", "delete", "pOST"])(
      "the method written %s on a write route: 4xx, and MLflow unchanged",
      async (method) => {
        const r = await send("reader", mount, method, `/${mount}/2.0/mlflow/experiments/delete`, deleteBody());
        await expectRefused(t, r, before);
      },
    );

    test.each(["HEAD", "OPTIONS", "TRACE", "PROPFIND", "PURGE"])(
      "%s on a write route: 4xx, and MLflow unchanged",
      async (method) => {
        const r = await send(
          "reader",
          mount,
          method,
          `/${mount}/2.0/mlflow/experiments/delete`,
          method === "HEAD" ? "" : deleteBody(),
        );
        await expectRefused(t, r, before);
      },
    );

    test.each(["HEAD", "OPTIONS"])("%s on a read route: 4xx (no such method at the gateway)", async (method) => {
      const r = await send(
        "reader",
        mount,
        method,
        `/${mount}/2.0/mlflow/experiments/get?experiment_id=${seed.experimentId}`,
        "",
      );
      await expectRefused(t, r, before);
    });

    // The guard refuses the override headers servers are known to honour; MLflow honours none of them.
    test.each([
      ["X-HTTP-Method-Override", 400],
      ["X-HTTP-Method", 400],
      ["X-Method-Override", 400],
      ["X-Original-Method", 200],
    ])("%s: DELETE on an allowed search deletes nothing", async (header, status) => {
      const r = await send(
        "reader",
        mount,
        "POST",
        `/${mount}/2.0/mlflow/experiments/search`,
        JSON.stringify({ max_results: 1 }),
        [[header, "DELETE"]],
      );
      expect(r.status).toBe(status);
      if (status === 400) expect(r.headers["x-mlflow-gate-refused-by"]).toBe("guard");
      expect(await mlflowState(t)).toBe(before);
    });

    test("_method=DELETE in the query of an allowed search deletes nothing", async () => {
      const r = await send(
        "reader",
        mount,
        "POST",
        `/${mount}/2.0/mlflow/experiments/search?_method=DELETE`,
        JSON.stringify({ max_results: 1 }),
      );
      expect(r.status).toBeLessThan(500);
      expect(await mlflowState(t)).toBe(before);
    });

    test.each(["X-Original-URL", "X-Rewrite-URL"])(
      "%s naming the delete route on an allowed search: nothing deleted",
      async (header) => {
        const r = await send("reader", mount, "POST", `/${mount}/2.0/mlflow/experiments/search`, deleteBody(), [
          [header, `/${mount}/2.0/mlflow/experiments/delete`],
        ]);
        expect(r.status).toBeLessThan(500);
        expect(await mlflowState(t)).toBe(before);
      },
    );

    test("GET on a write route with X-HTTP-Method-Override: POST: 4xx, and MLflow unchanged", async () => {
      const r = await send(
        "reader",
        mount,
        "GET",
        `/${mount}/2.0/mlflow/experiments/delete?experiment_id=${seed.experimentId}`,
        "",
        [["X-HTTP-Method-Override", "POST"]],
      );
      await expectRefused(t, r, before);
    });

    test("regression: a GET with a JSON body and no query on a read route: the guard's 400, whatever the body asks", async () => {
      // Prepare: MLflow would read this body as the parameters of GetExperimentByName
      const body = JSON.stringify({ experiment_name: "target" });
      // Act
      const r = await send("reader", mount, "GET", `/${mount}/2.0/mlflow/experiments/get-by-name`, body);
      // Assess: API Gateway passes it on; the guard refuses it
      expect(r.status).toBe(400);
      expect(refusedByGuard(r)).toBe(true);
      expect(JSON.parse(r.body)).toMatchObject({ error_code: "BAD_REQUEST", reason: "get-with-body" });
    });

    test("regression: a GET with a chunked JSON body: refused too", async () => {
      const json = JSON.stringify({ experiment_name: "target" });
      const r = await send(
        "reader",
        mount,
        "GET",
        `/${mount}/2.0/mlflow/experiments/get-by-name`,
        `${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n`,
        [["Transfer-Encoding", "chunked"]],
      );
      // Refused: by the guard (400), or on /api before it, since the signature covered the chunks' framing.
      await expectRefused(t, r, before);
      if (r.status === 400) expect(refusedByGuard(r)).toBe(true);
    });
  });

  test("why: MLflow itself reads a GET's body when the query is empty (on its private port)", async () => {
    // Act
    const r = await sendRaw(t.stack.summary.mlflowPrivateUrl, {
      method: "GET",
      target: "/api/2.0/mlflow/experiments/get-by-name",
      headers: [["Content-Type", "application/json"]],
      body: JSON.stringify({ experiment_name: "target" }),
    });
    // Assess: if this ever fails, MLflow stopped reading GET bodies and the guard's refusal is belt and braces
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).experiment.experiment_id).toBe(seed.experimentId);
  });
});

describe("bodies: one field spelled two ways (proto name and JSON name)", () => {
  test.each(MOUNTS)(
    "a reader's dual-spelled delete on /%s: 403 (the gateway decides on method and path, never the body)",
    async (mount) => {
      const body = JSON.stringify({ experiment_id: seed.victimId, experimentId: seed.experimentId });
      const r = await send("reader", mount, "POST", `/${mount}/2.0/mlflow/experiments/delete`, body);
      await expectRefused(t, r, before);
    },
  );

  test.each(MOUNTS)(
    "an admin's dual-spelled delete on /%s: MLflow refuses it with a 400 and deletes neither",
    async (mount) => {
      // Prepare
      const body = JSON.stringify({ experiment_id: seed.victimId, experimentId: seed.experimentId });
      // Act
      const r = await send("admin", mount, "POST", `/${mount}/2.0/mlflow/experiments/delete`, body);
      // Assess
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE" });
      expect(await mlflowState(t)).toBe(before);
    },
  );

  test.each(MOUNTS)(
    "an admin's dual-spelled search on /%s (a list field): 400, not a search of either",
    async (mount) => {
      const body = JSON.stringify({ experiment_ids: [seed.victimId], experimentIds: [seed.experimentId] });
      const r = await send("admin", mount, "POST", `/${mount}/2.0/mlflow/runs/search`, body);
      expect(r.status).toBe(400);
    },
  );
});

describe("Host header games", () => {
  test.each([
    ["MLflow's private address", () => new URL(t.stack.summary.mlflowPrivateUrl).host],
    ["an internal name", () => "mlflow.internal"],
    ["an empty Host", () => ""],
  ])("a reader's delete with Host set to %s: 4xx, and MLflow unchanged", async (_name, host) => {
    const r = await sendRaw(gateway(), {
      method: "POST",
      target: "/ajax-api/2.0/mlflow/experiments/delete",
      headers: [
        ["Host", host()],
        ["Authorization", `Bearer ${tokens.reader}`],
        ["Content-Type", "application/json"],
      ],
      body: JSON.stringify({ experiment_id: seed.experimentId }),
    });
    await expectRefused(t, r, before);
  });

  test("two Host headers: 4xx, and MLflow unchanged", async () => {
    const r = await sendRaw(gateway(), {
      method: "POST",
      target: "/ajax-api/2.0/mlflow/experiments/delete",
      headers: [
        ["Host", new URL(gateway()).host],
        ["Host", new URL(t.stack.summary.mlflowPrivateUrl).host],
        ["Authorization", `Bearer ${tokens.reader}`],
        ["Content-Type", "application/json"],
      ],
      body: JSON.stringify({ experiment_id: seed.experimentId }),
    });
    await expectRefused(t, r, before);
  });
});

describe("request framing", () => {
  const deleteRequest = (headers: [string, string][], body: string) =>
    sendRaw(gateway(), {
      method: "POST",
      target: "/ajax-api/2.0/mlflow/experiments/search",
      headers: [["Authorization", `Bearer ${tokens.reader}`], ["Content-Type", "application/json"], ...headers],
      body,
    });

  test("Content-Length and Transfer-Encoding together: 400, and MLflow unchanged", async () => {
    const smuggled = `POST /ajax-api/2.0/mlflow/experiments/delete HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n{"experiment_id":"${seed.experimentId}"}`;
    const r = await deleteRequest(
      [
        ["Content-Length", "4"],
        ["Transfer-Encoding", "chunked"],
      ],
      `0\r\n\r\n${smuggled}`,
    );
    await expectRefused(t, r, before);
  });

  test("two different Content-Length values: 400, and MLflow unchanged", async () => {
    const r = await deleteRequest(
      [
        ["Content-Length", "2"],
        ["Content-Length", "40"],
      ],
      `{}${JSON.stringify({ experiment_id: seed.experimentId }).padEnd(38)}`,
    );
    await expectRefused(t, r, before);
  });

  test("a chunked body holding a whole second request (an admin's delete) reaches MLflow as one body: nothing deleted", async () => {
    // Prepare: the reader's allowed search, whose chunk data ends with a complete request of another user
    const deleteBody = JSON.stringify({ experiment_id: seed.experimentId });
    const second = `POST /ajax-api/2.0/mlflow/experiments/delete HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokens.admin}\r\nContent-Type: application/json\r\nContent-Length: ${deleteBody.length}\r\n\r\n${deleteBody}`;
    const data = `{"max_results":1}\r\n\r\n${second}`;
    // Act
    const r = await deleteRequest(
      [["Transfer-Encoding", "chunked"]],
      `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n0\r\n\r\n`,
    );
    // Assess: the gateway re-frames the body with its length; MLflow reads one (unparseable) body
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(logEntryOf(t, r)).toMatchObject({ decision: "allow", action: "SearchExperiments" });
    expect(await mlflowState(t)).toBe(before);
  });
});

describe("GraphQL, which readers may POST", () => {
  test("its schema has no write: every mutation is a search or MLflow's echo (review readers' /graphql if this fails)", async () => {
    // Act: introspection through the gateway, as a reader
    const r = await sendRaw(gateway(), {
      method: "POST",
      target: "/graphql",
      headers: [
        ["Authorization", `Bearer ${tokens.reader}`],
        ["Content-Type", "application/json"],
      ],
      body: JSON.stringify({ query: "{ __schema { mutationType { fields { name } } } }" }),
    });
    // Assess
    expect(r.status).toBe(200);
    const fields = (
      JSON.parse(r.body) as { data: { __schema: { mutationType: { fields: { name: string }[] } } } }
    ).data.__schema.mutationType.fields.map((f) => f.name);
    expect(fields.filter((name) => !/^mlflowSearch[A-Z]/.test(name) && name !== "testMutation")).toEqual([]);
  });
});
