// The dashboard's locks: strict security headers on every answer, and the optional token, taken from an
// Authorization header, the dashboard's cookie, or once from ?token=… (then moved into the cookie).
import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { queryText } from "./request.js";

/** Everything shown comes from untrusted code and model text: no inline script, no foreign origin. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

export const TOKEN_COOKIE = "swe_selfplay_token";

function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === TOKEN_COOKIE) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

/** The onRequest hook: security headers always; without the token (when one is set) a 401 or a sign-in. */
export function guardRequests(token: string | null) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    if (!token) return;
    const header = request.headers.authorization;
    const bearer = header?.startsWith("Bearer ") ? header.slice("Bearer ".length) : undefined;
    if (tokenMatches(token, bearer) || tokenMatches(token, cookieToken(request))) return;
    // A browser signs in once with ?token=…: the token moves into an HTTP-only cookie and out of the URL.
    const queryToken = queryText((request.query as Record<string, unknown> | undefined)?.token);
    if (request.method === "GET" && tokenMatches(token, queryToken)) {
      const url = new URL(request.url, "http://dashboard");
      url.searchParams.delete("token");
      return reply
        .header(
          "set-cookie",
          `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        )
        .redirect(`${url.pathname}${url.search}`, 303);
    }
    return reply
      .code(401)
      .header("www-authenticate", 'Bearer realm="swe-selfplay"')
      .type("text/plain; charset=utf-8")
      .send("token required: send Authorization: Bearer TOKEN, or open the page once with ?token=TOKEN\n");
  };
}
