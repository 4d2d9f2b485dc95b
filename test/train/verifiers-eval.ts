// verifiers' own evaluation command (`vf-eval`, from the trainer's venv) over the environment package
// python/environments/swe_selfplay_env, installed with pip from its pyproject into a directory of the test's.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { type CliResult, projectRoot, runProgram } from "../support/cli.js";

export interface TrajectoryStep {
  tokens: {
    prompt_ids: number[];
    completion_ids: number[];
    completion_mask: number[];
    completion_logprobs: number[];
  };
  reward: number | null;
  extras: { role: string; sample_id: string; step_id: string; policy_version: string };
}

export interface RolloutResult {
  reward: number;
  metrics: Record<string, number>;
  completion: { role: string; content: string }[];
  trajectory: TrajectoryStep[];
  swe_selfplay: { step_id: string | null; failure: string | null; solve_rate: number; solvers: number };
}

/** `pip install --no-deps --target` the package as a user would (its dependencies are in the venv). */
export async function installEnvironment(python: string, parent: string): Promise<string> {
  const site = join(parent, "site");
  const result = await runProgram(
    python,
    [
      ...["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "--no-deps"],
      ...[
        "--no-build-isolation",
        "--target",
        site,
        join(projectRoot, "python/environments/swe_selfplay_env"),
      ],
    ],
    { cwd: parent, env: { ...process.env, PIP_NO_INDEX: "1" }, timeoutMs: 180_000 },
  );
  if (result.code !== 0) throw new Error(`pip install of swe_selfplay_env failed:\n${result.stderr}`);
  return site;
}

export interface EvalOptions {
  service: string;
  /** The model's OpenAI-compatible base URL (with /v1) and its served name. */
  baseUrl: string;
  model: string;
  out: string;
  envArgs: Record<string, unknown>;
  /** vf-eval's sampling flags, e.g. ["--max-tokens", "48"]. */
  extra?: string[];
  timeoutMs?: number;
}

/** `vf-eval swe-selfplay-env -n 1 -r 1` with the service in SWE_SELFPLAY_SERVICES, results saved under `out`. */
export function vfEval(python: string, site: string, options: EvalOptions): Promise<CliResult> {
  return runProgram(
    join(dirname(python), "vf-eval"),
    [
      "swe-selfplay-env",
      ...["-m", options.model, "-b", options.baseUrl, "-k", "SWE_SELFPLAY_TEST_API_KEY"],
      ...["-n", "1", "-r", "1", "-c", "1", "-a", JSON.stringify(options.envArgs)],
      ...["-s", "-o", options.out, "-C", "trajectory,swe_selfplay", "--disable-tui", "--disable-env-server"],
      ...(options.extra ?? []),
    ],
    {
      cwd: options.out.replace(/\/[^/]+$/, ""),
      env: {
        ...process.env,
        PYTHONPATH: [site, join(projectRoot, "python")].join(":"),
        SWE_SELFPLAY_SERVICES: options.service,
        SWE_SELFPLAY_TEST_API_KEY: "none",
        PYTHONDONTWRITEBYTECODE: "1",
      },
      timeoutMs: options.timeoutMs ?? 600_000,
    },
  );
}

/** The rollouts vf-eval saved (results.jsonl, wherever under `out` it put it). */
export function readResults(out: string): RolloutResult[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name === "results.jsonl") found.push(path);
    }
  };
  walk(out);
  if (found.length !== 1) throw new Error(`expected one results.jsonl under ${out}, found ${found.length}`);
  return readFileSync(found[0]!, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as RolloutResult);
}
