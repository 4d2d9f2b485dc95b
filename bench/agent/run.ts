// Benchmark of the agent loop against a scripted model server that answers instantly: the loop's own
// overhead per turn (model and command time excluded) and how many concurrent episodes one process sustains.
// Usage: npx tsx bench/agent/run.ts [--episodes 256] [--turns 12] [--json]
// (node --expose-gc --import tsx bench/agent/run.ts also reports the heap an episode's result retains)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  createBashTool,
  createEditorTool,
  createSolverSubmitTool,
  nativeCallFormat,
  runAgentLoop,
} from "../../src/agent/index.js";
import { InfrastructureError } from "../../src/errors.js";
import { createModelClient } from "../../src/model/index.js";
import type { RunOptions, RunResult, SandboxView } from "../../src/ports/sandbox.js";
import { createLocalBackend } from "../../src/sandbox/local/backend.js";
import {
  type ReceivedRequest,
  type ScriptStep,
  startScriptedModelServer,
} from "../../test/support/scripted-model-server.js";

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}
const episodes = flag("episodes", 256);
const turns = flag("turns", 12);
const json = process.argv.includes("--json");

const inProcessFile = `def f(x):\n${Array.from({ length: turns + 1 }, (_, index) => `    y = x + ${index}\n`).join("")}    return y\n`;

/**
 * An in-process SandboxView for this benchmark only: commands return at once without running anything, so
 * what is measured is the loop, its tools' argument handling, the HTTP client and the recording of steps.
 */
function inProcessView(id: string): SandboxView {
  const files = new Map<string, Buffer>([["/testbed/app.py", Buffer.from(inProcessFile)]]);
  return {
    id,
    workdir: "/testbed",
    async run(options: RunOptions): Promise<RunResult> {
      const isView = options.command.includes("[ -d");
      return {
        status: "exited",
        exitCode: 0,
        stdout: isView ? "file\n" : `ran: ${options.command}\n${"line of output\n".repeat(20)}`,
        stderr: "",
        truncated: false,
        durationMs: 0,
      };
    },
    async readFile(path) {
      const content = files.get(path);
      if (!content) throw new Error(`no file ${path}`);
      return content;
    },
    async writeFile(path, content) {
      files.set(path, Buffer.from(content));
    },
    async diff() {
      return "";
    },
    async applyPatch() {
      return { status: "applied", files: [] };
    },
  };
}

function script(request: ReceivedRequest): ScriptStep {
  const turn = request.body.messages.filter(
    (message: { role: string }) => message.role === "assistant",
  ).length;
  if (turn >= turns - 1)
    return { reply: { content: "done", toolCalls: [{ name: "submit", arguments: {} }] } };
  if (turn % 3 === 1)
    return {
      reply: {
        content: "edit",
        toolCalls: [
          {
            name: "editor",
            arguments: {
              command: "str_replace",
              path: "app.py",
              old_str: `y = x + ${turn}\n`,
              new_str: `y = x - ${turn}\n`,
            },
          },
        ],
      },
    };
  return {
    reply: {
      content: `step ${turn}`,
      toolCalls: [{ name: "bash", arguments: { command: `grep -n f app.py # ${turn}` } }],
    },
  };
}

async function runEpisode(baseUrl: string, index: number, sandbox?: SandboxView) {
  const model = createModelClient({ baseUrl, model: "bench", maxRetries: 0 });
  const view = sandbox ?? inProcessView(`bench-${index}`);
  return runAgentLoop({
    model,
    tools: [createBashTool(), createEditorTool(), createSolverSubmitTool()],
    callFormat: nativeCallFormat,
    sandbox: view,
    systemPrompt: "You are benchmarked.",
    userPrompt: `Episode ${index}: fix app.py.`,
    limits: { maxTurns: turns + 2 },
  });
}

async function realSandboxEpisodes(baseUrl: string, count: number) {
  const directory = mkdtempSync(join(tmpdir(), "agent-bench-"));
  const backend = createLocalBackend();
  try {
    writeFileSync(join(directory, "app.py"), inProcessFile);
    execFileSync("git", ["init", "-q", directory]);
    execFileSync("git", ["-C", directory, "add", "."]);
    execFileSync("git", [
      "-C",
      directory,
      "-c",
      "user.email=b@b",
      "-c",
      "user.name=b",
      "commit",
      "-qm",
      "init",
    ]);
    let overheadMs = 0;
    let toolMs = 0;
    let modelMs = 0;
    let turnCount = 0;
    for (let index = 0; index < count; index++) {
      const sandbox = await backend.create({
        environment: { kind: "dir", path: directory },
        label: "agent-bench",
      });
      try {
        const result = await runEpisode(baseUrl, index, sandbox);
        if (result.exitReason !== "submitted" || result.stats.formatErrors !== 0)
          throw new Error(
            `real-sandbox episode ended with ${result.exitReason}, ${result.stats.formatErrors} refused calls`,
          );
        overheadMs += result.stats.overheadMs!;
        toolMs += result.stats.toolMs!;
        modelMs += result.stats.modelMs!;
        turnCount += result.stats.turns!;
      } finally {
        await sandbox.destroy();
      }
    }
    return {
      episodes: count,
      loopOverheadMsPerTurn: overheadMs / turnCount,
      toolMsPerTurn: toolMs / turnCount,
      modelRoundTripMsPerTurn: modelMs / turnCount,
    };
  } catch (error) {
    if (error instanceof InfrastructureError) return null;
    throw error;
  } finally {
    await backend.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

const sampleContext = {
  episodeId: "bench",
  groupId: "bench",
  role: "solver" as const,
  policyVersion: "bench",
  sampling: { model: "bench", temperature: 1, top_p: 0.95 },
  status: "completed" as const,
};

const server = await startScriptedModelServer(script, { keepRequests: false });
try {
  // Warm up the JIT and the HTTP connection pool.
  for (let index = 0; index < 5; index++) await runEpisode(server.baseUrl, -index);

  const sequential = 50;
  let overheadMs = 0;
  let modelMs = 0;
  let turnCount = 0;
  for (let index = 0; index < sequential; index++) {
    const result = await runEpisode(server.baseUrl, index);
    if (result.exitReason !== "submitted") throw new Error(`episode ended with ${result.exitReason}`);
    if (result.stats.formatErrors !== 0)
      throw new Error(`episode had ${result.stats.formatErrors} refused tool calls`);
    overheadMs += result.stats.overheadMs!;
    modelMs += result.stats.modelMs!;
    turnCount += result.stats.turns!;
  }

  global.gc?.();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
  }, 20);
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: episodes }, (_, index) => runEpisode(server.baseUrl, index)),
  );
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  const submitted = results.filter((result) => result.exitReason === "submitted").length;
  global.gc?.();
  const retained = process.memoryUsage().heapUsed - before.heapUsed;
  const tokensPerEpisode =
    results.reduce(
      (sum, result) =>
        sum +
        result.rollout.samples(sampleContext).reduce((total, sample) => total + sample.tokens.length, 0),
      0,
    ) / episodes;
  const concurrentOverhead = results.reduce((sum, result) => sum + result.stats.overheadMs!, 0);
  const concurrentTurns = results.reduce((sum, result) => sum + result.stats.turns!, 0);

  // The same episodes in real local sandboxes: the loop's overhead must not change when commands really run.
  const real = await realSandboxEpisodes(server.baseUrl, 4);

  const report = {
    note: "in-process SandboxView (commands are not run) to isolate the loop; the scripted server runs in the same process",
    turnsPerEpisode: turns,
    sequential: {
      episodes: sequential,
      loopOverheadMsPerTurn: overheadMs / turnCount,
      modelRoundTripMsPerTurn: modelMs / turnCount,
    },
    concurrent: {
      episodes,
      completed: submitted,
      wallMs,
      turnsPerSecond: concurrentTurns / (wallMs / 1000),
      loopOverheadMsPerTurn: concurrentOverhead / concurrentTurns,
      rssGrowthKiBPerEpisode: (peakRss - before.rss) / 1024 / episodes,
      heapGrowthKiBPerEpisode: (peakHeap - before.heapUsed) / 1024 / episodes,
      retainedHeapKiBPerFinishedEpisode: global.gc ? retained / 1024 / episodes : null,
      rolloutTokensPerEpisode: tokensPerEpisode,
    },
    realSandbox: real,
    targets: { loopOverheadMsPerTurn: 5, concurrentEpisodes: 256 },
  };
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const s = report.sequential;
    const c = report.concurrent;
    process.stdout.write(
      [
        `agent loop benchmark (${report.note})`,
        `sequential: ${s.episodes} episodes x ${turns} turns: loop overhead ${s.loopOverheadMsPerTurn.toFixed(3)} ms/turn (target <= 5), model round trip ${s.modelRoundTripMsPerTurn.toFixed(3)} ms/turn`,
        `concurrent: ${c.completed}/${c.episodes} episodes submitted in ${(c.wallMs / 1000).toFixed(2)} s (${c.turnsPerSecond.toFixed(0)} turns/s), loop overhead ${c.loopOverheadMsPerTurn.toFixed(3)} ms/turn`,
        `memory: peak RSS growth ${c.rssGrowthKiBPerEpisode.toFixed(1)} KiB/episode, peak heap growth ${c.heapGrowthKiBPerEpisode.toFixed(1)} KiB/episode, retained after completion ${c.retainedHeapKiBPerFinishedEpisode === null ? "n/a (run node with --expose-gc)" : `${c.retainedHeapKiBPerFinishedEpisode.toFixed(1)} KiB/episode`} (messages + ${c.rolloutTokensPerEpisode.toFixed(0)} rollout tokens; the scripted tokenizer is one token per byte)`,
        real === null
          ? "real local sandbox: skipped (bubblewrap backend unavailable here)"
          : `real local sandbox: ${real.episodes} episodes x ${turns} turns: loop overhead ${real.loopOverheadMsPerTurn.toFixed(3)} ms/turn, command time ${real.toolMsPerTurn.toFixed(1)} ms/turn, model round trip ${real.modelRoundTripMsPerTurn.toFixed(2)} ms/turn`,
        `verdict: overhead ${s.loopOverheadMsPerTurn <= 5 ? "meets" : "MISSES"} the 5 ms target; ${c.completed >= 256 ? "sustains" : "does NOT sustain"} >= 256 concurrent episodes`,
      ].join("\n") + "\n",
    );
  }
  if (submitted !== episodes) process.exitCode = 1;
} finally {
  await server.close();
}
