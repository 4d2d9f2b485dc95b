// `swe-selfplay serve`: the game as an HTTP service that RL engines call (src/serve/). Loopback unless
// --listen names another address, and then only with a bearer token. Prints its URL on stdout; SIGINT or
// SIGTERM stop it, and steps in flight resume at the next start on the same store.
import { readFileSync } from "node:fs";
import type { SelfPlayConfig } from "../../config/index.js";
import { loadConfig } from "../../config/index.js";
import { InputError } from "../../errors.js";
import { isLoopback, parseListen } from "../../http/index.js";
import { createLogger } from "../../log.js";
import type { SandboxRouter } from "../../sandbox/index.js";
import type { SqliteStore } from "../../store/index.js";
import { SERVE_TOKEN_ENV, type ServeFlags } from "../definitions/serve.js";
import { checkEnvironmentDirectories, defaultEnvironment, environmentsFrom } from "../environments.js";

const log = createLogger("serve");
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

/** The configuration, address and token: every refusal comes before the service costs anything. */
async function serviceInputs(flags: ServeFlags) {
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
  return { config, listen, token };
}

export async function serve(flags: ServeFlags): Promise<void> {
  const { config, listen, token } = await serviceInputs(flags);
  const version = packageVersion();
  const [compose, { createService, startService }] = await Promise.all([
    import("../../compose/index.js"),
    import("../../serve/index.js"),
  ]);
  const { codeModelTestLocator, openConfiguredSandboxes, openSqliteStore, servicePolicy, warnOfLeftovers } =
    compose;
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
  const evaluations = await evaluationJobs(config, store, sandboxes);
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
async function evaluationJobs(config: SelfPlayConfig, store: SqliteStore, sandboxes: SandboxRouter) {
  const { codeModelTestLocator, servicePolicy } = await import("../../compose/index.js");
  const { EvaluationJobs } = await import("../../serve/index.js");
  return new EvaluationJobs({
    config,
    store,
    sandboxes,
    policies: (choice) => servicePolicy(config, choice),
    testLocator: codeModelTestLocator,
  });
}
