import { spawn } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { AddressInfo, connect, createServer, Server, Socket } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { mlflowProcessEnv, mlflowServerOptions } from "../../../local/mlflow-server";
import { claimPort, killOnExit, stopProcessGroup, tailOf, waitForHttp } from "../../../local/processes";
import { VENV_DIR } from "../../../project/paths";

/** The pinned MLflow from .venv with workspaces on (sqlite, artifacts served from a local folder), on a free port. */
export interface MlflowWithWorkspaces {
  readonly url: URL;
  /** The folder MLflow keeps artifacts in (`--artifacts-destination`). */
  readonly artifactsDir: string;
  stop(): Promise<void>;
}

export async function startMlflowWithWorkspaces(): Promise<MlflowWithWorkspaces> {
  const dir = mkdtempSync(join(tmpdir(), "mlflow-gate-workspaces-"));
  const port = await claimPort("127.0.0.1", 0, "(test)");
  const child = spawn(
    join(VENV_DIR, "bin", "mlflow"),
    ["server", ...mlflowServerOptions(dir, "127.0.0.1", port), "--enable-workspaces"],
    { cwd: dir, detached: true, stdio: ["ignore", "pipe", "pipe"], env: mlflowProcessEnv(process.env) },
  );
  killOnExit(child);
  const url = new URL(`http://127.0.0.1:${port}`);
  try {
    await waitForHttp(new URL("/health", url).href, child, 120_000, tailOf(child));
  } catch (e) {
    await stopProcessGroup(child);
    throw e;
  }
  return {
    url,
    artifactsDir: join(dir, "artifacts"),
    stop: async () => {
      await stopProcessGroup(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP pass-through in front of MLflow that keeps what the guard sent it (requests as bytes): what reached
 * real MLflow, seen on the wire.
 */
export interface WireTap {
  readonly url: URL;
  /** Everything sent towards MLflow since the last `clear`, as latin1 text. */
  sent(): string;
  clear(): void;
  close(): Promise<void>;
}

export async function startWireTap(target: URL): Promise<WireTap> {
  let sent = "";
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const up = connect(Number(target.port), target.hostname);
    sockets.add(client).add(up);
    client.on("data", (chunk: Buffer) => (sent += chunk.toString("latin1")));
    client.pipe(up).pipe(client);
    const end = () => {
      client.destroy();
      up.destroy();
      sockets.delete(client);
      sockets.delete(up);
    };
    client.on("error", end).on("close", end);
    up.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    sent: () => sent,
    clear: () => void (sent = ""),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
