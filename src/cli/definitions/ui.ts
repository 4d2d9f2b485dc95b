// The `ui` command's flags and help; its implementation (src/cli/commands/ui.ts) loads when it runs.
import type { Command } from "commander";
import { configDefault } from "../../config/index.js";
import { DEFAULT_LISTEN, TOKEN_ENV } from "../../web/address.js";

export interface UiFlags {
  store: string;
  listen: string;
  tokenFile?: string;
}

export function register(program: Command): void {
  program
    .command("ui")
    .description(
      "Open the dashboard: runs, bugs, validation, solver attempts, trajectories and plots, in a browser.",
    )
    .option("--store <path>", "SQLite store to show", String(configDefault("store")))
    .option(
      "--listen <host:port>",
      "address to listen on (a non-loopback host needs a token)",
      DEFAULT_LISTEN,
    )
    .option("--token-file <file>", `file whose first line is the token (or set ${TOKEN_ENV})`)
    .action(async (flags: UiFlags) => {
      const { ui } = await import("../commands/ui.js");
      await ui(flags);
    });
}
