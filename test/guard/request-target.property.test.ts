import { execFileSync } from "child_process";
import fc from "fast-check";
import { join } from "path";
import { readRequestTarget, RequestTarget } from "../../guard/request-target";
import { buildCanonicalUri } from "../../gateway/sigv4";
import { VENV_PYTHON } from "../../project/paths";
import { target } from "../support/request-targets";

// Properties of how the guard reads a request target, against a reference: the pinned MLflow server's own
// reading (h11, uvicorn, Starlette, werkzeug), computed for every generated target in one Python process
// (support/read-paths.py). Whatever the guard lets through, MLflow must read exactly as the guard did,
// since API Gateway authorized that path and MLflow routes on it.

const read = (t: string): RequestTarget | undefined => {
  const r = readRequestTarget(t);
  return r.ok ? r.target : undefined;
};

type Reading = { path: string } | { rejected: string };

function mlflowReadings(targets: readonly string[]): Reading[] {
  const out = execFileSync(VENV_PYTHON, [join(__dirname, "support", "read-paths.py")], {
    input: JSON.stringify(targets),
    env: { PATH: process.env.PATH ?? "", PYTHONWARNINGS: "ignore" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out.toString("utf8")) as Reading[];
}

/** Each segment of a read path percent-encoded again: what a client that means this path sends. */
const reencode = (path: string): string =>
  path
    .split("/")
    .map((s) => encodeURIComponent(s))
    .join("/");

describe("readRequestTarget (the guard's reading of a request target)", () => {
  // Prepare: one batch of generated targets, read by MLflow's stack once
  const targets = fc.sample(target, { numRuns: 3000, seed: 7 });
  const readings = mlflowReadings(targets);

  test("agrees with MLflow's own reading of every target it accepts", () => {
    // Act
    const disagreements: { target: string; gateway: string; mlflow: Reading }[] = [];
    let compared = 0;
    targets.forEach((t, i) => {
      const gateway = read(t);
      const mlflow = readings[i] as Reading;
      if (gateway === undefined || "rejected" in mlflow) return;
      compared++;
      if (gateway.path !== mlflow.path) disagreements.push({ target: t, gateway: gateway.path, mlflow });
    });
    // Assess: no disagreement, over enough accepted targets for the check to mean something
    expect(disagreements.slice(0, 5)).toEqual([]);
    expect(compared).toBeGreaterThan(targets.length / 5);
  });

  test("accepts nothing MLflow would read with an empty, '.' or '..' segment, a backslash or a NUL", () => {
    for (const t of targets) {
      const gateway = read(t);
      if (gateway === undefined) continue;
      expect(gateway.path).not.toMatch(/[\\\0]|\/\/|\/\.\.?(\/|$)/);
    }
  });

  test("is a fixed point: the path it reads, encoded again and re-read, reads the same", () => {
    fc.assert(
      fc.property(target, (t) => {
        const first = read(t);
        if (first === undefined) return;
        const again = read(reencode(first.path));
        expect(again?.path).toBe(first.path);
      }),
      { numRuns: 2000, seed: 11 },
    );
  });

  test("never throws, whatever the string", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), target), (t) => {
        expect(() => read(t)).not.toThrow();
      }),
      { numRuns: 2000, seed: 13 },
    );
  });
});

describe("the path a SigV4 signature covers", () => {
  test("is the path the guard lets MLflow route, for every target the guard accepts", () => {
    fc.assert(
      fc.property(target, (t) => {
        // Prepare
        const accepted = read(t);
        if (accepted === undefined) return;
        const canonical = buildCanonicalUri(accepted.rawPath);
        if (canonical === undefined) return;
        // Assess: the canonical URI is each raw segment encoded once more; decoding it twice gives the read path
        expect(decodeURIComponent(decodeURIComponent(canonical))).toBe(accepted.path);
      }),
      { numRuns: 2000, seed: 17 },
    );
  });
});
