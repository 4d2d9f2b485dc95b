// The learning loop end to end on real engines: vLLM (CPU) serving Qwen2.5-Coder-0.5B with runtime LoRA
// loading, self-play on the example library with the current version as the model, and the reference
// trainer (python -m swe_selfplay.train, peft + torch) updating a LoRA adapter from the rewards and
// hot-loading it. The steps come from `swe-selfplay run` started per iteration (default), or with
// SWE_SELFPLAY_LOOP_SOURCE=serve from `swe-selfplay serve` playing solver-only steps (the built-in policy
// proposes, the model solves), or with SWE_SELFPLAY_LOOP_SOURCE=ray from the same service deployed by
// swe_selfplay.ray on a Ray cluster on this machine (test/ray/cluster.py), found by --ray-address. Two iterations, with the trainer killed
// between them and started again: the second resumes at the first's version, its samples were sampled with
// that version, vLLM serves the new weights (its logprobs differ from the base model's and match the
// trainer's), and samples older than the staleness bound are counted and not trained on. Sampling runs at
// temperature 0.7 with top-p 0.95, and vLLM returns the logprobs of that processed distribution: the
// trainer's logprobs of the sampled tokens, computed from each sample's recorded sampling, match them.
// Then a warm start (--sft) on one conversation: the trainer's tokens are the server's rendering of it, and
// vLLM serves the fine-tuned version, under which the assistant's tokens are likelier.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot, runProgram } from "../support/cli.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { makeTempDir } from "../support/tmp.js";
import { findTrainerPython } from "../support/trainer-python.js";
import { findVllm, freePort, startVllm, type VllmServer, vllmRequired } from "../support/vllm-server.js";

const installation = findVllm();
const python = findTrainerPython();
const missing =
  typeof installation === "string" ? installation : typeof python !== "string" ? python.missing : undefined;
if (missing) {
  if (vllmRequired) throw new Error(`CI=true or REQUIRE_VLLM=1, but ${missing}`);
  process.stderr.write(`skipped, why: ${missing} (set REQUIRE_VLLM=1 to make this fail)\n`);
}

interface IterationReport {
  iteration: number;
  sampled_with: string;
  policy_version: string;
  samples: number;
  stale_samples: number;
  replayed_samples: number;
  trained_samples: number;
  unloaded: string[];
  loss: number;
  time_s: { rollout: number; training: number; hotload: number };
  probe: { served_vs_trainer_max_abs?: number };
  rollout_vs_trainer: { max_abs: number | null; mean_abs: number | null; tokens: number };
  new_version: boolean;
  grad_norm: number;
  entropy: number;
  kl_to_previous: number;
}

interface Probe {
  tokens: number[];
  positions: number[];
  trainer_logprobs: number[];
  version: string;
}

const temp = makeTempDir("swe-selfplay-train-");
const out = join(temp.path, "trainer");
let storePath = join(temp.path, "store.db");
const sources = ["run", "serve", "ray"] as const;
const source = sources.find((name) => name === process.env.SWE_SELFPLAY_LOOP_SOURCE) ?? "run";
let rayCluster: ChildProcess | undefined;
let rayAddress: string;
let vllm: VllmServer;
let service: ChildProcess | undefined;
let serviceUrl: string;
let configPath: string;

async function startService(config: string): Promise<void> {
  const port = await freePort();
  serviceUrl = `http://127.0.0.1:${port}`;
  let log = "";
  const child = spawn(
    "nice",
    [
      "-n",
      "10",
      process.execPath,
      join(projectRoot, "bin/swe-selfplay.js"),
      "serve",
      "--config",
      config,
      "--listen",
      `127.0.0.1:${port}`,
    ],
    {
      cwd: projectRoot,
      env: { ...process.env, SWE_SELFPLAY_LOG: "warn" },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  service = child;
  child.stderr?.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString("utf8")).slice(-4000);
  });
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}:\n${log}`);
    try {
      if ((await fetch(`${serviceUrl}/v1/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`serve did not answer /v1/health:\n${log}`);
}

/** test/ray/cluster.py: a cluster with one sandbox node, the service deployed on it; the trainer records
 * its iterations in that replica's store. */
async function startRayCluster(config: string): Promise<void> {
  const child = spawn(
    python as string,
    [
      join(projectRoot, "test/ray/cluster.py"),
      "--config",
      config,
      "--cli",
      JSON.stringify([process.execPath, join(projectRoot, "bin/swe-selfplay.js")]),
    ],
    {
      cwd: projectRoot,
      env: { ...process.env, PYTHONPATH: join(projectRoot, "python"), RAY_USAGE_STATS_ENABLED: "0" },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  rayCluster = child;
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString("utf8")).slice(-4000);
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (out.includes("\n")) resolve(out.split("\n")[0]!);
    });
    child.once("exit", (code) => reject(new Error(`test/ray/cluster.py exited with ${code}:\n${log}`)));
  });
  const started = JSON.parse(line) as { address: string; replicas: { store: string }[] };
  rayAddress = started.address;
  storePath = started.replicas[0]!.store;
}

function trainerArguments(extra: string[]): string[] {
  return [
    "-n",
    "10",
    python as string,
    "-m",
    "swe_selfplay.train",
    "--out",
    out,
    "--model-dir",
    (installation as { model: string }).model,
    "--base-model",
    vllm.model,
    "--vllm-url",
    vllm.rootUrl,
    ...(source === "serve"
      ? ["--service", serviceUrl, "--solver-only"]
      : source === "ray"
        ? ["--ray-address", rayAddress, "--solver-only"]
        : [
            "--run-config",
            configPath,
            "--cli",
            `${process.execPath} ${join(projectRoot, "bin/swe-selfplay.js")}`,
          ]),
    "--steps",
    "1",
    "--group-size",
    "2",
    "--max-tokens",
    "48",
    "--temperature",
    "0.7",
    "--top-p",
    "0.95",
    // Tiny groups often all fail: without a baseline every sample still moves the weights.
    "--baseline",
    "none",
    "--lr",
    "0.002",
    "--store",
    storePath,
    "--run-name",
    "loop-test",
    ...extra,
  ];
}

const trainerEnv = () => ({
  ...process.env,
  PYTHONPATH: join(projectRoot, "python"),
  SWE_SELFPLAY_LOG: "INFO",
});

function readLines<T>(path: string): T[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}

/** An exported rollouts directory (DESIGN §8) holding `records` as one step. */
function writeRolloutStep(root: string, step: number, records: unknown[]): void {
  const directory = join(root, "rollouts", `step_${String(step).padStart(6, "0")}`);
  mkdirSync(directory, { recursive: true });
  const content = records.map((record) => `${JSON.stringify(record)}\n`).join("");
  writeFileSync(join(directory, "part-00000.jsonl"), content);
  const sha256 = createHash("sha256").update(content).digest("hex");
  const files = [
    { name: "part-00000.jsonl", records: records.length, bytes: Buffer.byteLength(content), sha256 },
  ];
  writeFileSync(
    join(directory, "_DONE"),
    JSON.stringify({
      schema: "rollout.v1",
      run_id: "replay",
      step,
      records: records.length,
      files,
      created_at: "",
    }),
  );
}

async function score(model: string, tokens: number[]): Promise<(number | null)[]> {
  const response = await fetch(`${vllm.baseUrl}/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, prompt: tokens, max_tokens: 1, prompt_logprobs: 0, temperature: 0 }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  const body = (await response.json()) as {
    choices: { prompt_logprobs: (Record<string, { logprob: number }> | null)[] }[];
  };
  return body.choices[0]!.prompt_logprobs.map(
    (entry, index) => entry?.[String(tokens[index])]?.logprob ?? null,
  );
}

describe.skipIf(missing !== undefined)("the learning loop on real engines", () => {
  beforeAll(async () => {
    const [server, repo] = await Promise.all([
      startVllm(installation as Exclude<typeof installation, string>, {
        loraRank: 8,
        acceptSeeds: true,
        logprobsMode: "processed_logprobs",
      }),
      makePythonFixtureRepo(temp.path),
    ]);
    vllm = server;
    configPath = join(temp.path, "selfplay.yaml");
    writeFileSync(
      configPath,
      JSON.stringify({
        environments: [{ name: "inkwell", path: repo }],
        groupSize: 2,
        secondOrder: { enabled: false },
        store: storePath,
        policy: {
          kind: "openai",
          baseUrl: vllm.baseUrl,
          model: vllm.model,
          maxTurns: 2,
          callFormat: "hermes",
          inference: { kind: "vllm" },
          contextWindow: 4096,
        },
      }),
    );
    if (source === "serve") await startService(configPath);
    if (source === "ray") await startRayCluster(configPath);
  }, 3_300_000);

  afterAll(async () => {
    service?.kill("SIGTERM");
    if (rayCluster && rayCluster.exitCode === null) {
      const exited = new Promise((resolve) => rayCluster!.once("exit", resolve));
      rayCluster.stdin?.end();
      await exited;
    }
    await vllm?.stop();
    temp.remove();
  }, 60_000);

  it("trains, hot-loads, resumes after a kill, and drops stale samples", async () => {
    // First trainer: two iterations asked, killed as soon as the first version is saved.
    const first = spawn("nice", trainerArguments(["--iterations", "2"]), {
      cwd: projectRoot,
      env: trainerEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let firstLog = "";
    first.stderr?.on("data", (chunk: Buffer) => {
      firstLog = (firstLog + chunk.toString("utf8")).slice(-6000);
    });
    const statePath = join(out, "state.json");
    const firstExit = new Promise<number | null>((resolve) => first.once("exit", (code) => resolve(code)));
    while (first.exitCode === null) {
      // The version is saved (state.json) a moment before its metrics line is written: wait for both.
      const saved = existsSync(statePath) && JSON.parse(readFileSync(statePath, "utf8")).step === 1;
      const metrics = join(out, "metrics.jsonl");
      if (saved && existsSync(metrics) && readFileSync(metrics, "utf8").endsWith("\n")) {
        first.kill("SIGKILL");
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await firstExit;
    expect(existsSync(statePath), `the first trainer saved no version:\n${firstLog}`).toBe(true);
    expect(JSON.parse(readFileSync(statePath, "utf8")), firstLog).toMatchObject({
      step: 1,
      version: "policy-v1",
    });
    const [one] = readLines<IterationReport>(join(out, "metrics.jsonl"));
    expect(one).toMatchObject({ iteration: 1, sampled_with: vllm.model, policy_version: "policy-v1" });
    expect(one!.trained_samples).toBeGreaterThan(0);
    expect(one!.probe.served_vs_trainer_max_abs).toBeLessThan(1e-2);
    // The rollout's logprobs (vLLM, temperature 0.7, top-p 0.95) against the trainer's of the same
    // distribution under the same weights, on every sampled token of the iteration.
    expect(one!.rollout_vs_trainer.tokens).toBeGreaterThan(0);
    expect(one!.rollout_vs_trainer.max_abs).toBeLessThan(1e-2);
    expect(one).toMatchObject({ new_version: true });
    expect(one!.grad_norm).toBeGreaterThan(0);
    expect(one!.entropy).toBeGreaterThan(0);
    expect(one!.kl_to_previous).toBeGreaterThan(0);
    const recorded = readLines<{ sampling: { temperature: number; top_p: number } }>(
      join(out, "samples", "iteration-000001.jsonl"),
    );
    expect(recorded[0]!.sampling).toMatchObject({ temperature: 0.7, top_p: 0.95 });

    // Iteration 1's samples, replayed as an exported step: sampled with the base model, stale under k = 0.
    const replay = join(temp.path, "replay");
    const base = readLines<{ sample_id: string }>(join(out, "samples", "iteration-000001.jsonl"));
    expect(base.length).toBeGreaterThan(0);
    writeRolloutStep(replay, 0, base);

    const second = await runProgram(
      "nice",
      trainerArguments(["--iterations", "1", "--staleness", "0", "--follow-rollouts", replay]),
      { cwd: projectRoot, env: trainerEnv(), timeoutMs: 1_200_000 },
    );
    expect(second.code, second.stderr.slice(-4000)).toBe(0);
    expect(second.stderr).toContain("resuming at policy-v1");
    const reports = readLines<IterationReport>(join(out, "metrics.jsonl"));
    expect(reports.map((report) => report.iteration)).toEqual([1, 2]);
    const two = reports[1]!;
    expect(two).toMatchObject({ sampled_with: "policy-v1", policy_version: "policy-v2" });
    expect(two.replayed_samples).toBe(base.length);
    expect(two.stale_samples).toBe(base.length);
    expect(two.trained_samples).toBe(two.samples - base.length);
    // k = 0: policy-v1 is beyond the window once policy-v2 is served.
    expect(two.unloaded).toEqual(["policy-v1"]);
    expect(two.rollout_vs_trainer.max_abs).toBeLessThan(1e-2);

    // Iteration 1's samples were sampled by the base model, iteration 2's by the adapter of iteration 1,
    // turn by turn; the service's samples also say so with their version and step (`run` names its
    // prompts' version there).
    type Sampled = {
      policy_version: string;
      meta: { turn_models: string[]; policy_step: number };
      sample_id: string;
    };
    for (const sample of base as unknown as Sampled[]) {
      if (source !== "run")
        expect(sample).toMatchObject({ policy_version: vllm.model, meta: { policy_step: 0 } });
      expect(new Set(sample.meta.turn_models)).toEqual(new Set([vllm.model]));
    }
    const sampled = readLines<Sampled>(join(out, "samples", "iteration-000002.jsonl")).filter(
      (sample) => !base.some((old) => old.sample_id === sample.sample_id),
    );
    expect(sampled.length).toBeGreaterThan(0);
    for (const sample of sampled) {
      if (source !== "run")
        expect(sample).toMatchObject({ policy_version: "policy-v1", meta: { policy_step: 1 } });
      expect(new Set(sample.meta.turn_models)).toEqual(new Set(["policy-v1"]));
    }

    // vLLM serves policy-v2: on a fixed sampled sequence its logprobs match the trainer's and differ from
    // the base model's.
    const probe = JSON.parse(readFileSync(join(out, "probes", "policy-v2.json"), "utf8")) as Probe;
    const served = await score("policy-v2", probe.tokens);
    const original = await score(vllm.model, probe.tokens);
    let matchError = 0;
    let shift = 0;
    probe.positions.forEach((position, index) => {
      matchError = Math.max(matchError, Math.abs(served[position]! - probe.trainer_logprobs[index]!));
      shift = Math.max(shift, Math.abs(served[position]! - original[position]!));
    });
    expect(matchError).toBeLessThan(1e-2);
    expect(shift).toBeGreaterThan(5e-2);

    // The iterations are in the store for the dashboard.
    const rows = await runProgram(
      python as string,
      [
        "-c",
        `import sqlite3,json;print(json.dumps(sqlite3.connect(${JSON.stringify(storePath)}).execute("SELECT iteration, policy_version FROM trainer_iterations ORDER BY iteration").fetchall()))`,
      ],
      { cwd: projectRoot, env: process.env },
    );
    expect(JSON.parse(rows.stdout)).toEqual([
      [1, "policy-v1"],
      [2, "policy-v2"],
    ]);
  }, 1_800_000);
  it("warm-starts from an SFT line tokenised as the server tokenises it, and hot-loads the result", async () => {
    const tools = [
      {
        type: "function",
        function: {
          name: "bash",
          description: "Run a shell command.",
          parameters: { type: "object", properties: { command: { type: "string" } } },
        },
      },
    ];
    const messages = [
      { role: "system", content: "You repair bugs." },
      { role: "user", content: "tests/test_text.py fails." },
      {
        role: "assistant",
        content: "",
        tool_calls: [
          {
            id: "call_1",
            type: "function",
            function: { name: "bash", arguments: JSON.stringify({ command: "pytest -q" }) },
          },
        ],
      },
    ];
    const file = join(temp.path, "sft.jsonl");
    writeFileSync(file, `${JSON.stringify({ messages, tools })}\n`);
    const warm = join(temp.path, "warm");
    const result = await runProgram(
      "nice",
      [
        "-n",
        "10",
        python as string,
        "-m",
        "swe_selfplay.train",
        ...["--out", warm, "--model-dir", (installation as { model: string }).model],
        ...["--base-model", vllm.model, "--vllm-url", vllm.rootUrl, "--sft", file],
        ...["--sft-epochs", "1", "--lr", "0.01"],
      ],
      { cwd: projectRoot, env: trainerEnv(), timeoutMs: 900_000 },
    );
    expect(result.code, result.stderr.slice(-4000)).toBe(0);
    const [line] = readLines<{ policy_version: string; sft: { tokens: number; labelled_tokens: number } }>(
      join(warm, "metrics.jsonl"),
    );
    expect(line!.policy_version).toBe("policy-v1");
    // The server renders and tokenises the same conversation into the same number of tokens.
    const response = await fetch(`${vllm.rootUrl}/tokenize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: vllm.model, messages, tools, add_generation_prompt: false }),
    });
    const tokens = ((await response.json()) as { tokens: number[] }).tokens;
    expect(line!.sft.tokens).toBe(tokens.length);
    // The assistant's turn is the last one: its tokens end just before the template's final newline. vLLM
    // serves the warm start, under which they are likelier than under the base model.
    const end = tokens.length - 1;
    const start = end - line!.sft.labelled_tokens;
    const [served, original] = await Promise.all([score("policy-v1", tokens), score(vllm.model, tokens)]);
    const mean = (values: (number | null)[]) =>
      values.slice(start, end).reduce<number>((sum, value) => sum + value!, 0) / (end - start);
    expect(mean(served)).toBeGreaterThan(mean(original) + 0.05);
  }, 1_200_000);
});
