// Reading a dashboard request's query string: page numbers, step filters, and the HTML answers that go
// with them (400 for a bad parameter, 404 for an unknown id).
import type { FastifyReply } from "fastify";
import { html } from "./html.js";
import { page } from "./pages/layout.js";
import { type StepFilters, VERDICTS, type VerdictFilter } from "./queries/steps.js";

/** A query parameter that cannot be used; answered with 400 and its message. */
export class BadRequest extends Error {}

export function positiveInteger(value: unknown, name: string, fallback: number): number {
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

/** A non-empty text parameter, or undefined. */
export function queryText(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function stepFilters(query: Record<string, unknown>): StepFilters {
  const verdict = queryText(query.verdict);
  if (verdict !== undefined && !VERDICTS.includes(verdict as VerdictFilter))
    throw new BadRequest(`verdict must be one of ${VERDICTS.join(", ")}, got "${verdict}"`);
  return {
    environment: queryText(query.environment),
    strategy: queryText(query.strategy),
    verdict: verdict as VerdictFilter | undefined,
    failedCheck: queryText(query.check),
    policyVersion: queryText(query.policy),
    minSolveRate: rate(query.minRate, "minRate"),
    maxSolveRate: rate(query.maxRate, "maxRate"),
    search: queryText(query.q)?.slice(0, 200),
  };
}

/** The filter parameters of a request, for the links of the step pages. */
export function filterQuery(query: Record<string, unknown>): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of ["environment", "strategy", "verdict", "check", "policy", "minRate", "maxRate", "q"]) {
    const value = queryText(query[key]);
    if (value !== undefined) params.set(key, value);
  }
  return params;
}

export function sendHtml(reply: FastifyReply, status: number, body: { text: string }): FastifyReply {
  return reply.code(status).type("text/html; charset=utf-8").send(body.text);
}

export function notFound(reply: FastifyReply, what: string): FastifyReply {
  return sendHtml(
    reply,
    404,
    page({ title: "Not found", body: html`<p>${what}</p><p><a href="/">All runs</a></p>` }),
  );
}
