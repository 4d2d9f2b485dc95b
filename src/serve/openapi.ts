// The OpenAPI document of the service, generated from the zod schemas the routes validate with.
import { z } from "zod";
import { errorSchema } from "./schemas.js";

export interface RouteDoc {
  method: "get" | "post" | "delete";
  path: string;
  summary: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  answers: Record<number, z.ZodType>;
}

const json = (schema: z.ZodType, io: "input" | "output") =>
  z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;

export function openApiDocument(version: string, routes: readonly RouteDoc[], auth: boolean): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, schema] of Object.entries(route.answers))
      responses[status] = {
        description: "ok",
        content: { "application/json": { schema: json(schema, "output") } },
      };
    if (Object.keys(responses).length === 0) responses["200"] = { description: "ok" };
    responses.default = {
      description: "error: 400 names the bad field's path; 401, 404, 409, 410, 413, 429 (with Retry-After)",
      content: { "application/json": { schema: json(errorSchema, "output") } },
    };
    const parameters = [
      ...(route.path.includes("{step_id}")
        ? [{ name: "step_id", in: "path", required: true, schema: { type: "string" } }]
        : []),
      ...Object.entries(route.query?.shape ?? {}).map(([name, schema]) => ({
        name,
        in: "query",
        required: false,
        schema: json(schema as z.ZodType, "input"),
      })),
    ];
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      summary: route.summary,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: json(route.body, "input") } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "swe-selfplay service", version },
    paths,
    ...(auth
      ? {
          components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
          security: [{ bearer: [] }],
        }
      : {}),
  };
}
