// What a `mlflow-gate` command is: its options, what it is given to run, and where it writes. The CLI
// (scripts/cli.ts) parses the command line and dispatches; the commands (sign.ts, users.ts) import only this.

export interface CliIo {
  readonly stdout: { write(text: string | Uint8Array): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Where `--password-stdin` and `-d @-` read from. @default process.stdin */
  readonly stdin?: NodeJS.ReadableStream & { readonly isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  /** The environment (MLFLOW_GATE_DATA locates the local stack). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** Every option of every command, as util.parseArgs takes them; a command names those it accepts. */
export const OPTIONS = {
  catalog: { type: "string" },
  "groups-dir": { type: "string" },
  "teams-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
  group: { type: "string", multiple: true },
  team: { type: "string" },
  teams: { type: "string" },
  format: { type: "string" },
  region: { type: "string" },
  account: { type: "string" },
  "api-id": { type: "string" },
  stage: { type: "string" },
  "from-stage": { type: "string" },
  "archive-existing": { type: "boolean" },
  alias: { type: "string" },
  creator: { type: "string" },
  caller: { type: "string" },
  "user-pool-id": { type: "string" },
  "client-id": { type: "string" },
  profile: { type: "string" },
  email: { type: "string" },
  "password-stdin": { type: "boolean" },
  "temporary-password": { type: "boolean" },
  "password-file": { type: "string" },
  "send-invitation": { type: "boolean" },
  request: { type: "string", short: "X" },
  header: { type: "string", short: "H", multiple: true },
  data: { type: "string", short: "d" },
  include: { type: "boolean", short: "i" },
  service: { type: "string" },
  bearer: { type: "boolean" },
  "dry-run": { type: "boolean" },
  model: { type: "string" },
  run: { type: "string" },
  user: { type: "string" },
  action: { type: "string" },
  since: { type: "string" },
  refused: { type: "boolean" },
  json: { type: "boolean" },
  lines: { type: "boolean" },
  file: { type: "string" },
  local: { type: "boolean" },
  deployed: { type: "boolean" },
  config: { type: "string" },
  "audit-file": { type: "string" },
  "artifact-mb": { type: "string" },
} as const;

export type OptionName = keyof typeof OPTIONS;
export type Values = {
  [K in OptionName]?: (typeof OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof OPTIONS)[K]["type"] extends "boolean"
      ? boolean
      : string;
};

/** Everything a command needs, validated once at start. */
export interface Context {
  readonly io: CliIo;
  readonly catalogFile: string;
  readonly groupsDir: string;
  /** Team files: none (or no directory) is no teams, one workspace. */
  readonly teamsDir: string;
  readonly values: Values;
  readonly args: readonly string[];
}

export interface Command {
  readonly name: string;
  readonly options: readonly OptionName[];
  run(ctx: Context): number | Promise<number>;
}
