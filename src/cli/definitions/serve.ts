// The `serve` command's flags and help; its implementation (src/cli/commands/serve.ts) loads when it runs.
import type { Command } from "commander";
import { configDefault } from "../../config/index.js";
import { collect } from "../flags.js";

export const SERVE_TOKEN_ENV = "SWE_SELFPLAY_TOKEN";

export interface ServeFlags {
  config?: string;
  listen?: string;
  tokenFile?: string;
  store?: string;
  repo?: string[];
  image?: string[];
  set?: string[];
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("serve")
    .description(
      "Serve self-play steps over HTTP to RL trainers: POST /v1/steps, GET /v1/steps/{id}, /v1/openapi.json.",
    )
    .option("--config <file>", "YAML config file (environments, concurrency, serve section)")
    .option(
      "--listen <host:port>",
      `address to listen on [serve.listen, ${configDefault("serve.listen")}]; non-loopback needs a token`,
    )
    .option("--token-file <file>", `file whose first line is the bearer token (or set ${SERVE_TOKEN_ENV})`)
    .option("--store <path>", `SQLite store (default ${configDefault("store")})`)
    .option("--repo <[name=]dir>", "repository directory as an environment (repeatable)", collect)
    .option("--image <[name=]image>", "container image as an environment (repeatable)", collect)
    .option("--set <key=value>", "any configuration key by dotted path, e.g. serve.queueCapacity=16", collect)
    .option("--json", "print the address as a JSON line")
    .action(async (flags: ServeFlags) => {
      const { serve } = await import("../commands/serve.js");
      await serve(flags);
    });
}
