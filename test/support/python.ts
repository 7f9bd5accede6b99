import { VENV_PYTHON } from "../../project/paths";
import { ProcessRun, runProcess } from "./run-process";

/** Runs a Python script with the .venv interpreter without blocking the event loop (a server may run in this process). */
export function runPython(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<ProcessRun> {
  return runProcess(VENV_PYTHON, args, { env, timeoutMs });
}
