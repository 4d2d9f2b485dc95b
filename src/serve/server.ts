// Starts the service on an address: loopback without a token, any other address only with one.
import type { FastifyInstance } from "fastify";
import { errorMessage, InputError } from "../errors.js";
import { buildApp } from "./routes.js";
import type { Service } from "./service.js";

export interface ServeOptions {
  service: Service;
  listen: { host: string; port: number };
  token: string | null;
  bodyLimitBytes: number;
  /** Whether the host is a loopback address (no token needed). */
  loopback: boolean;
}

export interface RunningService {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function startService(options: ServeOptions): Promise<RunningService> {
  if (!options.loopback && !options.token)
    throw new InputError(
      "token-required",
      `listening on ${options.listen.host} (not loopback) needs a bearer token: pass --token-file FILE or set SWE_SELFPLAY_TOKEN`,
    );
  const app = buildApp(options.service, { token: options.token, bodyLimitBytes: options.bodyLimitBytes });
  try {
    await app.listen({ host: options.listen.host, port: options.listen.port });
  } catch (error) {
    throw new InputError(
      "listen-failed",
      `cannot listen on ${options.listen.host}:${options.listen.port}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.listen.port;
  const host = options.listen.host.includes(":") ? `[${options.listen.host}]` : options.listen.host;
  return { app, url: `http://${host}:${port}`, close: () => app.close() };
}
