// Our chat messages and tool specifications in the OpenAI wire shape, as chat templates receive them.
import type { ChatMessage, ToolSpecification } from "../ports/model.js";

export function toWireMessage(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case "assistant":
      // Never `content: null`: some servers (llama-cpp-python) reject it; an empty string is valid everywhere.
      return {
        role: "assistant",
        content: message.content ?? "",
        ...(message.toolCalls && message.toolCalls.length > 0
          ? {
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: "function",
                function: { name: call.name, arguments: call.arguments },
              })),
            }
          : {}),
      };
    case "tool":
      return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
    default:
      return { role: message.role, content: message.content };
  }
}

export function toWireTool(tool: ToolSpecification): Record<string, unknown> {
  return { type: "function", function: tool };
}

export interface WireOptions {
  /**
   * Send tool results as user messages (consecutive ones merged into one), each naming its tool: for servers
   * whose chat template leaves `role: "tool"` messages out of the prompt.
   */
  toolResultsAsUser?: boolean;
}

export function toWireMessages(
  messages: readonly ChatMessage[],
  options: WireOptions = {},
): Record<string, unknown>[] {
  if (!options.toolResultsAsUser) return messages.map(toWireMessage);
  const toolNames = new Map<string, string>();
  const wire: Record<string, unknown>[] = [];
  let results: string[] = [];
  const flush = () => {
    if (results.length > 0) wire.push({ role: "user", content: results.join("\n\n") });
    results = [];
  };
  for (const message of messages) {
    if (message.role === "tool") {
      const name = toolNames.get(message.toolCallId) ?? "tool";
      results.push(`Output of ${name} (call ${message.toolCallId}):\n${message.content}`);
      continue;
    }
    flush();
    if (message.role === "assistant")
      for (const call of message.toolCalls ?? []) toolNames.set(call.id, call.name);
    wire.push(toWireMessage(message));
  }
  flush();
  return wire;
}
