// `swe-selfplay sandbox exec`: runs one command in a fresh sandbox (a directory through bubblewrap, an
// image through Docker) and prints its result; exit 0 whenever the command ran, whatever its exit code.
// The composition root loads once the flags are read.
import { InputError } from "../../errors.js";
import { type Environment, WORKSPACE_STRATEGIES, type WorkspaceStrategy } from "../../ports/sandbox.js";
import type { ExecOptions } from "../definitions/sandbox.js";
import { EXIT_ERROR, EXIT_OK } from "../exit-codes.js";

export async function exec(words: string[], options: ExecOptions): Promise<number> {
  const environment = environmentOf(options);
  const seconds = Number(options.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new InputError("usage", `--timeout must be a positive number of seconds, got "${options.timeout}"`);
  }
  if (
    options.workspace !== undefined &&
    !(WORKSPACE_STRATEGIES as readonly string[]).includes(options.workspace)
  ) {
    throw new InputError(
      "usage",
      `--workspace must be one of ${WORKSPACE_STRATEGIES.join(", ")}, got "${options.workspace}"`,
    );
  }
  const command = words.length === 1 ? words[0]! : words.map(shellWord).join(" ");
  const { openConfiguredSandboxes } = await import("../../compose/index.js");
  const sandboxes = openConfiguredSandboxes(undefined, {
    local: { workspace: options.workspace as WorkspaceStrategy | undefined },
  });
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const sandbox = await sandboxes.create({ environment, label: "cli:sandbox-exec" });
    try {
      const result = await sandbox.run({
        command,
        timeoutMs: Math.round(seconds * 1000),
        abortSignal: abort.signal,
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } else {
        process.stdout.write(result.stdout);
        process.stderr.write(result.stderr);
        if (result.status !== "exited")
          process.stderr.write(`swe-selfplay: command ${result.status} after ${result.durationMs} ms\n`);
        else if (result.exitCode !== 0)
          process.stderr.write(`swe-selfplay: command exited with code ${result.exitCode}\n`);
        if (result.truncated) process.stderr.write("swe-selfplay: output truncated\n");
      }
      // Interrupted by the user: the command did not run to an end of its own.
      if (abort.signal.aborted) {
        process.stderr.write("swe-selfplay: interrupted\n");
        return EXIT_ERROR;
      }
      return EXIT_OK;
    } finally {
      await sandbox.destroy();
    }
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await sandboxes.close();
  }
}

function environmentOf(options: ExecOptions): Environment {
  if ((options.repo === undefined) === (options.image === undefined)) {
    throw new InputError("usage", "give exactly one of --repo DIR or --image NAME");
  }
  if (options.repo !== undefined) {
    if (options.workdir !== undefined) throw new InputError("usage", "--workdir goes with --image only");
    return { kind: "dir", path: options.repo };
  }
  return options.workdir === undefined
    ? { kind: "image", image: options.image! }
    : { kind: "image", image: options.image!, workdir: options.workdir };
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
