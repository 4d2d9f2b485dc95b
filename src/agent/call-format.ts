// The two ways a model calls tools: native tool calling (OpenAI `tools`), and a strict text format of
// `<tool: NAME> … </tool>` blocks for models without it (exactly one call per reply).
import { readFileSync } from "node:fs";
import type { ChatMessage, Completion, ToolCall, ToolSpecification } from "../ports/model.js";

export type CallFormatName = "native" | "text";

export type ParsedReply =
  | { status: "calls"; calls: ToolCall[] }
  | { status: "format-error"; message: string };

export interface ToolObservation {
  call: ToolCall;
  output: string;
}

export interface CallFormat {
  readonly name: CallFormatName;
  /** The tools offered through the API (native), or none (text). */
  offeredTools(tools: readonly ToolSpecification[]): ToolSpecification[] | undefined;
  /** Appended to the system prompt: nothing (native) or the tool list and block syntax (text). */
  systemAddendum(tools: readonly ToolSpecification[]): string;
  parse(completion: Completion, turn: number): ParsedReply;
  /** The assistant message as it goes back into the conversation. */
  assistantMessage(completion: Completion): ChatMessage;
  observationMessages(observations: readonly ToolObservation[], budget: string): ChatMessage[];
  /** What answers a reply without a usable call; native calls that were made still each get a tool message. */
  formatErrorMessages(completion: Completion, message: string, budget: string): ChatMessage[];
}

const TEXT_CALL = /<tool:\s*([A-Za-z_][\w-]*)\s*>\n?([\s\S]*?)<\/tool>/g;
const textInstructions = readFileSync(new URL("text-format.md", import.meta.url), "utf8");

export const nativeCallFormat: CallFormat = {
  name: "native",
  offeredTools: (tools) => [...tools],
  systemAddendum: () => "",
  parse(completion) {
    if (completion.toolCalls.length > 0) return { status: "calls", calls: completion.toolCalls };
    return {
      status: "format-error",
      message: "Your reply called no tool. Act through a tool call; when you are done, call submit.",
    };
  },
  assistantMessage: (completion) => ({
    role: "assistant",
    content: completion.content,
    ...(completion.toolCalls.length > 0 ? { toolCalls: completion.toolCalls } : {}),
  }),
  observationMessages: (observations, budget) =>
    observations.map((observation, index) => ({
      role: "tool",
      toolCallId: observation.call.id,
      content: index === observations.length - 1 ? `${observation.output}\n\n${budget}` : observation.output,
    })),
  formatErrorMessages: (completion, message, budget) =>
    completion.toolCalls.length > 0
      ? nativeCallFormat.observationMessages(
          completion.toolCalls.map((call) => ({ call, output: `Not run. ${message}` })),
          budget,
        )
      : [{ role: "user", content: `${message}\n\n${budget}` }],
};

export const textCallFormat: CallFormat = {
  name: "text",
  offeredTools: () => undefined,
  systemAddendum(tools) {
    const list = tools
      .map(
        (tool) =>
          `## ${tool.name}\n\n${tool.description}\n\nArguments schema: ${JSON.stringify(tool.parameters)}`,
      )
      .join("\n\n");
    return textInstructions.replace("{{tools}}", list);
  },
  parse(completion, turn) {
    const content = completion.content ?? "";
    const blocks = [...content.matchAll(TEXT_CALL)];
    if (blocks.length !== 1)
      return {
        status: "format-error",
        message:
          blocks.length === 0
            ? "Your reply has no tool block. End every reply with exactly one `<tool: NAME> … </tool>` block."
            : `Your reply has ${blocks.length} tool blocks; exactly one is allowed per reply. Send only the first one again.`,
      };
    const [, name, body] = blocks[0] as RegExpMatchArray;
    const argumentsText =
      name === "bash" ? JSON.stringify({ command: body!.replace(/\n$/, "") }) : body!.trim();
    return { status: "calls", calls: [{ id: `text_${turn}`, name: name!, arguments: argumentsText }] };
  },
  assistantMessage: (completion) => ({ role: "assistant", content: completion.content ?? "" }),
  observationMessages: (observations, budget) => [
    {
      role: "user",
      content: `${observations.map((observation) => `<output>\n${observation.output}\n</output>`).join("\n")}\n\n${budget}`,
    },
  ],
  formatErrorMessages: (_completion, message, budget) => [
    { role: "user", content: `${message}\n\n${budget}` },
  ],
};

export function callFormatNamed(name: CallFormatName): CallFormat {
  return name === "native" ? nativeCallFormat : textCallFormat;
}
