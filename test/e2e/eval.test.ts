// `swe-selfplay eval` end to end through the real CLI: a two-task set (the Python and the JavaScript fixture
// bugs) made with `eval make-set`, evaluated with k = 3 against a scripted model server, and every figure
// checked against a count by hand; a second policy version compared with `eval compare`; a model server that
// disappears mid-evaluation (exit 2, resumed later, finished attempts not re-run); and bad input.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeArtifactDir } from "../../src/artifact-io/index.js";
import { deriveSeed } from "../../src/selfplay/seeds.js";
import { listEvaluations, openSqliteStore } from "../../src/store/index.js";
import { runCli } from "../support/cli.js";
import { nodeFixtureArtifact, pythonFixtureArtifact, withMeta } from "../support/fixture-artifacts.js";
import { makeNodeFixtureRepo, makePythonFixtureRepo } from "../support/fixture-repos.js";
import {
  type ReceivedRequest,
  type ScriptedModelServer,
  type ScriptStep,
  startScriptedModelServer,
} from "../support/scripted-model-server.js";
import { makeTempDir } from "../support/tmp.js";

const temp = makeTempDir("eval-e2e-");
const python = pythonFixtureArtifact();
const node = nodeFixtureArtifact();
let environmentFlags: string[];
let setPath: string;
let store: string;
const servers: ScriptedModelServer[] = [];

beforeAll(async () => {
  const pyRepo = await makePythonFixtureRepo(temp.path);
  const jsRepo = await makeNodeFixtureRepo(temp.path);
  environmentFlags = [
    "--repo",
    `${python.meta.environment}=${pyRepo}`,
    "--repo",
    `${node.meta.environment}=${jsRepo}`,
  ];
  // The Python bug records a difficulty level, the JavaScript one none (as an artifact from before levels).
  await writeArtifactDir(join(temp.path, "export", "artifacts", "py"), withMeta(python, { difficulty: 1 }));
  await writeArtifactDir(join(temp.path, "export", "artifacts", "js"), node);
  store = join(temp.path, "store.db");
  setPath = join(temp.path, "set.json");
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  temp.remove();
});

const call = (name: string, args: Record<string, unknown> | string): ScriptStep => ({
  reply: { content: "", toolCalls: [{ name, arguments: args }] },
});
const turnOf = (request: ReceivedRequest): number =>
  request.body.messages.filter((message: { role: string }) => message.role === "assistant").length;
const isPython = (request: ReceivedRequest): boolean => request.body.messages[1].content.includes(".py");
/** Create the bug diff, reverse it, submit: a fix in three valid calls. */
function fix(request: ReceivedRequest): ScriptStep {
  const turn = turnOf(request);
  const bug = isPython(request) ? python.bugInjectDiff : node.bugInjectDiff;
  if (turn === 0) return call("editor", { command: "create", path: "/tmp/bug.diff", file_text: bug });
  if (turn === 1) return call("bash", { command: "git apply -R /tmp/bug.diff" });
  return call("submit", {});
}

/** Policy A: Python attempts with an odd seed fix the bug, even ones submit at once; JavaScript never fixes. */
function policyA(request: ReceivedRequest): ScriptStep {
  const turn = turnOf(request);
  if (isPython(request)) return (request.body.seed - turn) % 2 === 1 ? fix(request) : call("submit", {});
  if (turn === 0) return { reply: { content: "Let me think about the tests first." } };
  if (turn === 1) return call("bash", "{not json");
  return call("submit", {});
}

async function server(script: (request: ReceivedRequest) => ScriptStep): Promise<ScriptedModelServer> {
  const started = await startScriptedModelServer(script);
  servers.push(started);
  return started;
}

const evalArgs = (baseUrl: string, version: string) => [
  "eval",
  "--tasks",
  setPath,
  "--attempts",
  "3",
  "--store",
  store,
  ...environmentFlags,
  "--solvers",
  "2",
  "--policy",
  "openai",
  "--base-url",
  baseUrl,
  "--model",
  "scripted",
  "--policy-version",
  version,
];

describe("swe-selfplay eval", () => {
  it("makes a frozen set and evaluates it; every figure matches a count by hand", async () => {
    const made = await runCli([
      "eval",
      "make-set",
      "--from-dir",
      join(temp.path, "export"),
      "--out",
      setPath,
      "--json",
    ]);
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ tasks: 2 });
    const set = JSON.parse(readFileSync(setPath, "utf8"));
    const pythonIndex = set.tasks.findIndex(
      (task: { environment: string }) => task.environment === "inkwell",
    );
    // The attempt seeds self-play derives for the Python task (step seed, then the group's attempts): 2 are odd.
    const stepSeed = deriveSeed(0, "eval", pythonIndex);
    const oddSeeds = [0, 1, 2].filter((index) => deriveSeed(stepSeed, "/group", index) % 2 === 1).length;
    expect(oddSeeds).toBe(2);

    const model = await server(policyA);
    const result = await runCli([...evalArgs(model.baseUrl, "a"), "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const { figures } = JSON.parse(result.stdout);
    // By hand: Python 2 of 3 resolved, JavaScript 0 of 3; 6 attempts, 2 resolved.
    expect(figures).toMatchObject({
      setTasks: 2,
      invalidTasks: 0,
      attemptsPerTask: 3,
      tasks: 2,
      attempts: 6,
      resolved: 2,
      endings: { submitted: 6 },
      grades: { resolved: 2, unresolved: 4 },
    });
    expect(figures.resolveRate).toBeCloseTo(2 / 6, 12);
    expect(figures.interval.low).toBeCloseTo(0.096771, 5); // Wilson 95 %, 2 of 6
    expect(figures.interval.high).toBeCloseTo(0.700007, 5);
    // pass@k: Python 1 − C(1,k)/C(3,k) = 2/3, 1, 1; JavaScript 0.
    expect(figures.passAtK["1"]).toBeCloseTo((2 / 3 + 0) / 2, 12);
    expect(figures.passAtK["2"]).toBeCloseTo(0.5, 12);
    expect(figures.passAtK["3"]).toBeCloseTo(0.5, 12);
    expect(figures.byEnvironment.inkwell).toMatchObject({ attempts: 3, resolved: 2, tasks: 1 });
    expect(figures.byEnvironment.inkwell.interval.low).toBeCloseTo(0.20766, 5);
    expect(figures.byEnvironment.timespan).toMatchObject({ attempts: 3, resolved: 0, tasks: 1 });
    expect(figures.byEnvironment.timespan.interval.high).toBeCloseTo(0.561497, 5);
    expect(Object.keys(figures.byStrategy).sort()).toEqual(
      [...new Set([python.meta.strategy, node.meta.strategy])].sort(),
    );
    expect(figures.byDifficulty["1"]).toMatchObject({ attempts: 3, resolved: 2, tasks: 1 });
    expect(figures.byDifficulty.unknown).toMatchObject({ attempts: 3, resolved: 0, tasks: 1 });
    // Tool calls: 2 fixes × 3 valid, 1 lone submit, 3 × (a reply without a call, a malformed call, a submit).
    expect(figures.toolCalls).toEqual({ total: 16, valid: 10, validityRate: 10 / 16 });
    expect(figures.perAttempt.sampledTokens).toBeGreaterThan(0);
    expect(figures.perAttempt.wallMs).toBeGreaterThan(0);
    // Every model call belongs to one of the six attempts: 2 × 3 + 1 + 3 × 3 turns.
    expect(model.requests).toHaveLength(16);
  }, 300_000);

  it("stops with exit 2 when the model server disappears, then --resume runs only the unfinished attempts", async () => {
    let served = 0;
    const vanishing = await server((request) => {
      served++;
      return served <= 4 ? fix(request) : { drop: true };
    });
    const stopped = await runCli(evalArgs(vanishing.baseUrl, "b"));
    expect(stopped.code).toBe(2);
    const line = stopped.stderr.trim().split("\n").at(-1)!;
    expect(line).toMatch(
      /^swe-selfplay: evaluation ev-\w+ stopped \(failed\): .*model server.* continue with --resume$/,
    );
    const done = Number(/(\d+) of 6 attempts done/.exec(line)![1]);
    expect(done).toBeLessThan(6);
    await vanishing.close();

    const again = await runCli(evalArgs("http://127.0.0.1:9/v1", "b"));
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists \(failed, \d+ of 6 attempts done\): pass --resume/);

    const model = await server(fix);
    const resumed = await runCli([...evalArgs(model.baseUrl, "b"), "--resume", "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const { figures } = JSON.parse(resumed.stdout);
    expect(figures).toMatchObject({ attempts: 6, resolved: 6, grades: { resolved: 6 } });
    // Only the attempts not finished before ran again, three model calls each.
    expect(model.requests).toHaveLength(3 * (6 - done));
  }, 300_000);

  it("compares the two policy versions on the same set, paired", async () => {
    const reader = openSqliteStore(store, { readonly: true });
    const [a, b] = listEvaluations(reader).map((evaluation) => evaluation.id);
    reader.close();
    const result = await runCli(["eval", "compare", a!, b!, "--store", store, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const comparison = JSON.parse(result.stdout);
    // By hand: per task B − A is 1/3 (Python) and 1 (JavaScript); attempt pairs: both 2, only B 4.
    expect(comparison.pairedTasks).toBe(2);
    expect(comparison.difference).toBeCloseTo(2 / 3, 12);
    expect(comparison.interval.low).toBeCloseTo(1 / 3, 12);
    expect(comparison.interval.high).toBeCloseTo(1, 12);
    expect(comparison.mcnemar).toMatchObject({ pairs: 6, both: 2, onlyA: 0, onlyB: 4, neither: 0 });
    expect(comparison.mcnemar.pValue).toBeCloseTo(2 / 16, 12);
    const shown = await runCli(["eval", "show", a!, "--store", store, "--json"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).figures).toMatchObject({ attempts: 6, resolved: 2 });
    const listed = await runCli(["eval", "list", "--store", store]);
    expect(listed.stdout.trim().split("\n")).toHaveLength(2);
    expect(listed.stdout).toMatch(/completed {2}33\.3% \[9\.7%, 70\.0%\]/);
  }, 60_000);

  it("refuses bad input with one line and exit 2, storing nothing", async () => {
    const count = () => {
      const reader = openSqliteStore(store, { readonly: true });
      try {
        return listEvaluations(reader).length;
      } finally {
        reader.close();
      }
    };
    const before = count();
    const set = JSON.parse(readFileSync(setPath, "utf8"));
    const expectRefused = async (args: string[], message: RegExp) => {
      const result = await runCli(args);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    };
    const unknown = join(temp.path, "unknown.json");
    writeFileSync(
      unknown,
      JSON.stringify({
        ...set,
        tasks: [{ ...set.tasks[0], artifact: undefined, artifact_id: "f".repeat(64) }],
      }),
    );
    await expectRefused(
      [...evalArgs("http://127.0.0.1:9/v1", "c").map((arg) => (arg === setPath ? unknown : arg))],
      /tasks\.0: unknown artifact id f{64}/,
    );
    const changed = join(temp.path, "changed.json");
    set.tasks[0].artifact.bug_inject_diff += "\n";
    writeFileSync(changed, JSON.stringify(set));
    await expectRefused(
      [...evalArgs("http://127.0.0.1:9/v1", "c").map((arg) => (arg === setPath ? changed : arg))],
      /tasks\.0: the artifact's files hash to \w+, not the pinned/,
    );
    await expectRefused(
      ["eval", "--tasks", setPath, "--store", store, environmentFlags[0]!, environmentFlags[1]!],
      /environment "timespan" is not configured \(configured: inkwell\)/,
    );
    await expectRefused(
      evalArgs("http://127.0.0.1:9/v1", "c").map((arg) => (arg === "3" ? "0" : arg)),
      /--attempts must be a whole number ≥ 1, got 0/,
    );
    expect(count()).toBe(before);
  }, 120_000);
});
