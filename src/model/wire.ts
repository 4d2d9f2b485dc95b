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
