// Listening addresses and putting a Fastify app on one; shared by the dashboard (`ui`) and the service (`serve`).
import { isIP } from "node:net";
import type { FastifyInstance } from "fastify";
import { errorMessage, InputError } from "../errors.js";

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses HOST:PORT (IPv6 hosts in brackets); port 0 picks a free port. */
export function parseListen(value: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535)
    throw new InputError(
      "bad-flag",
      `--listen expects HOST:PORT (e.g. 127.0.0.1:8765 or [::1]:8765), got "${value}"`,
    );
  return { host: (match[1] ?? match[2])!, port };
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1" || host === "0:0:0:0:0:0:0:1";
}

/** Listens on `listen` (port 0 picks a free one) and returns the base URL, without a trailing slash. */
export async function listenAt(app: FastifyInstance, listen: ListenAddress): Promise<string> {
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
