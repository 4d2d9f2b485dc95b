// A model client that plays a planned list of moves: each reply is a short text and one native tool call,
// in the agent's own protocol, so the real loop executes it in the sandbox and records the real output.
import type { CompletionRequest, CompletionResult, ModelClient } from "../../ports/model.js";

export interface Move {
  /** The short reasoning written before the call. */
  say: string;
  tool: "bash" | "editor" | "submit";
  arguments: Record<string, unknown>;
}

/** Replies with the move whose turn it is (the number of assistant messages so far); past the plan, a submit. */
export function createPlayback(name: string, moves: readonly Move[]): ModelClient {
  return {
    sampling: { model: name, temperature: 0, top_p: 1 },
    tokenSource: "chat",
    complete(request: CompletionRequest): Promise<CompletionResult> {
      const turn = request.messages.filter((message) => message.role === "assistant").length;
      const move = moves[turn] ?? { say: "Submitting.", tool: "submit", arguments: {} };
      return Promise.resolve({
        status: "ok",
        completion: {
          content: move.say,
          toolCalls: [{ id: `call_${turn + 1}`, name: move.tool, arguments: JSON.stringify(move.arguments) }],
          finishReason: "tool_calls",
          usage: { promptTokens: 0, completionTokens: 0 },
          tokens: null,
          durationMs: 0,
        },
      });
    },
  };
}
