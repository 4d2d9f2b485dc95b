import { describe, expect, it } from "vitest";
import { CappedBuffer, CommandWatch, runResultOf } from "./command-outcome.js";

describe("CappedBuffer", () => {
  it("keeps the head of a stream and flags truncation only when a byte was dropped", () => {
    const exact = new CappedBuffer(6);
    exact.push(Buffer.from("abc"));
    exact.push(Buffer.from("def"));
    exact.push(Buffer.alloc(0));
    expect(exact.value().toString()).toBe("abcdef");
    expect(exact.truncated).toBe(false);

    const over = new CappedBuffer(4);
    over.push(Buffer.from("abc"));
    over.push(Buffer.from("def"));
    over.push(Buffer.from("ghi"));
    expect(over.value().toString()).toBe("abcd");
    expect(over.truncated).toBe(true);
  });
});

describe("CommandWatch", () => {
  it("stops a command once on timeout and reports no exit code", async () => {
    const reasons: string[] = [];
    const watch = new CommandWatch({
      timeoutMs: 20,
      maxOutputBytes: 8,
      onStop: (reason) => reasons.push(reason),
    });
    watch.start();
    watch.stdout.push(Buffer.from("partial output"));
    await new Promise((resolve) => setTimeout(resolve, 60));
    watch.stop("aborted");
    watch.end();
    const outcome = watch.outcome(0);
    expect(reasons).toEqual(["timed-out"]);
    expect(outcome).toMatchObject({ status: "timed-out", exitCode: null, truncated: true });
    expect(runResultOf(outcome).stdout).toBe("partial ");
  });

  it("turns the caller's abort into an aborted outcome and forgets the signal when ended", () => {
    const controller = new AbortController();
    const reasons: string[] = [];
    const watch = new CommandWatch({
      timeoutMs: 10_000,
      maxOutputBytes: 8,
      abortSignal: controller.signal,
      onStop: (reason) => reasons.push(reason),
    });
    watch.start();
    controller.abort();
    watch.end();
    expect(watch.outcome(3)).toMatchObject({ status: "aborted", exitCode: null, truncated: false });

    const later = new AbortController();
    const finished = new CommandWatch({
      timeoutMs: 10_000,
      maxOutputBytes: 8,
      abortSignal: later.signal,
      onStop: (reason) => reasons.push(reason),
    });
    finished.start();
    finished.end();
    later.abort();
    expect(finished.outcome(3)).toMatchObject({ status: "exited", exitCode: 3 });
    expect(reasons).toEqual(["aborted"]);
  });

  it("stops at once when the abort came while the command was being started (no event fires any more)", () => {
    const controller = new AbortController();
    const reasons: string[] = [];
    const watch = new CommandWatch({
      timeoutMs: 10_000,
      maxOutputBytes: 8,
      abortSignal: controller.signal,
      onStop: (reason) => reasons.push(reason),
    });
    controller.abort();
    watch.start();
    watch.end();
    expect(reasons).toEqual(["aborted"]);
    expect(watch.outcome(0)).toMatchObject({ status: "aborted", exitCode: null });
  });
});
