// What the figures were measured on: hardware, versions, and how busy the machine was.
import { execFileSync } from "child_process";
import { arch, cpus, loadavg, platform, release, totalmem } from "os";
import { VENV_PYTHON } from "../../project/paths";

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly python: string;
  readonly mlflow: string;
}

function pythonVersions(): { python: string; mlflow: string } {
  try {
    const out = execFileSync(
      VENV_PYTHON,
      ["-c", "import sys, importlib.metadata as m; print(sys.version.split()[0]); print(m.version('mlflow'))"],
      { encoding: "utf8" },
    );
    const [python, mlflow] = out.trim().split("\n");
    return { python: python ?? "unknown", mlflow: mlflow ?? "unknown" };
  } catch {
    return { python: "unknown", mlflow: "unknown" };
  }
}

export function describeMachine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    ...pythonVersions(),
  };
}

/** The 1, 5 and 15 minute load averages. */
export const loadAverage = (): [number, number, number] =>
  loadavg().map((l) => Math.round(l * 100) / 100) as [number, number, number];
