// A real vLLM (CPU build) serving the small Qwen2.5-Coder model that scripts/prepare-vllm.sh prepared, on
// loopback. Required in CI and with REQUIRE_VLLM=1; elsewhere the tests that need it say why they skip.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

export const SERVED_MODEL = "qwen2.5-coder-0.5b";

export interface VllmInstallation {
  python: string;
  model: string;
}

/** Where scripts/prepare-vllm.sh left vLLM and the model, or why it is not there. */
export function findVllm(env: NodeJS.ProcessEnv = process.env): VllmInstallation | string {
  let python = env.SWE_SELFPLAY_VLLM_PYTHON;
  let model = env.SWE_SELFPLAY_VLLM_MODEL;
  const cache =
    env.SWE_SELFPLAY_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "swe-selfplay");
  const envFile = join(cache, "vllm.env");
  if ((!python || !model) && existsSync(envFile)) {
    const values = Object.fromEntries(
      readFileSync(envFile, "utf8")
        .split("\n")
        .filter((line) => line.includes("="))
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    python ??= values.SWE_SELFPLAY_VLLM_PYTHON;
    model ??= values.SWE_SELFPLAY_VLLM_MODEL;
  }
  if (!python || !model) return `no prepared vLLM (run scripts/prepare-vllm.sh; looked for ${envFile})`;
  if (!existsSync(python)) return `the vLLM python ${python} is missing (run scripts/prepare-vllm.sh again)`;
  if (!existsSync(join(model, "config.json"))) return `the model directory ${model} has no config.json`;
  return { python, model };
}

/** Whether a missing vLLM fails the tests instead of skipping them. */
export const vllmRequired = process.env.CI === "true" || process.env.REQUIRE_VLLM === "1";

export interface VllmServer {
  /** OpenAI base, with `/v1`. */
  baseUrl: string;
  /** Root: `/tokenize`, `/detokenize`, `/health`. */
  rootUrl: string;
  model: string;
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface VllmOptions {
  timeoutMs?: number;
  /** How long to wait for another test file's vLLM server to stop [40 min]. */
  lockWaitMs?: number;
  /** Serve LoRA adapters loaded at run time (`/v1/load_lora_adapter`) up to this rank. */
  loraRank?: number;
  /**
   * Accept per-request seeds: vLLM 0.32's CPU worker dies on a seeded request whose prefill is chunked
   * ("CPU Generator does not use offset"); with chunked prefill off and a whole context per batch, three
   * concurrent seeded 2,500-token prompts are served.
   */
  acceptSeeds?: boolean;
  /** Keep vLLM's automatic prefix caching on [true]; off, a repeated prompt costs its whole prefill again. */
  prefixCaching?: boolean;
  /**
   * What the sampled tokens' logprobs are of [raw_logprobs, vLLM's default: the model's distribution at
   * temperature 1]; `processed_logprobs`: of the distribution sampled from (after temperature, top-k, top-p),
   * what an RL trainer's importance ratio needs.
   */
  logprobsMode?: "raw_logprobs" | "processed_logprobs";
  /** Start an own server even when SWE_SELFPLAY_VLLM_URL names a running one (for a test that crashes it). */
  fresh?: boolean;
}

/**
 * One vLLM server at a time on this machine: each takes several GiB (weights in float32, its KV cache, the
 * CPU worker), and two of them beside a training process do not fit in 24 GiB. Test files that start one
 * wait here for the other's to stop; a lock whose owner process is gone is taken over.
 */
const LOCK = join(tmpdir(), "swe-selfplay-vllm.lock");

async function acquireVllmLock(waitMs: number): Promise<() => void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, "pid"), String(process.pid));
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(join(LOCK, "pid"), "utf8"));
    } catch {
      // being written or removed: look again
    }
    if (Number.isInteger(owner) && !processAlive(owner)) rmSync(LOCK, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`another vLLM server held ${LOCK} for ${waitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Starts vLLM and waits until it answers `/health` (one to three minutes on two cores), or fails with its log.
 * SWE_SELFPLAY_VLLM_URL (a root such as http://127.0.0.1:8000) reuses a server already serving the model.
 */
export async function startVllm(
  installation: VllmInstallation,
  options: VllmOptions = {},
): Promise<VllmServer> {
  const timeoutMs = options.timeoutMs ?? 540_000;
  const lora =
    options.loraRank === undefined
      ? []
      : ["--enable-lora", "--max-lora-rank", String(options.loraRank), "--max-loras", "4"];
  const seeds = options.acceptSeeds
    ? ["--no-enable-chunked-prefill", "--max-num-batched-tokens", "4096"]
    : [];
  const running = process.env.SWE_SELFPLAY_VLLM_URL?.replace(/\/+$/, "");
  const caching = options.prefixCaching === false ? ["--no-enable-prefix-caching"] : [];
  const logprobs = options.logprobsMode ? ["--logprobs-mode", options.logprobsMode] : [];
  if (
    running &&
    !options.fresh &&
    lora.length === 0 &&
    seeds.length === 0 &&
    caching.length === 0 &&
    logprobs.length === 0
  )
    return { baseUrl: `${running}/v1`, rootUrl: running, model: SERVED_MODEL, stop: async () => {} };
  // Waiting for another test file's server counts apart from this one's start-up time.
  const release = await acquireVllmLock(options.lockWaitMs ?? 2_400_000);
  const port = await freePort();
  const child: ChildProcess = spawn(
    installation.python,
    [
      "-m",
      "vllm.entrypoints.openai.api_server",
      "--model",
      installation.model,
      "--served-model-name",
      SERVED_MODEL,
      // float32: in bfloat16 the CPU's decode and prefill paths round apart by up to 0.1 in a token's logprob,
      // which would hide what the re-scoring test checks (stored logprobs within 1e-2).
      "--dtype",
      "float32",
      "--max-model-len",
      "4096",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      // torch.compile of the model takes many minutes on two busy cores; eager decoding is fast enough here.
      "--enforce-eager",
      // The chat client's native tool calls, for comparison; token-in/token-out parses calls itself.
      "--enable-auto-tool-choice",
      "--tool-call-parser",
      "hermes",
      ...lora,
      ...seeds,
      ...caching,
      ...logprobs,
    ],
    {
      env: {
        ...process.env,
        // GiB; a test's contexts (≤ 4,096 tokens of a 0.5B model: about 0.1 GiB) fit many times over.
        VLLM_CPU_KVCACHE_SPACE: process.env.SWE_SELFPLAY_VLLM_KV_GIB ?? "1",
        VLLM_LOGGING_LEVEL: "WARNING",
        HF_HUB_OFFLINE: "1",
        ...(lora.length > 0 ? { VLLM_ALLOW_RUNTIME_LORA_UPDATING: "True" } : {}),
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let log = "";
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString("utf8")).slice(-6000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited: number | null = null;
  child.on("exit", (code) => {
    exited = code ?? -1;
    release();
  });
  const rootUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited !== null || child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      return;
    }
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, 15_000);
    await gone;
    clearTimeout(killer);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`vLLM exited with ${exited} while starting:\n${log}`);
    try {
      const response = await fetch(`${rootUrl}/health`);
      if (response.ok) return { baseUrl: `${rootUrl}/v1`, rootUrl, model: SERVED_MODEL, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await stop();
  throw new Error(`vLLM did not answer /health within ${timeoutMs} ms:\n${log}`);
}
