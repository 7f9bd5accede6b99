import { rmSync } from "fs";
import type { SharedStack } from "./shared-stack";

/** Stops what the global setup started and removes its directories. */
export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { mlflowGateSharedStack?: SharedStack; mlflowGateTestUi?: string };
  await g.mlflowGateSharedStack?.stop();
  if (g.mlflowGateTestUi) rmSync(g.mlflowGateTestUi, { recursive: true, force: true });
}
