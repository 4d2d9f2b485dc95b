// The HTTP routes of the service (Fastify): requests validated by the zod schemas of schemas.ts (through
// Fastify's validator hook, so every bad field is answered 400 with its path), bearer-token access,
// long polls and server-sent events that stop when their client goes away.
import { timingSafeEqual } from "node:crypto";
import { createRequire } from "node:module";
import type { default as FastifyFactory, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { type EvalBody, type EvaluationJobs, evalBodySchema, evalViewSchema } from "./evaluations.js";
import { openApiDocument, type RouteDoc } from "./openapi.js";
import { RequestError } from "./request-error.js";
import {
  acceptedSchema,
  environmentsSchema,
  healthSchema,
  type SolveBody,
  type StepBody,
  solveBodySchema,
  statsSchema,
  stepBodySchema,
  stepViewSchema,
} from "./schemas.js";
import type { Service } from "./service.js";

export interface AppOptions {
  /** Bearer token every request must carry; null: no token (loopback only). */
  token: string | null;
  bodyLimitBytes: number;
  /** Evaluations on demand (`POST /v1/eval`), when the service offers them. */
  evaluations?: EvaluationJobs;
}

const stepParams = z.strictObject({ step_id: z.string().min(1).max(300) });
const waitQuery = z.strictObject({
  wait: z.coerce.number().min(0).max(600).optional().describe("Seconds to wait for the step to end."),
});
const LONG_POLL_CAP_SECONDS = 600;

/** Zod schemas by the JSON schema Fastify holds for a route part. */
const zodOf = new WeakMap<object, z.ZodType>();
function part(schema: z.ZodType): object {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as object;
  zodOf.set(json, schema);
  return json;
}

export function buildApp(service: Service, options: AppOptions): FastifyInstance {
  // Fastify's own request log stays off: headers carry the token.
  // Fastify loads with the first server, not with every command that imports this module.
  const Fastify = createRequire(import.meta.url)("fastify") as typeof FastifyFactory;
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimitBytes, forceCloseConnections: true });
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const zodSchema = zodOf.get(schema)!;
    return (data: unknown) => {
      const parsed = zodSchema.safeParse(data);
      if (parsed.success) return { value: parsed.data };
      const issue = parsed.error.issues[0]!;
      const prefix = httpPart === "querystring" ? "query" : (httpPart ?? "body");
      const path = [prefix, ...issue.path.map(String)].join(".");
      const message = valueAt(data, issue.path) === undefined ? "required" : issue.message;
      return { error: new RequestError(400, "invalid-request", `${path}: ${message}`, { path }) };
    };
  });
  app.setErrorHandler((error, _request, reply) => sendError(reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new RequestError(404, "not-found", `no route ${request.method} ${request.url.split("?")[0]}`),
    ),
  );
  if (options.token !== null) app.addHook("onRequest", bearerCheck(options.token));
  const docs: RouteDoc[] = [];
  registerSteps(app, service, docs);
  registerInfo(app, service, docs);
  if (options.evaluations) registerEvaluations(app, options.evaluations, docs);
  app.get("/v1/openapi.json", async () => openApiDocument(service.version, docs, options.token !== null));
  return app;
}

const evalParams = z.strictObject({ evaluation_id: z.string().min(1).max(100) });

function registerEvaluations(app: FastifyInstance, jobs: EvaluationJobs, docs: RouteDoc[]): void {
  app.post("/v1/eval", { schema: { body: part(evalBodySchema) } }, async (request, reply) => {
    const { created, view } = jobs.submit(request.body as EvalBody);
    return reply.code(created ? 202 : 200).send(view);
  });
  app.get(
    "/v1/eval/:evaluation_id",
    { schema: { params: part(evalParams), querystring: part(waitQuery) } },
    async (request, reply) => {
      const { evaluation_id: id } = request.params as { evaluation_id: string };
      const { wait } = request.query as { wait?: number };
      if (wait && jobs.view(id).status === "running") {
        const gone = new AbortController();
        reply.raw.once("close", () => gone.abort());
        await jobs.waitFor(id, Math.min(wait, LONG_POLL_CAP_SECONDS) * 1000, gone.signal);
        if (gone.signal.aborted) return reply;
      }
      return jobs.view(id);
    },
  );
  docs.push(
    {
      method: "post",
      path: "/v1/eval",
      summary: "Evaluate a policy version on a frozen task set (or continue that evaluation)",
      body: evalBodySchema,
      answers: { 202: evalViewSchema, 200: evalViewSchema },
    },
    {
      method: "get",
      path: "/v1/eval/{evaluation_id}",
      summary: "An evaluation's progress and, once completed, its figures",
      query: waitQuery,
      answers: { 200: evalViewSchema },
    },
  );
}

function registerSteps(app: FastifyInstance, service: Service, docs: RouteDoc[]): void {
  const submit = (kind: "step" | "solve") => async (request: FastifyRequest, reply: FastifyReply) => {
    const { created, view } = service.submit(kind, request.body as StepBody | SolveBody);
    return reply.code(created ? 202 : 200).send({ step_id: view.step_id, request_id: view.request_id });
  };
  app.post("/v1/steps", { schema: { body: part(stepBodySchema) } }, submit("step"));
  app.post("/v1/solve", { schema: { body: part(solveBodySchema) } }, submit("solve"));
  app.get(
    "/v1/steps/:step_id",
    { schema: { params: part(stepParams), querystring: part(waitQuery) } },
    async (request, reply) => {
      const { step_id: stepId } = request.params as { step_id: string };
      const { wait } = request.query as { wait?: number };
      const status = service.view(stepId).status;
      if (wait && (status === "queued" || status === "running")) {
        const gone = new AbortController();
        reply.raw.once("close", () => gone.abort());
        await service.events.waitForEnd(stepId, Math.min(wait, LONG_POLL_CAP_SECONDS) * 1000, gone.signal);
        if (gone.signal.aborted) return reply;
      }
      return service.view(stepId);
    },
  );
  app.get("/v1/steps/:step_id/events", { schema: { params: part(stepParams) } }, (request, reply) => {
    const { step_id: stepId } = request.params as { step_id: string };
    streamEvents(service, stepId, reply);
  });
  app.delete("/v1/steps/:step_id", { schema: { params: part(stepParams) } }, async (request) =>
    service.cancel((request.params as { step_id: string }).step_id),
  );
  app.post("/v1/steps/:step_id/ack", { schema: { params: part(stepParams) } }, async (request) => {
    const view = service.ack((request.params as { step_id: string }).step_id);
    return { step_id: view.step_id, request_id: view.request_id, status: view.status, acknowledged: true };
  });
  docs.push(
    {
      method: "post",
      path: "/v1/steps",
      summary: "Request one self-play step",
      body: stepBodySchema,
      answers: { 202: acceptedSchema, 200: acceptedSchema },
    },
    {
      method: "post",
      path: "/v1/solve",
      summary: "Request a repair-only step",
      body: solveBodySchema,
      answers: { 202: acceptedSchema, 200: acceptedSchema },
    },
    {
      method: "get",
      path: "/v1/steps/{step_id}",
      summary: "A step's status and, when done, its result",
      query: waitQuery,
      answers: { 200: stepViewSchema },
    },
    {
      method: "get",
      path: "/v1/steps/{step_id}/events",
      summary: "Server-sent progress events, ending with `done`",
      answers: {},
    },
    {
      method: "delete",
      path: "/v1/steps/{step_id}",
      summary: "Cancel a step",
      answers: { 200: stepViewSchema },
    },
    {
      method: "post",
      path: "/v1/steps/{step_id}/ack",
      summary: "Acknowledge a step's result (it may then be pruned)",
      answers: {},
    },
  );
}

function registerInfo(app: FastifyInstance, service: Service, docs: RouteDoc[]): void {
  app.get("/v1/health", async () => ({
    status: "ok",
    version: service.version,
    replica_id: service.replicaId,
  }));
  app.get("/v1/stats", async () => service.stats());
  app.get("/v1/environments", async () => ({ environments: service.environments() }));
  docs.push(
    { method: "get", path: "/v1/health", summary: "Liveness", answers: { 200: healthSchema } },
    {
      method: "get",
      path: "/v1/stats",
      summary: "Queue, steps in flight, throughput, sandbox use",
      answers: { 200: statsSchema },
    },
    {
      method: "get",
      path: "/v1/environments",
      summary: "The configured environments",
      answers: { 200: environmentsSchema },
    },
    { method: "get", path: "/v1/openapi.json", summary: "This document", answers: {} },
  );
}

/** Server-sent events: `event: <type>` / `data: <json>`, replayed from the step's start, ending with `done`. */
function streamEvents(service: Service, stepId: string, reply: FastifyReply): void {
  const view = service.view(stepId);
  reply.hijack();
  const response = reply.raw;
  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
  });
  const send = (type: string, data: unknown) =>
    response.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  if (view.status !== "queued" && view.status !== "running") {
    send("done", { step_id: stepId, status: view.status, ...(view.reason ? { reason: view.reason } : {}) });
    response.end();
    return;
  }
  const keepAlive = setInterval(() => response.write(": keep-alive\n\n"), 15_000);
  const unsubscribe = service.events.subscribe(stepId, (event) => {
    send(event.type, event.data);
    if (event.type === "done") close();
  });
  function close(): void {
    clearInterval(keepAlive);
    unsubscribe();
    if (!response.writableEnded) response.end();
  }
  response.once("close", close);
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path)
    value = value && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

function bearerCheck(token: string) {
  const expected = Buffer.from(`Bearer ${token}`);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const given = Buffer.from(request.headers.authorization ?? "");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
    reply.header("www-authenticate", 'Bearer realm="swe-selfplay"');
    return sendError(
      reply,
      new RequestError(
        401,
        "unauthorized",
        given.length === 0 ? "a bearer token is required" : "the bearer token is wrong",
      ),
    );
  };
}

function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof RequestError) {
    if (error.details.retryAfterSeconds !== undefined)
      reply.header("retry-after", String(error.details.retryAfterSeconds));
    return reply.code(error.status).send(error.body);
  }
  const fastifyError = error as { code?: string; statusCode?: number; message?: string };
  if (fastifyError.code === "FST_ERR_CTP_BODY_TOO_LARGE")
    return reply
      .code(413)
      .send(new RequestError(413, "body-too-large", "the request body is too large", { path: "body" }).body);
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500)
    return reply.code(fastifyError.statusCode).send(
      new RequestError(fastifyError.statusCode, "bad-request", fastifyError.message ?? "bad request", {
        path: "body",
      }).body,
    );
  return reply
    .code(500)
    .send(new RequestError(500, "internal", (error as Error)?.message ?? String(error)).body);
}
