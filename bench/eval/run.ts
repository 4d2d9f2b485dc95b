// Benchmark of the evaluation's own overhead: a set of the two fixture bugs, K attempts each, evaluated in
// process against the scripted model server (which answers at once), with every sandbox call and every model
// request timed. Overhead = wall time − the union of the intervals in which a sandbox call or a model request
// was in flight; reported as a share of the wall time (goal ≤ 5 %).
// Usage: npx tsx bench/eval/run.ts [--attempts K] [--json]
import { subscribe } from "node:diagnostics_channel";
import { join } from "node:path";
import { codeModelTestLocator } from "../../src/builtin/index.js";
import { policyConfigFrom } from "../../src/cli/policy-flags.js";
import { createPolicy } from "../../src/compose/index.js";
import { loadConfig } from "../../src/config/index.js";
import { runEvaluation, TASK_SET_SCHEMA, type TaskSetFile, taskEntry } from "../../src/eval/index.js";
import type { Sandbox, SandboxBackend } from "../../src/ports/sandbox.js";
import { openSandboxes } from "../../src/sandbox/index.js";
import { openSqliteStore } from "../../src/store/index.js";
import { nodeFixtureArtifact, pythonFixtureArtifact } from "../../test/support/fixture-artifacts.js";
import { makeNodeFixtureRepo, makePythonFixtureRepo } from "../../test/support/fixture-repos.js";
import {
  type ReceivedRequest,
  type ScriptStep,
  startScriptedModelServer,
} from "../../test/support/scripted-model-server.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { positiveOption } from "../support/options.js";

type Interval = [number, number];
const args = process.argv.slice(2);
const attempts = positiveOption(args, "--attempts", 4);

/** Records the interval of every promise-returning call on the backend and on the sandboxes it makes. */
function timedBackend(backend: SandboxBackend, intervals: Interval[]): SandboxBackend {
  const timed = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver);
        if (typeof value !== "function") return value;
        return (...callArgs: unknown[]) => {
          const started = performance.now();
          const result = value.apply(object, callArgs);
          if (!(result instanceof Promise)) return result;
          return result.finally(() => intervals.push([started, performance.now()]));
        };
      },
    });
  return {
    kind: backend.kind,
    close: () => backend.close(),
    create: async (spec) => {
      const started = performance.now();
      try {
        return timed<Sandbox>(await backend.create(spec));
      } finally {
        intervals.push([started, performance.now()]);
      }
    },
  };
}

/** Model requests as undici reports them: from creation to the end of the response. */
function timeModelRequests(intervals: Interval[]): void {
  const open = new WeakMap<object, number>();
  subscribe("undici:request:create", (message) => {
    open.set((message as { request: object }).request, performance.now());
  });
  const end = (message: unknown) => {
    const { request } = message as { request: object };
    const started = open.get(request);
    if (started === undefined) return;
    open.delete(request);
    intervals.push([started, performance.now()]);
  };
  subscribe("undici:request:trailers", end);
  subscribe("undici:request:error", end);
}

function unionMs(intervals: readonly Interval[], from: number, to: number): number {
  const sorted = intervals
    .map(([start, end]): Interval => [Math.max(start, from), Math.min(end, to)])
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let current: Interval | null = null;
  for (const interval of sorted) {
    if (current && interval[0] <= current[1]) current[1] = Math.max(current[1], interval[1]);
    else {
      if (current) total += current[1] - current[0];
      current = [...interval];
    }
  }
  return total + (current ? current[1] - current[0] : 0);
}

const python = pythonFixtureArtifact();
const node = nodeFixtureArtifact();
const call = (name: string, callArgs: Record<string, unknown>): ScriptStep => ({
  reply: { content: "", toolCalls: [{ name, arguments: callArgs }] },
});
/** Create the bug diff, reverse it, submit. */
function fix(request: ReceivedRequest): ScriptStep {
  const turn = request.body.messages.filter(
    (message: { role: string }) => message.role === "assistant",
  ).length;
  const bug = request.body.messages[1].content.includes(".py") ? python.bugInjectDiff : node.bugInjectDiff;
  if (turn === 0) return call("editor", { command: "create", path: "/tmp/bug.diff", file_text: bug });
  if (turn === 1) return call("bash", { command: "git apply -R /tmp/bug.diff" });
  return call("submit", {});
}

const temp = makeTempDir("bench-eval-");
const server = await startScriptedModelServer(fix, { keepRequests: false });
try {
  const pyRepo = await makePythonFixtureRepo(temp.path);
  const jsRepo = await makeNodeFixtureRepo(temp.path);
  const config = loadConfig({
    overrides: {
      store: join(temp.path, "store.db"),
      environments: [
        { name: python.meta.environment, path: pyRepo },
        { name: node.meta.environment, path: jsRepo },
      ],
    },
  });
  const set: TaskSetFile = {
    schema: TASK_SET_SCHEMA,
    name: "bench",
    created_at: new Date().toISOString(),
    source: { kind: "bench" },
    tasks: [taskEntry(python, python.meta.environment), taskEntry(node, node.meta.environment)],
  };
  const policy = createPolicy(
    policyConfigFrom({ policy: "openai", baseUrl: server.baseUrl, model: "scripted" }),
  );
  const sandboxIntervals: Interval[] = [];
  const modelIntervals: Interval[] = [];
  timeModelRequests(modelIntervals);
  const store = openSqliteStore(config.store);
  const sandboxes = timedBackend(openSandboxes(), sandboxIntervals);
  const started = performance.now();
  const result = await runEvaluation(
    { config, store, sandboxes, policy, testLocator: codeModelTestLocator },
    { set, setPath: "bench", attempts, sampling: {}, resume: false },
  );
  const ended = performance.now();
  await sandboxes.close();
  store.close();
  if (result.status !== "completed") throw new Error(`evaluation ${result.status}: ${result.error}`);
  const wallMs = ended - started;
  const sandboxMs = unionMs(sandboxIntervals, started, ended);
  const modelMs = unionMs(modelIntervals, started, ended);
  const busyMs = unionMs([...sandboxIntervals, ...modelIntervals], started, ended);
  const overheadMs = wallMs - busyMs;
  const report = {
    tasks: set.tasks.length,
    attempts,
    resolved: `${result.figures.resolved}/${result.figures.attempts}`,
    wallMs: Math.round(wallMs),
    sandboxMs: Math.round(sandboxMs),
    modelMs: Math.round(modelMs),
    busyMs: Math.round(busyMs),
    overheadMs: Math.round(overheadMs),
    overheadShare: overheadMs / wallMs,
    sandboxCalls: sandboxIntervals.length,
    modelRequests: modelIntervals.length,
  };
  if (args.includes("--json")) process.stdout.write(`${JSON.stringify(report)}\n`);
  else
    process.stdout.write(
      [
        `evaluation of ${report.tasks} tasks × ${attempts} attempts against the scripted server: ${report.resolved} resolved`,
        `wall ${(wallMs / 1000).toFixed(2)} s; sandbox calls in flight ${(sandboxMs / 1000).toFixed(2)} s (${report.sandboxCalls} calls); model requests in flight ${(modelMs / 1000).toFixed(2)} s (${report.modelRequests} requests)`,
        `overhead (neither in flight): ${(overheadMs / 1000).toFixed(3)} s = ${(report.overheadShare * 100).toFixed(2)}% of wall time (goal ≤ 5%)`,
        "",
      ].join("\n"),
    );
  process.exitCode = report.overheadShare <= 0.05 ? 0 : 1;
} finally {
  await server.close();
  temp.remove();
}
