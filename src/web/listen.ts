// Puts a Fastify app on an address and says where it answers; shared by the dashboard (`ui`) and `serve`.
import type { FastifyInstance } from "fastify";
import { errorMessage, InputError } from "../errors.js";

export interface ListenOn {
  host: string;
  port: number;
}

/** Listens on `listen` (port 0 picks a free one) and returns the base URL, without a trailing slash. */
export async function listenAt(app: FastifyInstance, listen: ListenOn): Promise<string> {
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (error) {
    throw new InputError(
      "listen-failed",
      `cannot listen on ${listen.host}:${listen.port}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : listen.port;
  const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  return `http://${host}:${port}`;
}
