// What an OpenAI-compatible chat completion says: the message, its tool calls, usage, and the exact token ids
// and logprobs vLLM (`prompt_token_ids` on the response) and SGLang (on the choice) return when asked.
import { InfrastructureError } from "../errors.js";
import type { Completion, TokenTrace, ToolCall } from "../ports/model.js";

interface WireToolCall {
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

function isTokenList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => Number.isInteger(item));
}

/**
 * Reads vLLM (`prompt_token_ids` on the response) and SGLang (`prompt_token_ids` on the choice) shapes.
 * Returns why there is no usable trace instead, so the warning can say what the server sent.
 */
export function parseTokens(
  response: Record<string, unknown>,
  choice: Record<string, unknown>,
): TokenTrace | string {
  const promptTokenIds = response.prompt_token_ids ?? choice.prompt_token_ids;
  const completionTokenIds = choice.token_ids;
  const content = (choice.logprobs as { content?: unknown } | null | undefined)?.content;
  if (!isTokenList(promptTokenIds)) return "no prompt_token_ids";
  if (!isTokenList(completionTokenIds)) return "no choices[0].token_ids";
  if (!Array.isArray(content)) return "no choices[0].logprobs.content";
  const logprobs = content.map((entry) => Number((entry as { logprob?: unknown }).logprob));
  if (logprobs.length !== completionTokenIds.length)
    return `${logprobs.length} logprobs for ${completionTokenIds.length} sampled token ids`;
  if (logprobs.some((value) => !Number.isFinite(value))) return "a logprob is not a finite number";
  return {
    promptTokenIds,
    completionTokenIds,
    logprobs,
    ...(typeof response.model === "string" ? { model: response.model } : {}),
  };
}

export function parseCompletion(
  text: string,
  url: string,
  durationMs: number,
): { completion: Completion; tokenProblem: string | null } {
  let response: Record<string, unknown>;
  try {
    response = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new InfrastructureError(
      "model-bad-response",
      `model server at ${url} answered with non-JSON: ${text.slice(0, 200)}`,
    );
  }
  const choices = response.choices;
  const choice = Array.isArray(choices) ? (choices[0] as Record<string, unknown> | undefined) : undefined;
  const message = choice?.message as { content?: unknown; tool_calls?: unknown } | undefined;
  if (!choice || !message)
    throw new InfrastructureError(
      "model-bad-response",
      `model server at ${url} answered without choices[0].message`,
      {
        data: { body: text.slice(0, 2000) },
      },
    );
  const toolCalls: ToolCall[] = [];
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((raw: WireToolCall, index) => {
      const args = raw.function?.arguments;
      toolCalls.push({
        id: typeof raw.id === "string" && raw.id !== "" ? raw.id : `call_${index}`,
        name: typeof raw.function?.name === "string" ? raw.function.name : "",
        arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}),
      });
    });
  }
  const usage = (response.usage ?? {}) as { prompt_tokens?: unknown; completion_tokens?: unknown };
  const tokens = parseTokens(response, choice);
  const completion: Completion = {
    content: typeof message.content === "string" ? message.content : null,
    toolCalls,
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : "stop",
    usage: {
      promptTokens: Number(usage.prompt_tokens ?? 0) || 0,
      completionTokens: Number(usage.completion_tokens ?? 0) || 0,
    },
    tokens: typeof tokens === "string" ? null : tokens,
    durationMs,
  };
  return { completion, tokenProblem: typeof tokens === "string" ? tokens : null };
}
