// The token-exact SFT lines over a small ChatML-shaped template written here (one id per character, special
// ids for the turn markers), so the labels can be read off by eye; the real template and server are checked
// in test/vllm/tito-vllm.test.ts.
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../ports/model.js";
import type { SftLine } from "./sft-lines.js";
import { type ChatRenderer, chatMessage, IGNORED_LABEL, SftTokenizer } from "./sft-tokens.js";

const START = 1000;
const END = 1001;
const text = (value: string) => [...value].map((character) => character.codePointAt(0)!);

/** `<start>role\ncontent[calls]<end>\n` per message, a generation prompt of `<start>assistant\n`. */
function chatMl(options: { dropEarlierReplies?: boolean } = {}): ChatRenderer & { calls: number } {
  const renderer = {
    calls: 0,
    async renderChat(input: { messages: readonly ChatMessage[]; addGenerationPrompt: boolean }) {
      renderer.calls++;
      const last = input.messages.length - 1;
      const ids = input.messages.flatMap((message, index) => {
        let body = message.content ?? "";
        if (message.role === "assistant") {
          body += (message.toolCalls ?? []).map((call) => `<call ${call.name} ${call.arguments}>`).join("");
          // Like templates that strip the reasoning of earlier turns: an earlier reply renders shorter.
          if (options.dropEarlierReplies && index < last) body = body.slice(0, 1);
        }
        return [START, ...text(`${message.role}\n${body}`), END, ...text("\n")];
      });
      return input.addGenerationPrompt ? [...ids, START, ...text("assistant\n")] : ids;
    },
    encode: async (value: string) => text(value),
  };
  return renderer;
}

const line: SftLine = {
  messages: [
    { role: "system", content: "S" },
    { role: "user", content: "U" },
    {
      role: "assistant",
      content: "a",
      tool_calls: [{ id: "c1", type: "function", function: { name: "bash", arguments: "{}" } }],
    },
    { role: "tool", tool_call_id: "c1", content: "o" },
    { role: "assistant", content: "b" },
  ],
  tools: [{ type: "function", function: { name: "bash", description: "d", parameters: {} } }],
  meta: {
    episode_id: "ep-1",
    run_id: "run-1",
    role: "solver",
    artifact_id: "art-1",
    environment: "e",
    policy: "openai:m",
    policy_version: "1",
    reward: 1,
    resolved: true,
    call_format: "native",
    turns: 2,
  },
};

/** The labelled stretches as text, `|` for the end-of-turn id. */
function labelled(ids: number[], labels: number[]): string[] {
  const stretches: string[] = [];
  let current = "";
  labels.forEach((label, index) => {
    expect(label === IGNORED_LABEL || label === ids[index]).toBe(true);
    if (label === IGNORED_LABEL) {
      if (current) stretches.push(current);
      current = "";
    } else current += label === END ? "|" : String.fromCodePoint(label);
  });
  if (current) stretches.push(current);
  return stretches;
}

describe("SFT lines as token ids and labels", () => {
  it("labels each assistant turn's text, calls and end-of-turn token, nothing else", async () => {
    const renderer = chatMl();
    const tokens = await new SftTokenizer(renderer).tokenLine(line, 1);
    expect(tokens.input_ids).toEqual(
      await renderer.renderChat({ messages: line.messages.map(chatMessage), addGenerationPrompt: false }),
    );
    expect(tokens.labels).toHaveLength(tokens.input_ids.length);
    expect(labelled(tokens.input_ids, tokens.labels)).toEqual(["a<call bash {}>|", "b|"]);
    expect(tokens.meta).toBe(line.meta);
  });

  it("refuses a template that renders earlier replies differently, naming the line and the message", async () => {
    await expect(new SftTokenizer(chatMl({ dropEarlierReplies: true })).tokenLine(line, 7)).rejects.toThrow(
      /^line 7 \(episode ep-1\): the chat template does not render message 2 \(assistant\) as an extension of the messages before it/,
    );
  });
});
