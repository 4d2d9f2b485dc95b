import { describe, expect, it } from "vitest";
import { createLimiter } from "./limiter.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("createLimiter", () => {
  it("never runs more than `concurrency` tasks at once and keeps FIFO order", async () => {
    const limiter = createLimiter(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const tasks = [0, 1, 2, 3, 4].map((index) =>
      limiter.run(async () => {
        started.push(index);
        running++;
        peak = Math.max(peak, running);
        await tick();
        running--;
        return index * 10;
      }),
    );
    expect(await Promise.all(tasks)).toEqual([0, 10, 20, 30, 40]);
    expect(peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(limiter.active).toBe(0);
  });

  it("drops queued work whose signal aborts and frees the slot of failed work", async () => {
    const limiter = createLimiter(1);
    const controller = new AbortController();
    const first = limiter.run(async () => {
      await tick();
      throw new Error("boom");
    });
    let ran = false;
    const second = limiter.run(async () => {
      ran = true;
    }, controller.signal);
    controller.abort(new Error("stop"));
    await expect(second).rejects.toThrow("stop");
    await expect(first).rejects.toThrow("boom");
    expect(await limiter.run(async () => "after")).toBe("after");
    expect(ran).toBe(false);
    expect(limiter.queued).toBe(0);
  });
});
