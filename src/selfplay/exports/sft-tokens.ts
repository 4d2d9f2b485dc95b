// SFT lines as token ids through the model's own chat template (a server's tokenizer): `input_ids` of the
// whole conversation and `labels` that keep the ids of the assistant's tokens (its text, its calls and the
// token that ends its turn) and hold -100 everywhere else, as the token-in/token-out client samples them.
// An assistant turn's tokens are found by rendering successive prefixes; a template whose rendering of a
// conversation does not extend the rendering of its prefixes is refused, naming the line.
import { InputError } from "../../errors.js";
import type { ChatMessage, ToolSpecification } from "../../ports/model.js";
import type { SftLine, SftMessage, SftMeta } from "./sft-lines.js";

/** The model's chat template and tokenizer (e.g. vLLM's `/tokenize`). */
export interface ChatRenderer {
  renderChat(input: {
    messages: readonly ChatMessage[];
    tools?: readonly ToolSpecification[];
    addGenerationPrompt: boolean;
  }): Promise<number[]>;
  /** Plain text, without special tokens added. */
  encode(text: string): Promise<number[]>;
}

export interface SftTokenLine {
  input_ids: number[];
  labels: number[];
  meta: SftMeta;
}

export const IGNORED_LABEL = -100;
const SENTINEL = "SWESELFPLAYTURNSENTINEL";

/** Renders lines one by one; the template's turn closing is found once, from the first line. */
export class SftTokenizer {
  private closing: Promise<number[]> | null = null;

  constructor(private readonly renderer: ChatRenderer) {}

  /** Line `lineNumber` (1-based, for messages) as ids and labels. */
  async tokenLine(line: SftLine, lineNumber: number): Promise<SftTokenLine> {
    const where = `line ${lineNumber} (episode ${line.meta.episode_id})`;
    const messages = line.messages.map(chatMessage);
    const tools = line.tools.map((tool) => tool.function);
    const render = (count: number, addGenerationPrompt: boolean) =>
      this.renderer.renderChat({ messages: messages.slice(0, count), tools, addGenerationPrompt });
    const turns = messages.flatMap((message, index) => (message.role === "assistant" ? [index] : []));
    const [inputIds, closing, ...spans] = await Promise.all([
      render(messages.length, false),
      this.turnClosing(messages, tools, turns[0] ?? 0),
      ...turns.flatMap((index) => [render(index, true), render(index + 1, false)]),
    ]);
    const labels = inputIds!.map(() => IGNORED_LABEL);
    for (const [turn, index] of turns.entries()) {
      const prompt = spans[2 * turn]!;
      const rendered = spans[2 * turn + 1]!;
      const mismatch = firstMismatch(rendered, prompt) ?? firstMismatch(inputIds!, rendered);
      if (mismatch !== null)
        throw new InputError(
          "template-not-prefix-consistent",
          `${where}: the chat template does not render message ${index} (assistant) as an extension of the messages before it, nor the whole conversation as an extension of it (first differing token at ${mismatch}); its tokens cannot be labelled`,
        );
      const end = rendered.length - closing!.length;
      if (end < prompt.length || firstMismatch(rendered.slice(end), closing!) !== null)
        throw new InputError(
          "template-not-prefix-consistent",
          `${where}: message ${index} (assistant) does not end with the template's turn closing`,
        );
      // The turn's own tokens and the one that closes it (what sampling stops at); the rest of the closing is the template's.
      for (let position = prompt.length; position <= end; position++) labels[position] = inputIds![position]!;
    }
    return { input_ids: inputIds!, labels, meta: line.meta };
  }

  /** The tokens the template puts after an assistant turn's content, e.g. `<|im_end|>` and a newline. */
  private turnClosing(
    messages: readonly ChatMessage[],
    tools: readonly ToolSpecification[],
    firstTurn: number,
  ): Promise<number[]> {
    this.closing ??= (async () => {
      const head = messages.slice(0, firstTurn);
      const [prompt, closed, sentinel] = await Promise.all([
        this.renderer.renderChat({ messages: head, tools, addGenerationPrompt: true }),
        this.renderer.renderChat({
          messages: [...head, { role: "assistant", content: SENTINEL }],
          tools,
          addGenerationPrompt: false,
        }),
        this.renderer.encode(SENTINEL),
      ]);
      const expected = [...prompt, ...sentinel];
      if (firstMismatch(closed, expected) !== null || closed.length === expected.length)
        throw new InputError(
          "template-not-prefix-consistent",
          "the chat template does not close an assistant turn after its content, so the turn's end cannot be told",
        );
      return closed.slice(expected.length);
    })();
    return this.closing;
  }
}

/** The first position where `whole` does not start with `prefix`, or null when it does. */
function firstMismatch(whole: readonly number[], prefix: readonly number[]): number | null {
  for (let position = 0; position < prefix.length; position++)
    if (whole[position] !== prefix[position]) return position;
  return null;
}

/** An SFT line's message as the chat renderer takes it (the inverse of the line's OpenAI form). */
export function chatMessage(message: SftMessage): ChatMessage {
  switch (message.role) {
    case "assistant":
      return {
        role: "assistant",
        content: message.content,
        ...(message.tool_calls
          ? {
              toolCalls: message.tool_calls.map((call) => ({
                id: call.id,
                name: call.function.name,
                arguments: call.function.arguments,
              })),
            }
          : {}),
      };
    case "tool":
      return { role: "tool", toolCallId: message.tool_call_id, content: message.content };
    default:
      return { role: message.role, content: message.content };
  }
}
