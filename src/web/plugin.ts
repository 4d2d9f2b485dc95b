// The dashboard as a Fastify plugin: read-only pages over a store, live run progress as server-sent
// events, strict security headers. `ui` registers it on its own server; `serve` can mount it beside its API.
import type { FastifyInstance } from "fastify";
import type { ArtifactId, EpisodeId, RunId } from "../ports/store.js";
import type { SqliteStore } from "../store/index.js";
import { type AggregateCache, createAggregateCache } from "./aggregate-cache.js";
import { asset } from "./assets.js";
import { streamProgress } from "./events.js";
import { html } from "./html.js";
import { artifactPage } from "./pages/artifact.js";
import { episodePage } from "./pages/episode.js";
import { evaluationPage, evaluationsPage } from "./pages/evaluations.js";
import { page } from "./pages/layout.js";
import { runPage } from "./pages/run.js";
import { runsPage } from "./pages/runs.js";
import { artifactView } from "./queries/artifact.js";
import { episodeView } from "./queries/episode.js";
import { evaluationAttemptViews, evaluationsBySet } from "./queries/evaluations.js";
import { runPlots } from "./queries/plots.js";
import { listRunOverviews, runProgress, runTotals } from "./queries/runs.js";
import { filterChoices, listStepRows } from "./queries/steps.js";
import { BadRequest, filterQuery, notFound, positiveInteger, sendHtml, stepFilters } from "./request.js";
import { guardRequests } from "./security.js";

export { CONTENT_SECURITY_POLICY } from "./security.js";

export interface DashboardOptions {
  /** The store to show; the dashboard only reads it (open it read-only). */
  store: SqliteStore;
  /** When set, every request must carry it as `Authorization: Bearer …` or in the dashboard's cookie. */
  token?: string | null;
  /** How often live views look for changes. */
  pollMs?: number;
  pageSize?: number;
}

/** What the routes share. */
interface Dashboard {
  store: SqliteStore;
  cached: AggregateCache;
  pollMs: number;
  pageSize: number;
}

export async function dashboardPlugin(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const dashboard: Dashboard = {
    store: options.store,
    cached: createAggregateCache(options.store),
    pollMs: options.pollMs ?? 1000,
    pageSize: options.pageSize ?? 50,
  };
  app.addHook("onRequest", guardRequests(options.token ?? null));
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
  runRoutes(app, dashboard);
  recordRoutes(app, dashboard);
  evaluationRoutes(app, dashboard);
  app.get<{ Params: { name: string } }>("/assets/:name", async (request, reply) => {
    const found = asset(request.params.name);
    if (!found) return reply.code(404).type("text/plain; charset=utf-8").send("no such asset\n");
    return reply.type(found.type).header("cache-control", "public, max-age=3600").send(found.body);
  });
  app.get("/favicon.ico", async (_request, reply) => reply.code(204).send());
  app.setNotFoundHandler((request, reply) => notFound(reply, `Nothing at ${request.url}.`));
}

/** The runs page, a run's page, its plots and its live events. */
function runRoutes(app: FastifyInstance, { store, cached, pollMs, pageSize }: Dashboard): void {
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
    streamProgress({
      response: reply.raw,
      progress: () => cached(`progress:${runId}`, () => runProgress(store, runId)),
      pollMs,
      onClose: (listener) => request.raw.on("close", listener),
    });
  });
}

/** One artifact's page and one episode's page. */
function recordRoutes(app: FastifyInstance, { store }: Dashboard): void {
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
}

/** The Evaluations page (per task set, resolve rate per policy version with its interval) and one evaluation's. */
function evaluationRoutes(app: FastifyInstance, { store }: Dashboard): void {
  app.get("/evaluations", async (_request, reply) =>
    sendHtml(reply, 200, evaluationsPage(evaluationsBySet(store), store.path)),
  );
  app.get<{ Params: { id: string } }>("/evaluations/:id", async (request, reply) => {
    const row = evaluationsBySet(store)
      .flatMap((set) => set.rows)
      .find((entry) => entry.evaluation.id === request.params.id);
    if (!row) return notFound(reply, `No evaluation "${request.params.id}" in this store.`);
    return sendHtml(reply, 200, evaluationPage(row, evaluationAttemptViews(store, row.evaluation.id)));
  });
}
