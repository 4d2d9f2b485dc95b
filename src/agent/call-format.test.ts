import { describe, expect, it } from "vitest";
import type { Completion } from "../ports/model.js";
import { nativeCallFormat, textCallFormat } from "./call-format.js";
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
