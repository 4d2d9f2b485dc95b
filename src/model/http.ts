// One JSON POST to a model server whose every timeout is the caller's: undici's own defaults (300 s until
// the headers, 300 s between body chunks) would otherwise end a slow call long before the configured limit.
import { createRequire } from "node:module";
import type * as Undici from "undici";
import { InfrastructureError } from "../errors.js";

export type HttpAttempt =
  | { kind: "response"; status: number; body: string; retryAfterMs: number | null }
  | { kind: "network"; message: string; timedOut: boolean };

export interface PostOptions {
  /** The whole request's limit, ms: connecting, waiting for the headers and reading the body. */
  timeoutMs: number;
  headers?: Record<string, string>;
  abortSignal?: AbortSignal;
}

/** undici loads with the first request, not with every command that imports the model client. */
let undici: typeof Undici | undefined;
const loadUndici = (): typeof Undici => {
  undici ??= createRequire(import.meta.url)("undici") as typeof Undici;
  return undici;
};

const agents = new Map<number, Undici.Agent>();

/** A connection pool whose header and body timeouts are `timeoutMs` (undici's defaults would cut earlier). */
function agentFor(timeoutMs: number): Undici.Agent {
  let agent = agents.get(timeoutMs);
  if (!agent) {
    agent = new (loadUndici().Agent)({
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connectTimeout: timeoutMs,
    });
    agents.set(timeoutMs, agent);
  }
  return agent;
}

/** Posts `body`; an abort by the caller rethrows its reason, everything else is an attempt to judge. */
export function postJson(url: string, body: string, options: PostOptions): Promise<HttpAttempt> {
  return requestJson(url, body, options);
}

/** A GET when `body` is null, else a JSON POST; the same timeouts and outcomes as postJson. */
export async function requestJson(
  url: string,
  body: string | null,
  options: PostOptions,
): Promise<HttpAttempt> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, timeout]) : timeout;
  try {
    const response = await loadUndici().fetch(url, {
      method: body === null ? "GET" : "POST",
      headers: { ...(body === null ? {} : { "content-type": "application/json" }), ...options.headers },
      ...(body === null ? {} : { body }),
      signal,
      dispatcher: agentFor(options.timeoutMs),
    });
    const text = await response.text();
    const retryAfter = Number(response.headers.get("retry-after"));
    return {
      kind: "response",
      status: response.status,
      body: text,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null,
    };
  } catch (error) {
    if (options.abortSignal?.aborted) throw options.abortSignal.reason ?? error;
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return timeout.aborted
      ? {
          kind: "network",
          message: `no answer within ${options.timeoutMs} ms (requestTimeoutMs)`,
          timedOut: true,
        }
      : {
          kind: "network",
          message: `${error instanceof Error ? error.message : String(error)}${cause}`,
          timedOut: false,
        };
  }
}

/** A 5xx whose body says this: the server could not handle the request itself, so sending it again fails again. */
const INVALID_REQUEST =
  /validation errors?|invalid|unprocessable|unrecognized|unsupported|not supported|not permitted|field required|missing required|is not of type/i;

/**
 * Whether an answer is worth another try: throttling, server errors, timeouts and dropped connections; not a
 * server error that names the request itself as the problem.
 */
export function transientProblem(attempt: HttpAttempt): string | null {
  if (attempt.kind === "network") return attempt.message;
  if (attempt.status === 429 || attempt.status === 408)
    return `HTTP ${attempt.status}: ${errorDetail(attempt.body)}`;
  if (attempt.status >= 500) {
    const detail = errorDetail(attempt.body);
    return INVALID_REQUEST.test(detail) ? null : `HTTP ${attempt.status}: ${detail}`;
  }
  return null;
}

export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Exponential backoff with jitter, or the server's Retry-After, capped at `maxDelayMs`. */
export function retryDelayMs(policy: RetryPolicy, failures: number, attempt: HttpAttempt): number {
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failures - 1));
  const retryAfterMs = attempt.kind === "response" ? attempt.retryAfterMs : null;
  return Math.min(policy.maxDelayMs, retryAfterMs ?? backoff * (0.5 + Math.random() / 2));
}

/** Longest error detail passed on; enough for a validation error listing every field. */
const MAX_DETAIL_CHARS = 4000;

/** Collapses a server's error text to one line (pydantic and stack-trace bodies span many). */
export function oneLine(text: string): string {
  const line = text
    .replace(/\s*\n\s*/g, " | ")
    .replace(/\s+/g, " ")
    .trim();
  return line.length > MAX_DETAIL_CHARS ? `${line.slice(0, MAX_DETAIL_CHARS)}…` : line;
}

/** The server's own words about an error, on one line. */
export function errorDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as {
      error?: { message?: unknown } | string;
      message?: unknown;
      detail?: unknown;
    };
    if (typeof parsed.error === "string") return oneLine(parsed.error);
    if (parsed.error && typeof parsed.error.message === "string") return oneLine(parsed.error.message);
    if (typeof parsed.message === "string") return oneLine(parsed.message);
    if (parsed.detail !== undefined)
      return oneLine(typeof parsed.detail === "string" ? parsed.detail : JSON.stringify(parsed.detail));
  } catch {
    // not JSON: the raw text is the best evidence we have
  }
  // An HTML page (a web server's or proxy's error page) says nothing useful beyond its title.
  if (/^\s*<(!doctype html|html)[\s>]/i.test(body)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
    return title ? `an HTML page titled "${oneLine(title)}"` : "an HTML page";
  }
  return oneLine(body);
}

export const CONTEXT_OVERFLOW =
  /maximum context length|context[_ ]length[_ ]exceeded|context window|prompt is too long|too many tokens|exceeds? the (model'?s? )?(max|context)|longer than the maximum model length/i;

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * What a server that stopped answering a seeded request most likely did, and the fix: vLLM's CPU build (0.32)
 * with chunked prefill on (its default) dies on the first seeded request whose prefill is chunked, i.e. a
 * prompt longer than --max-num-batched-tokens (2,048 by default on a CPU).
 */
export const SEEDED_CRASH =
  '(is the server up? It stopped answering a seeded request: vLLM\'s CPU build with chunked prefill on dies on the first seeded request whose prefill is chunked, "RuntimeError: CPU Generator does not use offset" in its log. Serve it with --no-enable-chunked-prefill --max-num-batched-tokens <its --max-model-len>, or run with --seeds off.)';

const ENGINE_DIED =
  /EngineDeadError|EngineCore encountered|engine (core )?(is )?dead|CPU Generator does not use offset/i;

export type Verdict<T> =
  | { kind: "done"; value: T }
  /** Worth another try (e.g. a body cut short); `code` names the error if no try succeeds. */
  | { kind: "retry"; problem: string; code: string }
  /** Send at once again, not counted as a failure: the request changed (e.g. it dropped a refused field). */
  | { kind: "resend" };

/** An answer the judge rules on: every HTTP response that is not transient, with how long its attempt took. */
export interface JudgedResponse {
  status: number;
  body: string;
  durationMs: number;
}

export interface RetryingPostOptions extends PostOptions {
  retry: RetryPolicy;
  /** The request carries a sampling seed: a server that stops answering it is told apart (SEEDED_CRASH). */
  seeded?: boolean;
  onRetry?(details: { url: string; attempt: number; delayMs: number; problem: string }): void;
}

/**
 * Posts until `judge` accepts an answer: network failures, timeouts, 408/429/5xx and answers the judge calls
 * transient are retried with backoff; `judge` throws for answers no retry can mend. `body` is rendered again
 * for every attempt, so a judge that changes what the request asks for can have it resent.
 */
export async function postWithRetries<T>(
  url: string,
  body: string | (() => string),
  options: RetryingPostOptions,
  judge: (response: JudgedResponse) => Verdict<T>,
): Promise<T> {
  let failures = 0;
  let serverDied = false;
  for (;;) {
    const started = performance.now();
    const attempt = await postJson(url, typeof body === "string" ? body : body(), options);
    let problem = transientProblem(attempt);
    let code = "model-unreachable";
    if (problem === null && attempt.kind === "response") {
      const verdict = judge({ ...attempt, durationMs: performance.now() - started });
      if (verdict.kind === "done") return verdict.value;
      if (verdict.kind === "resend") continue;
      problem = verdict.problem;
      code = verdict.code;
    }
    failures++;
    // A server that drops the connection, or whose engine died (vLLM answers 500 until it has shut down).
    if ((attempt.kind === "network" && !attempt.timedOut) || ENGINE_DIED.test(problem ?? ""))
      serverDied = true;
    if (failures > options.retry.maxRetries) {
      const hint = options.seeded && serverDied ? SEEDED_CRASH : "(is the server up?)";
      throw new InfrastructureError(
        code,
        `model server at ${url} failed ${failures} times, last: ${problem} ${hint}`,
        { data: { url, attempts: failures, problem } },
      );
    }
    const delayMs = retryDelayMs(options.retry, failures, attempt);
    options.onRetry?.({ url, attempt: failures, delayMs: Math.round(delayMs), problem: problem ?? "" });
    await sleep(delayMs, options.abortSignal);
  }
}

/** The body as a JSON object, or null when it is not one (often a reply cut short). */
export function parseJsonObject(body: string): Record<string, unknown> | null {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return null;
}

/** The verdict on a body that is not a JSON object: try again. */
export function notJsonVerdict(body: string, code: string): Verdict<never> {
  return {
    kind: "retry",
    problem: `a reply that is not a JSON object (cut short?): ${body.slice(0, 200)}`,
    code,
  };
}
