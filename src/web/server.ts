// The `ui` server: the dashboard plugin on its own Fastify instance over a store opened read-only.
// Loopback by default; any other address needs a token.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { default as FastifyFactory, FastifyInstance } from "fastify";
import { InputError } from "../errors.js";
import { isLoopback, type ListenAddress, listenAt } from "../http/index.js";
import { openSqliteStore, type SqliteStore } from "../store/index.js";
import { dashboardPlugin } from "./plugin.js";

export { isLoopback, type ListenAddress, parseListen } from "../http/index.js";

import { TOKEN_ENV } from "./address.js";

export { DEFAULT_LISTEN, TOKEN_ENV } from "./address.js";

/** The token from a file (first line, trimmed) or the environment; a file that is empty is an error. */
export function readToken(options: { tokenFile?: string; env?: NodeJS.ProcessEnv }): string | null {
  if (options.tokenFile) {
    if (!existsSync(options.tokenFile))
      throw new InputError("bad-flag", `--token-file ${options.tokenFile} does not exist`);
    const token = readFileSync(options.tokenFile, "utf8").split("\n")[0]!.trim();
    if (token === "")
      throw new InputError("bad-flag", `--token-file ${options.tokenFile} holds no token on its first line`);
    return token;
  }
  const fromEnv = (options.env ?? process.env)[TOKEN_ENV]?.trim();
  return fromEnv ? fromEnv : null;
}

export interface Dashboard {
  app: FastifyInstance;
  store: SqliteStore;
  /** The URL it answers on (with the port actually bound). */
  url: string;
  close(): Promise<void>;
}

export async function startDashboard(options: {
  storePath: string;
  listen: ListenAddress;
  token: string | null;
  pollMs?: number;
}): Promise<Dashboard> {
  if (!isLoopback(options.listen.host) && !options.token)
    throw new InputError(
      "token-required",
      `listening on ${options.listen.host} (not loopback) needs a token: set ${TOKEN_ENV} or pass --token-file FILE`,
    );
  if (!existsSync(options.storePath))
    throw new InputError(
      "store-missing",
      `no store at ${options.storePath}: run \`swe-selfplay run\` first or pass --store`,
    );
  const store = openSqliteStore(options.storePath, { readonly: true });
  if (store.schemaVersion() === 0) {
    store.close();
    throw new InputError(
      "not-a-store",
      `${options.storePath} is not a swe-selfplay store (no schema version)`,
    );
  }
  // Fastify's own request log stays off: URLs may carry a sign-in token. Closing ends open event streams.
  // Fastify loads with the first server, not with every command that imports this module.
  const Fastify = createRequire(import.meta.url)("fastify") as typeof FastifyFactory;
  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(dashboardPlugin, { store, token: options.token, pollMs: options.pollMs });
  let url: string;
  try {
    url = await listenAt(app, options.listen);
  } catch (error) {
    store.close();
    throw error;
  }
  return {
    app,
    store,
    url: `${url}/`,
    async close() {
      await app.close();
      store.close();
    },
  };
}
