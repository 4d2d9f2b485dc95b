// `swe-selfplay serve`: the game as an HTTP service that RL engines call (src/serve/). Loopback unless
// --listen names another address, and then only with a bearer token. Prints its URL on stdout; SIGINT or
// SIGTERM stop it, and steps in flight resume at the next start on the same store.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { loadConfig } from "../../config/index.js";
import { InputError } from "../../errors.js";
import { isLoopback, parseListen } from "../../http/index.js";
import { createLogger } from "../../log.js";
import { createService, EvaluationJobs, startService } from "../../serve/index.js";
import {
  codeModelTestLocator,
  openConfiguredSandboxes,
  openSqliteStore,
  servicePolicy,
  warnOfLeftovers,
} from "../compose.js";
import { checkEnvironmentDirectories, defaultEnvironment, environmentsFrom } from "../environments.js";
import { collect } from "../flags.js";

const log = createLogger("serve");
export const SERVE_TOKEN_ENV = "SWE_SELFPLAY_TOKEN";

interface ServeFlags {
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
      "address to listen on [serve.listen, 127.0.0.1:8780]; non-loopback needs a token",
    )
    .option("--token-file <file>", `file whose first line is the bearer token (or set ${SERVE_TOKEN_ENV})`)
    .option("--store <path>", "SQLite store (default .swe-selfplay/store.db)")
    .option("--repo <[name=]dir>", "repository directory as an environment (repeatable)", collect)
    .option("--image <[name=]image>", "container image as an environment (repeatable)", collect)
    .option("--set <key=value>", "any configuration key by dotted path, e.g. serve.queueCapacity=16", collect)
    .option("--json", "print the address as a JSON line")
    .action(async (flags: ServeFlags) => {
      await serve(flags);
    });
}

/** The token from a file (first line) or the environment; never logged. */
function readServeToken(tokenFile: string | undefined): string | null {
  if (tokenFile) {
    let text: string;
    try {
      text = readFileSync(tokenFile, "utf8");
    } catch (error) {
      throw new InputError(
        "bad-flag",
        `--token-file ${tokenFile} cannot be read: ${(error as Error).message}`,
      );
    }
    const token = text.split("\n")[0]!.trim();
    if (token === "")
      throw new InputError("bad-flag", `--token-file ${tokenFile} holds no token on its first line`);
    return token;
  }
  return process.env[SERVE_TOKEN_ENV]?.trim() || null;
}

async function serve(flags: ServeFlags): Promise<void> {
  const loaded = loadConfig({
    file: flags.config,
    overrides: { store: flags.store, environments: environmentsFrom(flags) },
    assignments: flags.set ?? [],
  });
  // The address and its token first: a refusal costs nothing, no example built and no store made.
  const listen = parseListen(flags.listen ?? loaded.serve.listen);
  const token = readServeToken(flags.tokenFile);
  if (!isLoopback(listen.host) && !token)
    throw new InputError(
      "token-required",
      `listening on ${listen.host} (not loopback) needs a bearer token: pass --token-file FILE or set ${SERVE_TOKEN_ENV}`,
    );
  const config =
    loaded.environments.length === 0
      ? { ...loaded, environments: [await defaultEnvironment(loaded)] }
      : loaded;
  checkEnvironmentDirectories(config.environments);
  const version = packageVersion();
  const store = openSqliteStore(config.store);
  const sandboxes = openConfiguredSandboxes(config);
  const service = createService({
    config,
    store,
    sandboxes,
    version,
    policies: (choice) => servicePolicy(config, choice),
    testLocator: codeModelTestLocator,
  });
  const evaluations = evaluationJobs(config, store, sandboxes);
  const shutdown = async () => {
    await evaluations.close();
    await service.close();
    await sandboxes.close();
    warnOfLeftovers(sandboxes);
    store.close();
  };
  let running: Awaited<ReturnType<typeof startService>>;
  try {
    running = await startService({
      service,
      listen,
      token,
      loopback: isLoopback(listen.host),
      bodyLimitBytes: config.serve.bodyLimitBytes,
      evaluations,
    });
  } catch (error) {
    await shutdown();
    throw error;
  }
  const address = {
    url: running.url,
    replica_id: service.replicaId,
    store: store.path,
    token: token !== null,
  };
  process.stdout.write(
    flags.json
      ? `${JSON.stringify(address)}\n`
      : `serving on ${running.url} (replica ${service.replicaId}, store ${store.path}${token ? ", token required" : ""})\n`,
  );
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      log.info("stopping: steps in flight resume at the next start", { signal });
      running
        .close()
        .then(shutdown)
        .then(done, (error: unknown) => {
          log.error("stop failed", { error: String(error) });
          done();
        });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}

/** The package's own version, reported by `/v1/health`. */
function packageVersion(): string {
  return (
    JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
      version: string;
    }
  ).version;
}

/** `POST /v1/eval`: evaluations with the service's store, sandboxes and policies. */
function evaluationJobs(
  config: Parameters<typeof servicePolicy>[0],
  store: ReturnType<typeof openSqliteStore>,
  sandboxes: ReturnType<typeof openConfiguredSandboxes>,
): EvaluationJobs {
  return new EvaluationJobs({
    config,
    store,
    sandboxes,
    policies: (choice) => servicePolicy(config, choice),
    testLocator: codeModelTestLocator,
  });
}
