// Benchmark of `swe-selfplay serve`, side by side in one run:
//  1. per-step overhead: the same steps (agent policy against the scripted model server, on the Python
//     fixture) played by `run` in process and by a serve process through HTTP (goal ≤ 2 %). The service
//     is asked for the very steps `run` played: each request carries the environment, strategy and seed
//     of the matching `run` step, so both sides inject the same bugs and grade the same attempts;
//  2. p50/p99 latency of GET /v1/health while 32 steps are in flight;
//  3. memory (RSS) of the service per in-flight step.
// Usage: npx tsx bench/serve/run.ts [--steps 12] [--rounds 1] [--policy scripted|builtin] [--json]
// --rounds R times both sides R times, in alternating order (run first, then serve first, ...), and reports
// each round and the totals, so a machine whose load drifts does not favour one side.
// --policy builtin plays whole steps (built-in proposer on direct bugs, validation, G built-in solvers,
// grading) on both sides, so the overhead is measured against steps of realistic length; the default
// scripted policy ends each proposal at once, which isolates the service's fixed cost per step.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createAgentPolicy } from "../../src/agent/index.js";
import { createBuiltinPolicy } from "../../src/builtin/index.js";
import { openStore, runConfiguredSelfPlay } from "../../src/compose/index.js";
import { parseConfig } from "../../src/config/index.js";
import { createModelClient } from "../../src/model/index.js";
import { call, startServe } from "../../test/serve/serve-process.js";
import { makePythonFixtureRepo } from "../../test/support/fixture-repos.js";
import { type ScriptStep, startScriptedModelServer } from "../../test/support/scripted-model-server.js";
import { makeTempDir } from "../../test/support/tmp.js";

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

const builtin = option("policy") === "builtin";
const steps = Number(option("steps") ?? (builtin ? 6 : 32));
const rounds = Number(option("rounds") ?? 1);
/** Whole built-in steps: direct bugs, four solvers with a small repair budget. */
const BUILTIN = { groupSize: 4, testRunBudget: 6 };
const json = process.argv.includes("--json");
const concurrency = { proposers: 4, validations: 1, solvers: 2, sandboxes: 40 };

/** Each proposer turn calls an unknown tool: the episode ends on format errors, the step without an artifact. */
const script = (request: { body: { model: string } }): ScriptStep => ({
  reply: { content: "no", toolCalls: [{ name: "nope", arguments: {} }] },
  ...(request.body.model === "slow" ? { delayMs: 3000 } : {}),
});

const temp = makeTempDir("swe-selfplay-bench-serve-");
const model = await startScriptedModelServer(script, { keepRequests: false });
try {
  const repo = await makePythonFixtureRepo(temp.path);
  const serveArgs = [
    "--repo",
    `inkwell=${repo}`,
    ...Object.entries(concurrency).flatMap(([key, value]) => ["--set", `concurrency.${key}=${value}`]),
    "--set",
    `serve.stepsInFlight=${concurrency.proposers}`,
  ];
  // The run's seed is fixed, so every round's run plays the same steps; the service is asked for those of
  // the first round's run. Rounds alternate which side goes first.
  const perRound: { run: number; serve: number }[] = [];
  let plays: StepPlay[] = [];
  const serveRound = (round: number) =>
    timeServe([...serveArgs, "--store", join(temp.path, `serve-${round}.db`)], model.baseUrl, plays);
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      const run = await timeRun(repo, model.baseUrl, `round-${round}`);
      if (round === 0) plays = run.plays;
      perRound.push({ run: run.seconds, serve: await serveRound(round) });
    } else {
      const serve = await serveRound(round);
      perRound.push({ run: (await timeRun(repo, model.baseUrl, `round-${round}`)).seconds, serve });
    }
  }
  const runSeconds = perRound.reduce((sum, round) => sum + round.run, 0) / rounds;
  const serveSeconds = perRound.reduce((sum, round) => sum + round.serve, 0) / rounds;
  const underLoad = await healthUnderLoad(
    [
      ...serveArgs.slice(0, -1),
      "serve.stepsInFlight=32",
      "--set",
      "concurrency.proposers=32",
      "--store",
      join(temp.path, "load.db"),
    ],
    model.baseUrl,
  );
  const figures = {
    steps,
    rounds: perRound.map((round) => ({ ...round, overheadRatio: round.serve / round.run - 1 })),
    runSecondsPerStep: runSeconds / steps,
    serveSecondsPerStep: serveSeconds / steps,
    serveOverheadRatio: serveSeconds / runSeconds - 1,
    serveOverheadMsPerStep: ((serveSeconds - runSeconds) * 1000) / steps,
    ...underLoad,
  };
  if (json) process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  else
    process.stdout.write(
      [
        builtin
          ? `steps: ${steps} (built-in policy, direct bugs, G = ${BUILTIN.groupSize}: whole steps)`
          : `steps: ${steps} (agent policy, scripted model, proposal ends without an artifact)`,
        ...figures.rounds.map(
          (round, index) =>
            `round ${index + 1} (${index % 2 === 0 ? "run first" : "serve first"}): run ${round.run.toFixed(1)} s, serve ${round.serve.toFixed(1)} s, overhead ${(round.overheadRatio * 100).toFixed(1)} %`,
        ),
        `run:   ${figures.runSecondsPerStep.toFixed(3)} s/step (mean of ${rounds} round${rounds === 1 ? "" : "s"})`,
        `serve: ${figures.serveSecondsPerStep.toFixed(3)} s/step  overhead ${(figures.serveOverheadRatio * 100).toFixed(1)} % (goal ≤ 2 %), ${figures.serveOverheadMsPerStep.toFixed(1)} ms per step`,
        `/v1/health under ${underLoad.inFlight} in-flight steps: p50 ${underLoad.healthP50Ms.toFixed(2)} ms, p99 ${underLoad.healthP99Ms.toFixed(2)} ms`,
        `memory: ${underLoad.rssIdleMiB.toFixed(1)} MiB idle, ${underLoad.rssLoadedMiB.toFixed(1)} MiB with ${underLoad.inFlight} in flight = ${underLoad.mibPerInFlightStep.toFixed(2)} MiB per step`,
        "",
      ].join("\n"),
    );
} finally {
  await model.close();
  temp.remove();
}

/** What decides a step's play: the service is asked for exactly these. */
interface StepPlay {
  environment: string;
  strategy: string;
  seed: number;
}

async function timeRun(
  repo: string,
  baseUrl: string,
  label: string,
): Promise<{ seconds: number; plays: StepPlay[] }> {
  const config = parseConfig({
    environments: [{ name: "inkwell", path: repo }],
    limits: { steps },
    concurrency: { ...concurrency, pipelineSteps: concurrency.proposers },
    store: join(temp.path, `run-${label}.db`),
    ...(builtin
      ? {
          groupSize: BUILTIN.groupSize,
          strategies: { removal: 0, history: 0, direct: 1 },
          policy: { kind: "builtin", testRunBudget: BUILTIN.testRunBudget },
        }
      : {}),
  });
  const policy = builtin
    ? createBuiltinPolicy({ testRunBudget: BUILTIN.testRunBudget })
    : createAgentPolicy({ client: createModelClient({ baseUrl, model: "quick" }), modelName: "quick" });
  // One untimed run of a step first, so both sides run warm code.
  await runConfiguredSelfPlay(
    { ...config, limits: { ...config.limits, steps: 1 }, store: join(temp.path, `warm-${label}.db`) },
    { policy },
  );
  const started = performance.now();
  const result = await runConfiguredSelfPlay(config, { policy });
  const seconds = (performance.now() - started) / 1000;
  if (result.summary.steps.done !== steps)
    throw new Error(`run finished ${result.summary.steps.done} of ${steps}`);
  const store = openStore(config.store, { readonly: true });
  try {
    const plays = store
      .listSteps(result.runId)
      .map(({ environment, strategy, seed }) => ({ environment, strategy, seed }));
    return { seconds, plays };
  } finally {
    store.close();
  }
}

/** The request body of one timed step: the same player, and the same step, as the run side. */
function stepBody(requestId: string, baseUrl: string, play?: StepPlay) {
  const same = play
    ? { environment: play.environment, strategy: play.strategy, sampling: { seed: play.seed } }
    : {};
  return builtin
    ? {
        request_id: requestId,
        inference: { kind: "builtin" },
        strategy: "direct",
        group_size: BUILTIN.groupSize,
        policy_version: "bench",
        ...same,
      }
    : {
        request_id: requestId,
        inference: { kind: "openai-chat", base_url: baseUrl, model: "quick" },
        policy_version: "bench",
        ...same,
      };
}

async function timeServe(args: string[], baseUrl: string, plays: StepPlay[]): Promise<number> {
  const service = await startServe(
    builtin
      ? [...args, "--set", "policy.kind=builtin", "--set", `policy.testRunBudget=${BUILTIN.testRunBudget}`]
      : args,
  );
  try {
    // One untimed step first: the service process compiles its code on first use, as `run`'s has already.
    const warm = await call(`${service.url}/v1/steps`, { body: stepBody("warm-up", baseUrl) });
    await waitDone(service.url, warm.body.step_id);
    const started = performance.now();
    const accepted = await Promise.all(
      plays.map((play, index) =>
        call(`${service.url}/v1/steps`, { body: stepBody(`bench-${index}`, baseUrl, play) }),
      ),
    );
    for (const answer of accepted) await waitDone(service.url, answer.body.step_id);
    return (performance.now() - started) / 1000;
  } finally {
    await service.stop();
  }
}

async function healthUnderLoad(args: string[], baseUrl: string) {
  const service = await startServe(args);
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rssIdle = rssMiB(service.child.pid!);
    const inFlight = 32;
    const accepted = await Promise.all(
      Array.from({ length: inFlight }, (_, index) =>
        call(`${service.url}/v1/steps`, {
          body: {
            request_id: `load-${index}`,
            inference: { kind: "openai-chat", base_url: baseUrl, model: "slow" },
            policy_version: "bench",
          },
        }),
      ),
    );
    // Wait until every step is running (each holds a sandbox and waits on its slow model reply).
    for (;;) {
      const stats = (await call(`${service.url}/v1/stats`)).body;
      if (stats.in_flight === inFlight) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const latencies: number[] = [];
    for (let index = 0; index < 300; index++) {
      const started = performance.now();
      await call(`${service.url}/v1/health`);
      latencies.push(performance.now() - started);
    }
    const rssLoaded = rssMiB(service.child.pid!);
    for (const answer of accepted)
      await call(`${service.url}/v1/steps/${answer.body.step_id}`, { method: "DELETE" });
    latencies.sort((a, b) => a - b);
    return {
      inFlight,
      healthP50Ms: latencies[Math.floor(latencies.length * 0.5)]!,
      healthP99Ms: latencies[Math.floor(latencies.length * 0.99)]!,
      rssIdleMiB: rssIdle,
      rssLoadedMiB: rssLoaded,
      mibPerInFlightStep: (rssLoaded - rssIdle) / inFlight,
    };
  } finally {
    await service.stop();
  }
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

// biome-ignore lint/suspicious/noExplicitAny: the step view is read field by field.
async function waitDone(url: string, stepId: string): Promise<any> {
  for (;;) {
    const { body } = await call(`${url}/v1/steps/${stepId}?wait=30`);
    if (body.status !== "queued" && body.status !== "running") return body;
  }
}
