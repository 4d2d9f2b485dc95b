import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { makeTempDir } from "../test/support/tmp.js";
import { createLogger, logToFile } from "./log.js";

describe("logToFile", () => {
  const temp = makeTempDir("swe-selfplay-log-");
  let stderr: string[];
  const saved = process.env.SWE_SELFPLAY_LOG;
  afterAll(() => temp.remove());
  beforeEach(() => {
    stderr = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    if (saved === undefined) delete process.env.SWE_SELFPLAY_LOG;
    else process.env.SWE_SELFPLAY_LOG = saved;
  });

  it("sends info lines to the file and only warnings and errors to the terminal", () => {
    delete process.env.SWE_SELFPLAY_LOG;
    const path = join(temp.path, "nested", "run.log");
    const close = logToFile(path);
    const log = createLogger("builtin").child("repair");
    log.info("repair finished", { testRuns: 10 });
    log.warn("a warning");
    log.debug("not kept");
    close();
    log.info("after closing");
    const written = readFileSync(path, "utf8");
    expect(written).toMatch(/info {2}\[builtin\.repair\] repair finished testRuns=10\n/);
    expect(written).toMatch(/warn {2}\[builtin\.repair\] a warning\n/);
    expect(written).not.toMatch(/not kept|after closing/);
    expect(stderr.join("")).not.toMatch(/repair finished/);
    expect(stderr.join("")).toMatch(/a warning/);
    // Without a file, info lines go to the terminal as before.
    expect(stderr.join("")).toMatch(/after closing/);
  });

  it("keeps info in the file when SWE_SELFPLAY_LOG quiets the terminal, and shows on it what that level asks", () => {
    const path = join(temp.path, "quiet.log");
    process.env.SWE_SELFPLAY_LOG = "error";
    let close = logToFile(path);
    createLogger("run").info("detail");
    createLogger("run").warn("hidden warning");
    close();
    expect(readFileSync(path, "utf8")).toMatch(/detail[\s\S]*hidden warning/);
    expect(stderr.join("")).toBe("");
    process.env.SWE_SELFPLAY_LOG = "debug";
    close = logToFile(path);
    createLogger("run").debug("fine detail");
    close();
    expect(readFileSync(path, "utf8")).toMatch(/fine detail/);
    expect(stderr.join("")).toMatch(/fine detail/);
  });
});
