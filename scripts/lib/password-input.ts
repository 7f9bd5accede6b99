// Secrets typed or piped into the CLI: a terminal prompt that does not echo, or the whole of a pipe. The only
// prompt the CLI ever shows; nothing read here is printed or logged.
import type { CliIo } from "./command";
import { CliFailure } from "./cli-errors";

/** Reads the whole of a non-terminal stdin; one trailing line break is not part of the password. */
export async function readPipe(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/** On a terminal: a prompt on stderr, input not echoed. The only prompt the CLI ever shows. */
export async function readHidden(io: CliIo, stdin: NonNullable<CliIo["stdin"]>, prompt: string): Promise<string> {
  io.stderr.write(prompt);
  stdin.setRawMode?.(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = "";
      const onData = (chunk: Buffer | string) => {
        for (const ch of chunk.toString()) {
          if (ch === "\r" || ch === "\n") {
            stdin.removeListener("data", onData);
            return resolve(value);
          }
          if (ch === "\u0003" || ch === "\u0004") {
            stdin.removeListener("data", onData);
            return reject(new CliFailure(["mlflow-gate: cancelled"]));
          }
          if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode?.(false);
    stdin.pause();
    io.stderr.write("\n");
  }
}
