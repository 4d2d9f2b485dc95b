import { describe, expect, it } from "vitest";
import type { EpisodeConversation } from "../../ports/policy.js";
import {
  type SftEpisode,
  SKIP_NO_CONVERSATION,
  SKIP_NO_TOOL_CALLS,
  SKIP_TEXT_FORMAT,
  SKIP_UNFINISHED,
  selectSftLines,
  sftLine,
} from "./sft-lines.js";

const bash = { name: "bash", description: "Runs a command.", parameters: { type: "object" } };
const submit = { name: "submit", description: "Ends the episode.", parameters: { type: "object" } };

function nativeConversation(): EpisodeConversation {
  const ls = { id: "chatcmpl-tool-1", name: "bash", arguments: '{"command": "ls"}' };
  const done = { id: "chatcmpl-tool-2", name: "submit", arguments: "{}" };
  return {
    callFormat: "native",
    tools: [bash, submit],
    toolsOffered: true,
    messages: [
      { role: "system", content: "You fix bugs." },
      { role: "user", content: "Make the tests pass." },
      { role: "assistant", content: "Look first.", toolCalls: [ls] },
      { role: "tool", toolCallId: ls.id, content: "a.py\n\n[budget: 3 turns]" },
      { role: "assistant", content: null },
      { role: "user", content: "Your reply called no tool." },
      { role: "assistant", content: null, toolCalls: [done] },
      { role: "tool", toolCallId: done.id, content: "Submitted." },
    ],
    calls: [[ls], [], [done]],
  };
}

function episode(overrides: Partial<SftEpisode> = {}): SftEpisode {
  return {
    episodeId: "ep-1",
    runId: "run-1",
    role: "solver",
    state: "finished",
    environment: "inkwell",
    artifactId: "art-1",
    bugKey: "key-1",
    policy: { kind: "openai", name: "qwen", version: "v1" },
    reward: 1,
    resolved: true,
    valid: null,
    conversation: nativeConversation(),
    ...overrides,
  };
}

describe("an episode as an SFT line", () => {
  it("keeps native tool calls with their ids, the tools, and ends on the last reply", () => {
    const line = sftLine(episode());
    if (typeof line === "string") throw new Error(line);
    expect(line.messages).toEqual([
      { role: "system", content: "You fix bugs." },
      { role: "user", content: "Make the tests pass." },
      {
        role: "assistant",
        content: "Look first.",
        tool_calls: [
          {
            id: "chatcmpl-tool-1",
            type: "function",
            function: { name: "bash", arguments: '{"command": "ls"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "chatcmpl-tool-1", content: "a.py\n\n[budget: 3 turns]" },
      { role: "assistant", content: "" },
      { role: "user", content: "Your reply called no tool." },
      {
        role: "assistant",
        content: "",
        tool_calls: [
          { id: "chatcmpl-tool-2", type: "function", function: { name: "submit", arguments: "{}" } },
        ],
      },
    ]);
    expect(line.tools).toEqual([
      { type: "function", function: bash },
      { type: "function", function: submit },
    ]);
    expect(line.meta).toEqual({
      episode_id: "ep-1",
      run_id: "run-1",
      role: "solver",
      artifact_id: "art-1",
      environment: "inkwell",
      policy: "openai:qwen",
      policy_version: "v1",
      reward: 1,
      resolved: true,
      call_format: "native",
      turns: 3,
    });
  });

  it("moves calls written in the text (hermes, json) into tool_calls with the ids their results carry", () => {
    const hermesCall = { id: "call_0_0", name: "bash", arguments: '{"command":"ls"}' };
    const hermes: EpisodeConversation = {
      callFormat: "hermes",
      tools: [bash],
      toolsOffered: true,
      messages: [
        { role: "system", content: "s" },
        { role: "user", content: "u" },
        {
          role: "assistant",
          content: 'Listing.\n<tool_call>{"name": "bash", "arguments": {"command":"ls"}}</tool_call>',
        },
        { role: "tool", toolCallId: "call_0_0", content: "a.py" },
        { role: "assistant", content: "I am not sure." },
      ],
      calls: [[hermesCall], []],
    };
    const line = sftLine(episode({ conversation: hermes }));
    if (typeof line === "string") throw new Error(line);
    expect(line.messages.slice(2)).toEqual([
      {
        role: "assistant",
        content: "Listing.",
        tool_calls: [
          { id: "call_0_0", type: "function", function: { name: "bash", arguments: '{"command":"ls"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_0_0", content: "a.py" },
      { role: "assistant", content: "I am not sure." },
    ]);
    const json: EpisodeConversation = {
      ...hermes,
      callFormat: "json",
      messages: [
        ...hermes.messages.slice(0, 2),
        { role: "assistant", content: '```json\n{"name": "bash", "arguments": {"command":"ls"}}\n```' },
        { role: "tool", toolCallId: "call_0_0", content: "a.py" },
      ],
      calls: [[hermesCall]],
    };
    const jsonLine = sftLine(episode({ conversation: json }));
    if (typeof jsonLine === "string") throw new Error(jsonLine);
    expect(jsonLine.messages[2]).toMatchObject({ content: "", tool_calls: [{ id: "call_0_0" }] });
    expect(jsonLine.messages).toHaveLength(3);
  });

  it("skips what cannot teach tool calls, saying why", () => {
    expect(
      sftLine(episode({ conversation: null, policy: { kind: "builtin", name: "b", version: "1" } })),
    ).toBe(SKIP_NO_TOOL_CALLS);
    expect(sftLine(episode({ conversation: null }))).toBe(SKIP_NO_CONVERSATION);
    expect(sftLine(episode({ conversation: { ...nativeConversation(), callFormat: "text" } }))).toBe(
      SKIP_TEXT_FORMAT,
    );
  });

  it("refuses a malformed conversation or an unpaired tool result in one line naming the episode", () => {
    const unpaired = nativeConversation();
    unpaired.messages[3] = { role: "tool", toolCallId: "elsewhere", content: "x" };
    expect(() => sftLine(episode({ conversation: unpaired }))).toThrow(
      /^episode ep-1: message 3 answers tool call "elsewhere", which no assistant message before it made/,
    );
    const answeredTwice = nativeConversation();
    answeredTwice.messages.splice(4, 0, { ...answeredTwice.messages[3]! });
    expect(() => sftLine(episode({ conversation: answeredTwice }))).toThrow(/message 4 answers tool call/);
    expect(() => sftLine(episode({ conversation: { callFormat: "native", messages: "no" } }))).toThrow(
      /^episode ep-1: stored conversation is malformed at tools: /,
    );
    expect(() =>
      sftLine(episode({ conversation: { ...nativeConversation(), messages: [{ role: "robot" }] } })),
    ).toThrow(/^episode ep-1: stored conversation is malformed at messages\.0\.role: [^\n]*$/);
  });
});

describe("choosing the episodes", () => {
  const solvers = [
    episode({ episodeId: "a-slow", reward: 1, conversation: nativeConversation() }),
    episode({ episodeId: "a-fail", reward: -1, resolved: false }),
    episode({
      episodeId: "a-fast",
      reward: 1,
      conversation: { ...nativeConversation(), messages: nativeConversation().messages.slice(0, 4) },
    }),
    episode({ episodeId: "b-1", artifactId: "art-2", environment: "toolz", reward: 1 }),
  ];
  const proposers = [
    episode({
      episodeId: "p-valid",
      role: "proposer",
      artifactId: "art-1",
      reward: 0.2,
      resolved: null,
      valid: true,
    }),
    episode({
      episodeId: "p-none",
      role: "proposer",
      artifactId: null,
      reward: -1,
      resolved: null,
      valid: false,
    }),
  ];
  const ids = (selection: ReturnType<typeof selectSftLines>) =>
    selection.lines.map((line) => line.meta.episode_id);

  it("keeps one line per artifact and role by default: highest reward, then fewest turns, then id", () => {
    const selection = selectSftLines([...solvers, ...proposers]);
    expect(ids(selection)).toEqual(["a-fast", "b-1", "p-valid", "p-none"]);
    expect(selection.filteredOut).toBe(2);
    expect(ids(selectSftLines(solvers, { perArtifact: 2 }))).toEqual(["a-slow", "a-fast", "b-1"]);
    expect(ids(selectSftLines(solvers, { perArtifact: "all" }))).toEqual([
      "a-slow",
      "a-fail",
      "a-fast",
      "b-1",
    ]);
    // The same choice whatever the order the store lists them in.
    expect(ids(selectSftLines([...solvers].reverse()))).toEqual(["b-1", "a-fast"]);
  });

  it("filters by role, outcome, reward, environment and policy", () => {
    const all = [...solvers, ...proposers];
    const every = { perArtifact: "all" as const };
    expect(ids(selectSftLines(all, { ...every, roles: ["proposer"] }))).toEqual(["p-valid", "p-none"]);
    expect(ids(selectSftLines(all, { ...every, resolved: true }))).toEqual(["a-slow", "a-fast", "b-1"]);
    expect(ids(selectSftLines(all, { ...every, valid: true }))).toEqual(["p-valid"]);
    expect(ids(selectSftLines(all, { ...every, resolved: true, valid: true }))).toEqual([
      "a-slow",
      "a-fast",
      "b-1",
      "p-valid",
    ]);
    expect(ids(selectSftLines(all, { ...every, minReward: 0.5 }))).toEqual(["a-slow", "a-fast", "b-1"]);
    expect(ids(selectSftLines(all, { ...every, environments: ["toolz"] }))).toEqual(["b-1"]);
    const demo = episode({
      episodeId: "demo",
      policy: { kind: "builtin", name: "builtin-demo", version: "1" },
    });
    for (const policy of ["builtin-demo", "builtin", "builtin:builtin-demo"])
      expect(ids(selectSftLines([...all, demo], { ...every, policies: [policy] }))).toEqual(["demo"]);
    expect(ids(selectSftLines([...all, demo], { ...every, policies: ["openai:other"] }))).toEqual([]);
  });

  it("leaves out the bugs of an evaluation set, by artifact id or by the same bug under another id", () => {
    const all = [...solvers, ...proposers];
    const every = { perArtifact: "all" as const };
    const byId = { artifactIds: new Set(["art-2"]), bugKeys: new Set<string>() };
    expect(ids(selectSftLines(all, { ...every, exclude: byId }))).toEqual([
      "a-slow",
      "a-fail",
      "a-fast",
      "p-valid",
      "p-none",
    ]);
    const rewritten = episode({ episodeId: "c-1", artifactId: "art-3", bugKey: "key-3" });
    const byKey = { artifactIds: new Set<string>(), bugKeys: new Set(["key-3"]) };
    expect(ids(selectSftLines([...all, rewritten], { ...every, exclude: byKey }))).toEqual(
      ids(selectSftLines(all, every)),
    );
    expect(selectSftLines([rewritten], { exclude: byKey }).filteredOut).toBe(1);
  });

  it("counts skipped episodes by reason", () => {
    const selection = selectSftLines([
      episode({ episodeId: "old", conversation: null }),
      episode({
        episodeId: "builtin",
        conversation: null,
        policy: { kind: "builtin", name: "b", version: "1" },
      }),
      episode({ episodeId: "running", state: "running" }),
      episode({ episodeId: "kept", artifactId: "art-9" }),
    ]);
    expect(ids(selection)).toEqual(["kept"]);
    expect(selection.skipped).toEqual({
      [SKIP_NO_CONVERSATION]: 1,
      [SKIP_NO_TOOL_CALLS]: 1,
      [SKIP_UNFINISHED]: 1,
    });
  });
});
