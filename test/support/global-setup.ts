import type { Config } from "@jest/types";
import { mkdtempSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { ensureMlflowVenv } from "../../project/mlflow-venv";
import { buildUi } from "../../ui-patch/build-ui";
import { SHARED_STACK_ENV, SharedStack, startSharedStack } from "./shared-stack";
import { TEST_UI_DIR_ENV } from "./test-ui";

/** Folders whose test files start local stacks (they get the UI built once), and those that share one. */
const STACKS = /(^|\/)(integration|security|browser|reliability|bench)(\/|$)/;
const SHARED = /(^|\/)(integration|security|browser)(\/|$)/;

/**
 * Once per `jest` run, when tests that start stacks are selected (all are, without a path pattern): the
 * patched UI, built once for every test stack, and one local stack shared by the whole-system tests.
 * Their locations reach the test files through the environment.
 */
export default async function globalSetup(globalConfig: Config.GlobalConfig): Promise<void> {
  // As in every test file (setup-env.ts): the AWS SDK's Node 22 notice, said once in the README.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const patterns = globalConfig.testPathPatterns.patterns;
  const selects = (folders: RegExp) => patterns.length === 0 || patterns.some((p) => folders.test(p));
  if (!selects(STACKS)) return;
  ensureMlflowVenv(() => undefined);
  const uiParent = mkdtempSync(join(tmpdir(), "mlflow-gate-test-ui-"));
  process.env[TEST_UI_DIR_ENV] = (await buildUi(uiParent)).outDir;
  (globalThis as { mlflowGateTestUi?: string }).mlflowGateTestUi = uiParent;

  if (!selects(SHARED)) return;
  const shared = await startSharedStack(process.env[TEST_UI_DIR_ENV] as string);
  process.env[SHARED_STACK_ENV] = shared.file;
  (globalThis as { mlflowGateSharedStack?: SharedStack }).mlflowGateSharedStack = shared;
}
