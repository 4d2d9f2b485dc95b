// The ways a model calls tools: native tool calling (the server parses calls from OpenAI `tools`), `hermes`
// (`<tool_call>{"name", "arguments"}</tool_call>` blocks in the sampled text, as Qwen's and many other chat
// templates teach; the tools go to the template) and a strict text format of `<tool: NAME> … </tool>` blocks
// for models without tool calling (exactly one call per reply). `json` reads hermes blocks too, and else the
// JSON objects small models write instead: `{"name", "arguments"}` in a ```json fence or as the whole reply.
import { assetText } from "../assets.js";
import type { ChatMessage, Completion, ToolCall, ToolSpecification } from "../ports/model.js";

export type CallFormatName = "native" | "hermes" | "json" | "text";

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

const HERMES_CALL = /<tool_call>([\s\S]*?)<\/tool_call>/g;
const FENCED_JSON = /```(?:json)?[ \t]*\n([\s\S]*?)```/g;
const NO_HERMES_CALL =
  'Your reply called no tool. Call one as <tool_call>{"name": ..., "arguments": {...}}</tool_call>; when you are done, call submit.';
const TEXT_CALL = /<tool:\s*([A-Za-z_][\w-]*)\s*>\n?([\s\S]*?)<\/tool>/g;
const textInstructions = assetText(import.meta.url, "text-format.md");

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

/** One hermes block's JSON as a call, or why it is not one. */
function hermesCall(json: string, id: string): ToolCall | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return `is not valid JSON (${error instanceof Error ? error.message : String(error)})`;
  }
  return callOf(parsed, id);
}

/** A parsed `{"name", "arguments"}` value as a call, or why it is not one. */
function callOf(parsed: unknown, id: string): ToolCall | string {
  const call = parsed as { name?: unknown; arguments?: unknown } | null;
  if (typeof call !== "object" || call === null || Array.isArray(call)) return "is not a JSON object";
  if (typeof call.name !== "string" || call.name === "") return 'has no "name" string';
  const args = call.arguments ?? {};
  if (typeof args !== "string" && (typeof args !== "object" || args === null || Array.isArray(args)))
    return 'has "arguments" that are neither an object nor a JSON string';
  return { id, name: call.name, arguments: typeof args === "string" ? args : JSON.stringify(args) };
}

export const hermesCallFormat: CallFormat = {
  name: "hermes",
  offeredTools: (tools) => [...tools],
  systemAddendum: () => "",
  parse(completion, turn) {
    const content = completion.content ?? "";
    const blocks = [...content.matchAll(HERMES_CALL)];
    if (blocks.length === 0)
      return {
        status: "format-error",
        message: content.includes("<tool_call>")
          ? "Your <tool_call> block is not closed with </tool_call>."
          : NO_HERMES_CALL,
      };
    const calls: ToolCall[] = [];
    for (const [index, block] of blocks.entries()) {
      const call = hermesCall(block[1]!.trim(), `call_${turn}_${index}`);
      if (typeof call === "string")
        return {
          status: "format-error",
          message: `Tool call ${index + 1} ${call}. Write each call as <tool_call>{"name": "TOOL", "arguments": {...}}</tool_call>.`,
        };
      calls.push(call);
    }
    return { status: "calls", calls };
  },
  // The sampled text goes back as it is: the calls inside it are what the template would render.
  assistantMessage: (completion) => ({ role: "assistant", content: completion.content ?? "" }),
  observationMessages: nativeCallFormat.observationMessages,
  formatErrorMessages: (_completion, message, budget) => [
    { role: "user", content: `${message}\n\n${budget}` },
  ],
};

/** The JSON texts of a reply that may be calls: its fenced blocks, or else the whole reply if it is an object. */
function jsonCandidates(content: string): string[] {
  const fenced = [...content.matchAll(FENCED_JSON)].map((block) => block[1]!.trim());
  if (fenced.length > 0) return fenced.filter((text) => text.startsWith("{") || text.startsWith("["));
  const whole = content.trim();
  return whole.startsWith("{") && whole.endsWith("}") ? [whole] : [];
}

export const jsonCallFormat: CallFormat = {
  ...hermesCallFormat,
  name: "json",
  parse(completion, turn) {
    const content = completion.content ?? "";
    if (content.includes("<tool_call>")) return hermesCallFormat.parse(completion, turn);
    const calls: ToolCall[] = [];
    for (const text of jsonCandidates(content)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        continue;
      }
      for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
        const call = callOf(item, `call_${turn}_${calls.length}`);
        if (typeof call !== "string") calls.push(call);
      }
    }
    return calls.length > 0
      ? { status: "calls", calls }
      : { status: "format-error", message: NO_HERMES_CALL };
  },
};

const CALL_FORMATS: Record<CallFormatName, CallFormat> = {
  native: nativeCallFormat,
  hermes: hermesCallFormat,
  json: jsonCallFormat,
  text: textCallFormat,
};

export function callFormatNamed(name: CallFormatName): CallFormat {
  return CALL_FORMATS[name];
}
