// A SandboxBackend wrapper for benchmarks: adds up the time every sandbox spends being created, running
// commands and being destroyed, and how much of it went to test-script runs.
import type { RunOptions, Sandbox, SandboxBackend, SandboxSpec } from "../../src/ports/sandbox.js";

export interface SandboxTimes {
  sandboxes: number;
  createMs: number;
  destroyMs: number;
  testRunMs: number;
  testRuns: number;
  parserRunMs: number;
  otherRunMs: number;
  otherCalls: number;
  /** Time of the other commands by their first word (git, python3, grep, …), the five largest kept. */
  otherByProgram: Record<string, number>;
  fileMs: number;
}

export function timedSandboxes(backend: SandboxBackend): { backend: SandboxBackend; times: SandboxTimes } {
  const times: SandboxTimes = {
    sandboxes: 0,
    createMs: 0,
    destroyMs: 0,
    testRunMs: 0,
    testRuns: 0,
    parserRunMs: 0,
    otherRunMs: 0,
    otherCalls: 0,
    otherByProgram: {},
    fileMs: 0,
  };
  const timed = async <T>(work: () => Promise<T>, add: (ms: number) => void): Promise<T> => {
    const start = performance.now();
    try {
      return await work();
    } finally {
      add(performance.now() - start);
    }
  };
  const wrap = (sandbox: Sandbox): Sandbox => ({
    get id() {
      return sandbox.id;
    },
    get workdir() {
      return sandbox.workdir;
    },
    get spec() {
      return sandbox.spec;
    },
    run: (options: RunOptions) =>
      timed(
        () => sandbox.run(options),
        (ms) => {
          if (options.command.includes("/test_script.sh")) {
            times.testRunMs += ms;
            times.testRuns++;
          } else if (options.command.includes("/test_parser.py")) {
            times.parserRunMs += ms;
          } else {
            times.otherRunMs += ms;
            times.otherCalls++;
            const program = options.command.trim().split(/\s+/)[0] ?? "";
            times.otherByProgram[program] = (times.otherByProgram[program] ?? 0) + ms;
          }
        },
      ),
    readFile: (path) =>
      timed(
        () => sandbox.readFile(path),
        (ms) => (times.fileMs += ms),
      ),
    writeFile: (path, content, options) =>
      timed(
        () => sandbox.writeFile(path, content, options),
        (ms) => (times.fileMs += ms),
      ),
    diff: () =>
      timed(
        () => sandbox.diff(),
        (ms) => (times.fileMs += ms),
      ),
    applyPatch: (diff) =>
      timed(
        () => sandbox.applyPatch(diff),
        (ms) => (times.fileMs += ms),
      ),
    snapshot: () =>
      timed(
        () => sandbox.snapshot(),
        (ms) => (times.fileMs += ms),
      ),
    destroy: () =>
      timed(
        () => sandbox.destroy(),
        (ms) => (times.destroyMs += ms),
      ),
  });
  return {
    times,
    backend: {
      kind: backend.kind,
      async create(spec: SandboxSpec) {
        times.sandboxes++;
        return wrap(
          await timed(
            () => backend.create(spec),
            (ms) => (times.createMs += ms),
          ),
        );
      },
      close: () => backend.close(),
    },
  };
}

export function sandboxShares(times: SandboxTimes): { totalMs: number; testShare: number } {
  const totalMs =
    times.createMs + times.destroyMs + times.testRunMs + times.parserRunMs + times.otherRunMs + times.fileMs;
  return { totalMs, testShare: totalMs > 0 ? times.testRunMs / totalMs : 0 };
}
