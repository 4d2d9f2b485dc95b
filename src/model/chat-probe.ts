// The one-time probe of a chat-completions server: its model list, a one-token completion asking for token ids
// and logprobs, a forced call of a dummy tool, and whether a tool result reaches the prompt at all (some chat
// templates, e.g. llama-cpp-python's chatml formats, leave `role: "tool"` messages out without a word).
import { type InfrastructureError, InputError } from "../errors.js";
import type { CapabilityFinding, ServerCapabilities } from "../ports/model.js";
import { parseCompletion, parseTokens } from "./chat-response.js";
import { errorDetail, type HttpAttempt } from "./http.js";

/** The probe's one-message prompt. */
export const PROBE_PROMPT = "Reply with OK.";

/** What the probe needs of a client: where to ask, how to ask once, and its error for a server that is down. */
export interface ProbeTransport {
  baseUrl: string;
  /** The chat-completions URL. */
  url: string;
  model: string;
  send(
    target: string,
    payload: Record<string, unknown> | null,
    abortSignal: AbortSignal | undefined,
  ): Promise<HttpAttempt>;
  unreachable(message: string): InfrastructureError;
}

export interface ProbeOptions {
  /** The one-token request body as the client would send it (sampling settings, token id fields). */
  short: Record<string, unknown>;
  /** Whether the client sends `tool_choice` at all (`omit` does not). */
  sendsToolChoice: boolean;
  abortSignal?: AbortSignal;
}

/** A tool result this long must add tokens to the prompt (about a hundred) if the template shows it. */
const PROBE_TOOL_OUTPUT = "pong ".repeat(50).trim();
/** Fewer added prompt tokens than this: the tool result was left out. */
const MIN_ADDED_TOKENS = 20;

export async function probeChatServer(
  transport: ProbeTransport,
  options: ProbeOptions,
): Promise<ServerCapabilities> {
  const listedModels = await listedModelsOf(transport, options.abortSignal);
  const { tokenIds, logprobs } = await probeTokens(transport, options);
  const nativeToolCalls = await probeToolCalls(transport, options);
  const toolResults = await probeToolResults(transport, options);
  return {
    url: transport.baseUrl,
    model: transport.model,
    listedModels,
    tokenIds,
    logprobs,
    nativeToolCalls,
    toolResults,
  };
}

async function listedModelsOf(
  transport: ProbeTransport,
  abortSignal: AbortSignal | undefined,
): Promise<string[] | null> {
  const models = await transport.send(`${transport.baseUrl}/models`, null, abortSignal);
  if (models.kind !== "response" || models.status !== 200) return null;
  try {
    const data = (JSON.parse(models.body) as { data?: { id?: unknown }[] }).data;
    if (Array.isArray(data)) return data.map((entry) => String(entry.id));
  } catch {
    // no usable model list: reported as null
  }
  return null;
}

async function probeTokens(
  transport: ProbeTransport,
  { short, abortSignal }: ProbeOptions,
): Promise<{ tokenIds: CapabilityFinding; logprobs: CapabilityFinding }> {
  const answer = await transport.send(
    transport.url,
    { ...short, logprobs: true, return_token_ids: true },
    abortSignal,
  );
  if (answer.kind === "network") throw transport.unreachable(answer.message);
  if (answer.status === 404) throw notFound(transport, answer.body);
  if (answer.status !== 200) {
    const why = `refused token id / logprob fields: HTTP ${answer.status}: ${errorDetail(answer.body)}`;
    return { tokenIds: { supported: false, detail: why }, logprobs: { supported: false, detail: why } };
  }
  const parsed = JSON.parse(answer.body) as Record<string, unknown>;
  const choice = ((parsed.choices as unknown[] | undefined)?.[0] ?? {}) as Record<string, unknown>;
  const trace = parseTokens(parsed, choice);
  const content = (choice.logprobs as { content?: unknown } | null | undefined)?.content;
  return {
    tokenIds:
      typeof trace === "string"
        ? { supported: false, detail: trace }
        : { supported: true, detail: `${trace.promptTokenIds.length} prompt token ids returned` },
    logprobs: Array.isArray(content)
      ? { supported: true, detail: "per-token logprobs returned" }
      : { supported: false, detail: "no choices[0].logprobs.content" },
  };
}

/**
 * A 404 from the chat-completions URL: a wrong path (a base URL without /v1, or with the whole endpoint) or a
 * model the server does not serve. Nothing after it can work, so the probe stops here.
 */
function notFound(transport: ProbeTransport, body: string): InputError {
  return new InputError(
    "model-not-found",
    `model server at ${transport.url} answered HTTP 404 (${errorDetail(body)}): is --base-url the /v1 root (e.g. http://localhost:8000/v1), and does the server serve model "${transport.model}"?`,
    { data: { url: transport.url, model: transport.model } },
  );
}

const PING_TOOL = {
  name: "ping",
  description: "Answers ping.",
  parameters: { type: "object", properties: {}, additionalProperties: false },
};

async function probeToolCalls(
  transport: ProbeTransport,
  { short, sendsToolChoice, abortSignal }: ProbeOptions,
): Promise<CapabilityFinding> {
  const answer = await transport.send(
    transport.url,
    {
      ...short,
      max_tokens: 32,
      tools: [{ type: "function", function: PING_TOOL }],
      tool_choice: sendsToolChoice ? { type: "function", function: { name: "ping" } } : undefined,
    },
    abortSignal,
  );
  if (answer.kind === "network") throw transport.unreachable(answer.message);
  if (answer.status !== 200)
    return {
      supported: false,
      detail: `tools refused: HTTP ${answer.status}: ${errorDetail(answer.body)}`,
    };
  const { completion } = parseCompletion(answer.body, transport.url, 0);
  return completion.toolCalls.length > 0
    ? { supported: true, detail: `tool_calls returned (${completion.toolCalls[0]!.name})` }
    : { supported: false, detail: "answered with text instead of tool_calls" };
}

/**
 * Asks twice with a finished call of the dummy tool, its result once short and once a hundred tokens long: a
 * template that shows tool results counts the difference in `usage.prompt_tokens`.
 */
async function probeToolResults(
  transport: ProbeTransport,
  { short, abortSignal }: ProbeOptions,
): Promise<CapabilityFinding> {
  const promptTokens = async (output: string): Promise<number | string> => {
    const messages = [
      { role: "user", content: PROBE_PROMPT },
      {
        role: "assistant",
        content: "",
        tool_calls: [{ id: "probe_0", type: "function", function: { name: "ping", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "probe_0", content: output },
    ];
    const answer = await transport.send(transport.url, { ...short, messages }, abortSignal);
    if (answer.kind === "network") throw transport.unreachable(answer.message);
    if (answer.status !== 200)
      return `refused a tool result message: HTTP ${answer.status}: ${errorDetail(answer.body)}`;
    const usage = (JSON.parse(answer.body) as { usage?: { prompt_tokens?: unknown } }).usage;
    return Number(usage?.prompt_tokens) || 0;
  };
  const shortPrompt = await promptTokens("pong");
  if (typeof shortPrompt === "string") return { supported: false, detail: shortPrompt };
  const longPrompt = await promptTokens(PROBE_TOOL_OUTPUT);
  if (typeof longPrompt === "string") return { supported: false, detail: longPrompt };
  if (shortPrompt === 0 || longPrompt === 0)
    return { supported: true, detail: "not measured: the server reports no usage.prompt_tokens" };
  return longPrompt - shortPrompt >= MIN_ADDED_TOKENS
    ? { supported: true, detail: `a tool result adds ${longPrompt - shortPrompt} prompt tokens` }
    : {
        supported: false,
        detail: `the server's chat template leaves role "tool" messages out of the prompt (${shortPrompt} and ${longPrompt} prompt tokens with a short and a long tool result)`,
      };
}
