// Demonstrations (policy builtin-demo) end to end: one self-play step on the Python fixture in real
// bubblewrap sandboxes, the built-in policy's plans replayed as tool-call episodes through the real agent
// loop and tools. The proposer's artifact is validated by the submit tool, the solvers' patches graded by the
// step, and the store keeps each episode's tool calls with their real outputs under policy kind builtin-demo.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentPolicy } from "../../src/agent/index.js";
import { createBuiltinDemonstrator } from "../../src/builtin/index.js";
import { runConfiguredSelfPlay } from "../../src/compose/index.js";
import { parseConfig } from "../../src/config/index.js";
import type { SelfPlayResult } from "../../src/selfplay/index.js";
import { openSqliteStore, type SqliteStore } from "../../src/store/index.js";
import { episodePage } from "../../src/web/pages/episode.js";
import { episodeView } from "../../src/web/queries/episode.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { makeTempDir } from "../support/tmp.js";

interface Turn {
  turn: number;
  content: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  observations: { tool: string; status: string; output: string }[];
  formatError: string | null;
  contextTokens: number;
}

const turnsOf = (trajectory: unknown[]) =>
  trajectory.filter((entry): entry is Turn => typeof (entry as Turn).turn === "number");

const argumentsOf = (turn: Turn) => JSON.parse(turn.toolCalls[0]!.arguments) as Record<string, unknown>;

describe("builtin-demo: demonstrations as real episodes", { timeout: 900_000 }, () => {
  const temp = makeTempDir("swe-selfplay-demo-");
  let store: SqliteStore;
  let result: SelfPlayResult;

  beforeAll(async () => {
    const repo = await makePythonFixtureRepo(temp.path);
    const config = parseConfig({
      environments: [{ name: "inkwell", path: repo }],
      policy: { kind: "builtin-demo" },
      strategies: { removal: 0, history: 0, direct: 1 },
      groupSize: 2,
      limits: { steps: 1 },
      secondOrder: { enabled: false },
      store: join(temp.path, "store.db"),
    });
    // One-file direct bugs and every candidate repair tried: a bug the search can repair (src/builtin/repair).
    const policy = createAgentPolicy({
      demonstrator: createBuiltinDemonstrator({ multiFileRate: 0, explorationRate: 0 }),
      modelName: "builtin-demo",
      limits: { maxObservationChars: 2000 },
    });
    store = openSqliteStore(config.store);
    result = await runConfiguredSelfPlay(config, { store, policy });
  });

  afterAll(() => {
    store?.close();
    temp.remove();
  });

  it("writes a valid artifact through tool calls, validated by the submit tool", () => {
    expect(result.summary.artifacts.valid).toBe(1);
    const proposer = store.listEpisodes(result.runId).find((episode) => episode.role === "proposer")!;
    expect(proposer).toMatchObject({ policy: { kind: "builtin-demo" }, exitReason: "submitted" });
    const turns = turnsOf(proposer.trajectory);
    const tools = turns.map((turn) => turn.toolCalls[0]!.name);
    expect(tools.at(-1)).toBe("submit");
    expect(turns.at(-1)!.observations[0]!.output).toContain("passed every consistency check");
    expect(turns.every((turn) => turn.formatError === null && turn.toolCalls.length === 1)).toBe(true);
    // The bug goes in with str_replace, and `git diff` saves it: real outputs, not replayed text.
    expect(turns.some((turn) => argumentsOf(turn).command === "str_replace")).toBe(true);
    const saved = turns.find((turn) => String(argumentsOf(turn).command).includes("bug_inject.diff"))!;
    expect(saved.observations[0]!.output).toMatch(/1 file changed/);
  });

  it("replays a found repair as tool calls whose patch the step grades resolved", () => {
    const attempts = store.listGroups(result.runId).flatMap((group) => store.listAttempts(group.id));
    expect(attempts).toHaveLength(2);
    const resolved = attempts.find((attempt) => attempt.resolved === true);
    expect(resolved, JSON.stringify(attempts.map((attempt) => attempt.grade?.status))).toBeDefined();
    const episode = store.getEpisode(resolved!.episodeId!)!;
    expect(episode).toMatchObject({
      role: "solver",
      policy: { kind: "builtin-demo" },
      exitReason: "submitted",
    });
    const turns = turnsOf(episode.trajectory);
    const outputs = turns.map((turn) => turn.observations[0]!.output);
    // The specification's tests applied, run (failing), the code edited, run again (passing), submitted.
    const runs = turns.flatMap((turn, index) =>
      turn.toolCalls[0]!.name === "bash" && String(argumentsOf(turn).command).includes("pytest")
        ? [index]
        : [],
    );
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(outputs[runs[0]!]).toMatch(/failed/);
    expect(outputs[runs.at(-1)!]).not.toMatch(/failed/);
    expect(outputs[runs.at(-1)!]).toMatch(/passed/);
    const edit = turns.findIndex((turn) => argumentsOf(turn).command === "str_replace");
    expect(edit).toBeGreaterThan(runs[0]!);
    expect(outputs[edit]).toContain("Edited /testbed/");
    expect(turns.at(-1)!.toolCalls[0]!.name).toBe("submit");
    expect(episode.trajectory.at(-1)).toMatchObject({ kind: "result", demonstration: { repairFound: true } });
    // Short enough for a small model's context (the loop's estimate: three characters a token).
    expect(turns.at(-1)!.contextTokens).toBeLessThan(4096);
    // The dashboard's episode page shows the turns like a model's: calls, their arguments, real outputs.
    const page = episodePage(episodeView(store, episode.id)!).text;
    expect(page).toContain("builtin-demo");
    expect(page).toContain('<span class="tool-name">editor</span>');
    expect(page).toContain("Edited /testbed/");
  });

  it("varies the surface between attempts of the same task", () => {
    const solvers = store.listEpisodes(result.runId).filter((episode) => episode.role === "solver");
    const transcripts = solvers.map((episode) =>
      turnsOf(episode.trajectory)
        .map((turn) => `${turn.content}|${turn.toolCalls[0]!.arguments}`)
        .join("\n"),
    );
    expect(new Set(transcripts).size).toBe(2);
  });
});
