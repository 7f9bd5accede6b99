import { readFileSync } from "fs";
import { join } from "path";
import { freezeVenv, loadPinnedMlflowVersion, lockedVersion } from "../../project/mlflow-venv";
import { PYTHON_CONSTRAINTS_FILE, REPO_ROOT } from "../../project/paths";

// The Python lock (infra/docker/mlflow-python/constraints.txt) that .venv and the MLflow image install with.

const lock = readFileSync(PYTHON_CONSTRAINTS_FILE, "utf8");

test("the lock pins the MLflow of MLFLOW_VERSION (else `npm run lock:python` was forgotten)", () => {
  expect(lockedVersion(lock, "mlflow")).toBe(loadPinnedMlflowVersion());
});

test("every pin of requirements-local.txt is the lock's version", () => {
  const pins = readFileSync(join(REPO_ROOT, "requirements-local.txt"), "utf8")
    .split("\n")
    .map((l) => /^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null);
  expect(pins.length).toBeGreaterThan(0);
  for (const [, name, version] of pins) expect([name, lockedVersion(lock, name!)]).toEqual([name, version]);
});

test("lockedVersion reads names as pip does: case, '-', '_' and '.' alike", () => {
  const text = "# a comment\nPyYAML==6.0.4\ntyping_extensions==4.16.0\nzope.interface==7.0\n";
  expect(lockedVersion(text, "pyyaml")).toBe("6.0.4");
  expect(lockedVersion(text, "typing-extensions")).toBe("4.16.0");
  expect(lockedVersion(text, "zope-interface")).toBe("7.0");
  expect(lockedVersion(text, "numpy")).toBeUndefined();
});

test(".venv holds exactly what the lock says (the suite runs what the image installs)", () => {
  expect(freezeVenv()).toBe(lock);
});
