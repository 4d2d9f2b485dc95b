// The `swe-selfplay` program: registers every command; usage and infrastructure errors exit 2.

import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { errorMessage, InfrastructureError, InputError } from "../errors.js";
import { registerCommands } from "./commands/index.js";
import { EXIT_ERROR } from "./exit-codes.js";

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("swe-selfplay")
    .description("Self-play SWE-RL: verified bug-fixing tasks and rewards from any repository.")
    .version(version)
    .exitOverride()
    // Options belong to the command they follow, so a subcommand (`eval compare --store`) may share a name.
    .enablePositionalOptions()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  registerCommands(program);
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return 0;
      if (error.code === "commander.help") return 0;
      return EXIT_ERROR;
    }
    if (error instanceof InputError || error instanceof InfrastructureError) {
      process.stderr.write(`swe-selfplay: ${error.message}\n`);
      return EXIT_ERROR;
    }
    process.stderr.write(`swe-selfplay: internal error: ${errorMessage(error)}\n`);
    if (error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return EXIT_ERROR;
  }
}
