// The dashboard as a Fastify plugin: read-only pages over a store, live run progress as server-sent
// events, strict security headers. `ui` registers it on its own server; `serve` can mount it beside its API.
import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ArtifactId, EpisodeId, RunId, SqliteStore } from "../store/index.js";
import { asset } from "./assets.js";
import { html } from "./html.js";
import { artifactPage } from "./pages/artifact.js";
import { episodePage } from "./pages/episode.js";
import { page } from "./pages/layout.js";
import { runPage } from "./pages/run.js";
import { runsPage } from "./pages/runs.js";
import { artifactView } from "./queries/artifact.js";
import { episodeView } from "./queries/episode.js";
import { runPlots } from "./queries/plots.js";
import { listRunOverviews, runProgress, runTotals } from "./queries/runs.js";
import {
  filterChoices,
  listStepRows,
  type StepFilters,
  VERDICTS,
  type VerdictFilter,
} from "./queries/steps.js";

export interface DashboardOptions {
  /** The store to show; the dashboard only reads it (open it read-only). */
  store: SqliteStore;
  /** When set, every request must carry it as `Authorization: Bearer …` or in the dashboard's cookie. */
  token?: string | null;
  /** How often live views look for changes. */
  pollMs?: number;
  pageSize?: number;
}

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

class BadRequest extends Error {}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new BadRequest(`${name} must be a positive integer, got "${String(value)}"`);
  return parsed;
}

function rate(value: unknown, name: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1)
    throw new BadRequest(`${name} must be a number from 0 to 1, got "${String(value)}"`);
  return parsed;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function stepFilters(query: Record<string, unknown>): StepFilters {
  const verdict = text(query.verdict);
  if (verdict !== undefined && !VERDICTS.includes(verdict as VerdictFilter))
    throw new BadRequest(`verdict must be one of ${VERDICTS.join(", ")}, got "${verdict}"`);
  return {
    environment: text(query.environment),
    strategy: text(query.strategy),
    verdict: verdict as VerdictFilter | undefined,
    failedCheck: text(query.check),
    policyVersion: text(query.policy),
    minSolveRate: rate(query.minRate, "minRate"),
    maxSolveRate: rate(query.maxRate, "maxRate"),
    search: text(query.q)?.slice(0, 200),
  };
}

function filterQuery(query: Record<string, unknown>): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of ["environment", "strategy", "verdict", "check", "policy", "minRate", "maxRate", "q"]) {
    const value = text(query[key]);
    if (value !== undefined) params.set(key, value);
  }
  return params;
}

function sendHtml(reply: FastifyReply, status: number, body: { text: string }): FastifyReply {
  return reply.code(status).type("text/html; charset=utf-8").send(body.text);
}

function notFound(reply: FastifyReply, what: string): FastifyReply {
  return sendHtml(
    reply,
    404,
    page({ title: "Not found", body: html`<p>${what}</p><p><a href="/">All runs</a></p>` }),
  );
}

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

/**
 * Remembers a run's aggregates until another connection commits to the store (SQLite's data_version
 * changes), so the whole-run totals and plots are computed once per change, not once per page view.
 */
function createAggregateCache(store: SqliteStore, limit = 256) {
  let version = -1;
  const entries = new Map<string, unknown>();
  return <T>(key: string, compute: () => T): T => {
    const current = store.db.pragma("data_version", { simple: true }) as number;
    if (current !== version || entries.size >= limit) {
      entries.clear();
      version = current;
    }
    if (entries.has(key)) return entries.get(key) as T;
    const value = compute();
    entries.set(key, value);
    return value;
  };
}

export async function dashboardPlugin(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const { store } = options;
  const pollMs = options.pollMs ?? 1000;
  const pageSize = options.pageSize ?? 50;
  const token = options.token ?? null;
  const cached = createAggregateCache(store);

  app.addHook("onRequest", async (request, reply) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    if (!token) return;
    const header = request.headers.authorization;
    const bearer = header?.startsWith("Bearer ") ? header.slice("Bearer ".length) : undefined;
    if (tokenMatches(token, bearer) || tokenMatches(token, cookieToken(request))) return;
    // A browser signs in once with ?token=…: the token moves into an HTTP-only cookie and out of the URL.
    const queryToken = text((request.query as Record<string, unknown> | undefined)?.token);
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
  });

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof BadRequest)
      return sendHtml(reply, 400, page({ title: "Bad request", body: html`<p>${error.message}</p>` }));
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const message = error instanceof Error ? error.message : String(error);
    return sendHtml(
      reply,
      status,
      page({ title: status >= 500 ? "Error" : "Bad request", body: html`<p>${message}</p>` }),
    );
  });

  app.get("/", async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const pageNumber = positiveInteger(query.page, "page", 1);
    const runs = cached(`runs:${pageNumber}`, () => listRunOverviews(store, pageNumber, pageSize));
    return sendHtml(reply, 200, runsPage(runs, store.path));
  });

  app.get<{ Params: { runId: string } }>("/runs/:runId", async (request, reply) => {
    const runId = request.params.runId as RunId;
    const run = store.getRun(runId);
    if (!run) return notFound(reply, `No run "${runId}" in this store.`);
    const query = request.query as Record<string, unknown>;
    const filters = stepFilters(query);
    const body = runPage({
      run,
      totals: cached(`totals:${runId}`, () => runTotals(store, runId)),
      environments: store.listEnvironments(runId),
      plots: cached(`plots:${runId}`, () => runPlots(store, runId)),
      steps: listStepRows(store, runId, filters, positiveInteger(query.page, "page", 1), pageSize),
      filters,
      choices: cached(`choices:${runId}`, () => filterChoices(store, runId)),
      query: filterQuery(query),
    });
    return sendHtml(reply, 200, body);
  });

  app.get<{ Params: { runId: string } }>("/runs/:runId/plots.json", async (request, reply) => {
    const runId = request.params.runId as RunId;
    if (!store.getRun(runId)) return reply.code(404).send({ error: `no run "${runId}"` });
    return reply.send(cached(`plots:${runId}`, () => runPlots(store, runId)));
  });

  app.get<{ Params: { runId: string } }>("/runs/:runId/events", async (request, reply) => {
    const runId = request.params.runId as RunId;
    if (!store.getRun(runId)) return reply.code(404).send({ error: `no run "${runId}"` });
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
    });
    let last = "";
    let idle = 0;
    const send = () => {
      const progress = cached(`progress:${runId}`, () => runProgress(store, runId));
      if (!progress) return finish();
      const data = JSON.stringify(progress);
      if (data !== last) {
        last = data;
        idle = 0;
        response.write(`event: progress\ndata: ${data}\n\n`);
      } else if (++idle * pollMs >= 15_000) {
        idle = 0;
        response.write(": keep-alive\n\n");
      }
      // A run that is no longer running changes no more: say so and let the browser stop listening.
      if (progress.status !== "running") finish();
    };
    const timer = setInterval(send, pollMs);
    const finish = () => {
      clearInterval(timer);
      if (!response.writableEnded) response.end("event: end\ndata: {}\n\n");
    };
    request.raw.on("close", () => clearInterval(timer));
    send();
  });

  app.get<{ Params: { artifactId: string } }>("/artifacts/:artifactId", async (request, reply) => {
    const view = artifactView(store, request.params.artifactId as ArtifactId);
    if (!view) return notFound(reply, `No artifact "${request.params.artifactId}" in this store.`);
    return sendHtml(reply, 200, artifactPage(view));
  });

  app.get<{ Params: { episodeId: string } }>("/episodes/:episodeId", async (request, reply) => {
    const view = episodeView(store, request.params.episodeId as EpisodeId);
    if (!view) return notFound(reply, `No episode "${request.params.episodeId}" in this store.`);
    return sendHtml(reply, 200, episodePage(view));
  });

  app.get<{ Params: { name: string } }>("/assets/:name", async (request, reply) => {
    const found = asset(request.params.name);
    if (!found) return reply.code(404).type("text/plain; charset=utf-8").send("no such asset\n");
    return reply.type(found.type).header("cache-control", "public, max-age=3600").send(found.body);
  });

  app.get("/favicon.ico", async (_request, reply) => reply.code(204).send());

  app.setNotFoundHandler((request, reply) => notFound(reply, `Nothing at ${request.url}.`));
}
