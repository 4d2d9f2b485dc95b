// A real `swe-selfplay serve` process for tests and benchmarks: spawned through tsx on a free loopback
// port; its URL is read from the JSON line it prints. Stopped with SIGTERM, or killed with SIGKILL.
import { type ChildProcess, spawn } from "node:child_process";
import { projectRoot } from "../support/cli.js";

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** SIGTERM (steps in flight resume at the next start); resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
}

export function startServe(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      `${projectRoot}src/cli/main.ts`,
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--json",
      ...args,
    ],
    {
      cwd: projectRoot,
      env: { ...process.env, SWE_SELFPLAY_LOG: process.env.SWE_SELFPLAY_LOG ?? "warn", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`serve did not start within ${options.timeoutMs ?? 60_000} ms: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const line = stdout.split("\n")[0];
      if (!stdout.includes("\n") || !line) return;
      clearTimeout(timer);
      const { url } = JSON.parse(line) as { url: string };
      resolve({
        url,
        child,
        stderr: () => stderr,
        async stop() {
          child.kill("SIGTERM");
          return exited;
        },
        async kill() {
          child.kill("SIGKILL");
          await exited;
        },
      });
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening: ${stderr}`));
    });
  });
}

/** JSON over HTTP with fetch; the answer's status, headers and parsed body. */
export async function call(
  url: string,
  options: { method?: string; body?: unknown; token?: string; raw?: string; signal?: AbortSignal } = {},
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field in the tests.
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined || options.raw !== undefined) headers["content-type"] = "application/json";
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(url, {
    method: options.method ?? (options.body === undefined && options.raw === undefined ? "GET" : "POST"),
    headers,
    ...(options.raw !== undefined
      ? { body: options.raw }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

/**
 * Reads a step's event stream until `event` arrives (or the stream ends); returns what was read and the
 * reader, still open, for the caller to cancel once it has done what the event was waited for.
 */
export async function untilEvent(
  url: string,
  stepId: string,
  event: string,
): Promise<{ seen: string; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const stream = await fetch(`${url}/v1/steps/${stepId}/events`);
  const reader = stream.body!.getReader();
  let seen = "";
  while (!seen.includes(`event: ${event}`)) {
    const chunk = await reader.read();
    if (chunk.done) break;
    seen += new TextDecoder().decode(chunk.value);
  }
  return { seen, reader };
}
