import { describe, expect, it } from "vitest";
import type { Completion } from "../ports/model.js";
import {
  callFormatNamed,
  hermesCallFormat,
  jsonCallFormat,
  nativeCallFormat,
  textCallFormat,
} from "./call-format.js";
import { truncateObservation } from "./loop.js";

function completion(content: string | null, toolCalls: Completion["toolCalls"] = []): Completion {
  return {
    content,
    toolCalls,
    finishReason: "stop",
    usage: { promptTokens: 0, completionTokens: 0 },
    tokens: null,
    durationMs: 0,
  };
}

describe("text call format", () => {
  it("parses exactly one block; bash takes the raw command, other tools JSON", () => {
    const bash = textCallFormat.parse(completion("Let me look.\n<tool: bash>\nls -la | head\n</tool>"), 3);
    expect(bash).toEqual({
      status: "calls",
      calls: [{ id: "text_3", name: "bash", arguments: JSON.stringify({ command: "ls -la | head" }) }],
    });
    const editor = textCallFormat.parse(
      completion('<tool: editor>\n{"command": "view", "path": "a.py"}\n</tool>'),
      0,
    );
    expect(editor.status === "calls" && JSON.parse(editor.calls[0]!.arguments)).toEqual({
      command: "view",
      path: "a.py",
    });
  });

  it("rejects replies with no block or with two blocks, saying which", () => {
    const none = textCallFormat.parse(completion("I think the bug is in a.py."), 0);
    expect(none.status === "format-error" && none.message).toMatch(/no tool block/);
    const two = textCallFormat.parse(completion("<tool: bash>ls</tool>\n<tool: bash>pwd</tool>"), 0);
    expect(two.status === "format-error" && two.message).toMatch(/2 tool blocks; exactly one/);
  });

  it("lists the tools and the block syntax in the system addendum", () => {
    const addendum = textCallFormat.systemAddendum([
      { name: "bash", description: "Run it.", parameters: {} },
    ]);
    expect(addendum).toContain("## bash");
    expect(addendum).toContain("<tool: NAME>");
    expect(textCallFormat.offeredTools([{ name: "bash", description: "", parameters: {} }])).toBeUndefined();
  });
});

describe("native call format", () => {
  it("passes tool calls through and flags a reply without one", () => {
    const call = { id: "c1", name: "bash", arguments: "{}" };
    expect(nativeCallFormat.parse(completion(null, [call]), 0)).toEqual({ status: "calls", calls: [call] });
    expect(nativeCallFormat.parse(completion("done?"), 0).status).toBe("format-error");
    const [message] = nativeCallFormat.observationMessages([{ call, output: "out" }], "[budget]");
    expect(message).toEqual({ role: "tool", toolCallId: "c1", content: "out\n\n[budget]" });
  });
});

describe("truncateObservation", () => {
  it("keeps head and tail and says how much is gone", () => {
    const text = `${"a".repeat(600)}${"b".repeat(400)}`;
    const cut = truncateObservation(text, 100);
    expect(cut.startsWith("a".repeat(60))).toBe(true);
    expect(cut.endsWith("b".repeat(40))).toBe(true);
    expect(cut).toContain("[... 900 characters omitted");
    expect(truncateObservation("short", 100)).toBe("short");
  });
});

describe("hermes call format", () => {
  it("parses every <tool_call> block of the sampled text, arguments as objects or JSON strings", () => {
    const parsed = hermesCallFormat.parse(
      completion(
        'Look first.\n<tool_call>\n{"name": "bash", "arguments": {"command": "ls"}}\n</tool_call>\n' +
          '<tool_call>{"name": "editor", "arguments": "{\\"command\\": \\"view\\"}"}</tool_call>',
      ),
      2,
    );
    expect(parsed).toEqual({
      status: "calls",
      calls: [
        { id: "call_2_0", name: "bash", arguments: '{"command":"ls"}' },
        { id: "call_2_1", name: "editor", arguments: '{"command": "view"}' },
      ],
    });
    expect(callFormatNamed("hermes")).toBe(hermesCallFormat);
  });

  it("turns unparsable calls into format errors that say what is wrong", () => {
    const cases: [string, RegExp][] = [
      ["no call at all", /called no tool/],
      ['<tool_call>{"name": "bash"', /not closed/],
      ["<tool_call>{name: bash}</tool_call>", /not valid JSON/],
      ['<tool_call>{"arguments": {}}</tool_call>', /no "name"/],
      ['<tool_call>{"name": "bash", "arguments": [1]}</tool_call>', /neither an object/],
    ];
    for (const [content, message] of cases) {
      const parsed = hermesCallFormat.parse(completion(content), 0);
      expect(parsed.status, content).toBe("format-error");
      if (parsed.status === "format-error") expect(parsed.message).toMatch(message);
    }
  });

  it("sends the sampled text back unchanged and answers calls with tool messages", () => {
    const text = '<tool_call>{"name": "bash", "arguments": {}}</tool_call>';
    expect(hermesCallFormat.assistantMessage(completion(text))).toEqual({ role: "assistant", content: text });
    const [message] = hermesCallFormat.observationMessages(
      [{ call: { id: "call_0_0", name: "bash", arguments: "{}" }, output: "ok" }],
      "[budget]",
    );
    expect(message).toEqual({ role: "tool", toolCallId: "call_0_0", content: "ok\n\n[budget]" });
  });
});

describe("json call format", () => {
  it("reads hermes blocks, fenced JSON calls and a reply that is one JSON call", () => {
    expect(callFormatNamed("json")).toBe(jsonCallFormat);
    const hermes = '<tool_call>{"name": "bash", "arguments": {"command": "ls"}}</tool_call>';
    expect(jsonCallFormat.parse(completion(hermes), 0)).toEqual(
      hermesCallFormat.parse(completion(hermes), 0),
    );
    const fenced =
      'I will look.\n```json\n{\n  "name": "editor",\n  "arguments": {"command": "view", "path": "a.py"}\n}\n```\n' +
      '```\n[{"name": "bash", "arguments": {"command": "pytest"}}]\n```';
    expect(jsonCallFormat.parse(completion(fenced), 3)).toEqual({
      status: "calls",
      calls: [
        { id: "call_3_0", name: "editor", arguments: '{"command":"view","path":"a.py"}' },
        { id: "call_3_1", name: "bash", arguments: '{"command":"pytest"}' },
      ],
    });
    expect(jsonCallFormat.parse(completion('  {"name": "submit"}\n'), 1)).toEqual({
      status: "calls",
      calls: [{ id: "call_1_0", name: "submit", arguments: "{}" }],
    });
  });

  it("is a format error when no block holds a call, and keeps hermes' errors for broken hermes blocks", () => {
    for (const content of [
      "no call",
      '```json\n{"title": "x"}\n```',
      "```python\nprint(1)\n```",
      "{not json}",
    ]) {
      const parsed = jsonCallFormat.parse(completion(content), 0);
      expect(parsed.status, content).toBe("format-error");
    }
    const broken = jsonCallFormat.parse(completion('<tool_call>{"name": "bash"'), 0);
    expect(broken).toEqual(hermesCallFormat.parse(completion('<tool_call>{"name": "bash"'), 0));
  });
});
