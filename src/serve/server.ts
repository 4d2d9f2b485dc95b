// Starts the service on an address: loopback without a token, any other address only with one.
import type { FastifyInstance } from "fastify";
import { InputError } from "../errors.js";
import { listenAt } from "../http/index.js";
import type { EvaluationJobs } from "./evaluations.js";
import { buildApp } from "./routes.js";
import type { Service } from "./service.js";

export interface ServeOptions {
  service: Service;
  listen: { host: string; port: number };
  token: string | null;
  bodyLimitBytes: number;
  /** Whether the host is a loopback address (no token needed). */
  loopback: boolean;
  /** Evaluations on demand (`POST /v1/eval`). */
  evaluations?: EvaluationJobs;
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
  const app = buildApp(options.service, {
    token: options.token,
    bodyLimitBytes: options.bodyLimitBytes,
    ...(options.evaluations ? { evaluations: options.evaluations } : {}),
  });
  const url = await listenAt(app, options.listen);
  return { app, url, close: () => app.close() };
}
