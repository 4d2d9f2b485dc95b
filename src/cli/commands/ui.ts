// `swe-selfplay ui`: the dashboard over a store, read-only, safe beside a run that writes it.
import { resolve } from "node:path";
import type { Command } from "commander";
import { DEFAULT_STORE_PATH } from "../../config/index.js";
import { createLogger } from "../../log.js";
import { DEFAULT_LISTEN, parseListen, readToken, startDashboard, TOKEN_ENV } from "../../web/index.js";

const log = createLogger("ui");

interface UiFlags {
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
    .option("--store <path>", "SQLite store to show", DEFAULT_STORE_PATH)
    .option(
      "--listen <host:port>",
      "address to listen on (a non-loopback host needs a token)",
      DEFAULT_LISTEN,
    )
    .option("--token-file <file>", `file whose first line is the token (or set ${TOKEN_ENV})`)
    .action(async (flags: UiFlags) => {
      await ui(flags);
    });
}

async function ui(flags: UiFlags): Promise<void> {
  const listen = parseListen(flags.listen);
  const token = readToken({ tokenFile: flags.tokenFile });
  const dashboard = await startDashboard({ storePath: resolve(flags.store), listen, token });
  process.stdout.write(
    `dashboard of ${dashboard.store.path} at ${dashboard.url}${token ? " (token required)" : ""}\n`,
  );
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      log.info("stopping", { signal });
      dashboard.close().then(done, done);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}
