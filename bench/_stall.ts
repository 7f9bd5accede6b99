import { mkdtempSync, rmSync } from "fs";
import { Agent, request } from "http";
import { tmpdir } from "os";
import { join } from "path";
import { parseStackConfig } from "../gateway/config";
import { startStack } from "../gateway/stack";
async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-stall-"));
  const stack = await startStack(parseStackConfig({ MLFLOW_GATE_DATA: dataDir, MLFLOW_GATE_PORT: "0", MLFLOW_GATE_USER_POOL_PORT: "0" }), { progress: () => undefined, accessLog: () => undefined, authorizerLogger: { info: () => undefined, error: () => undefined } });
  try {
    const u = new URL(stack.summary.mlflowPrivateUrl);
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const t00 = performance.now();
    const slow: string[] = [];
    const end = t00 + 15000;
    let n = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await new Promise<void>((res) => { const r = request({ agent, host: u.hostname, port: u.port, path: "/api/2.0/mlflow/experiments/get?experiment_id=0" }, (x) => { x.resume(); x.on("end", () => res()); }); r.end(); });
        const ms = performance.now() - t0; n++;
        if (ms > 80) slow.push(`${((t0 - t00) / 1000).toFixed(2)}s:${ms.toFixed(0)}`);
      }
    }));
    console.log(n, "requests; slow:", slow.join(" "));
    agent.destroy();
  } finally { await stack.stop(); rmSync(dataDir, { recursive: true, force: true }); }
}
void main();
