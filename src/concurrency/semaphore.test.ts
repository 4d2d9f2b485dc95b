import { describe, expect, it } from "vitest";
import { Semaphore } from "./semaphore.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("Semaphore", () => {
  it("never holds more permits than its capacity and serves waiters in order", async () => {
    const semaphore = new Semaphore("test", 2);
    const order: number[] = [];
    let running = 0;
    let peak = 0;
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map((index) =>
        semaphore.run(async () => {
          running++;
          peak = Math.max(peak, running);
          order.push(index);
          await tick();
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(semaphore.maxActive).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(semaphore.active).toBe(0);
  });

  it("drops an aborted waiter without consuming a permit", async () => {
    const semaphore = new Semaphore("test", 1);
    const release = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    expect(semaphore.waiting).toBe(1);
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
    expect(semaphore.waiting).toBe(0);
    release();
    release(); // a second release is ignored
    expect(semaphore.active).toBe(0);
    const again = await semaphore.acquire();
    expect(semaphore.active).toBe(1);
    again();
  });

  it("releases the permit when the work throws", async () => {
    const semaphore = new Semaphore("test", 1);
    await expect(semaphore.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(semaphore.active).toBe(0);
  });

  // Bounding test runs in flight (validation): results come back in order, failures free their permit.
  it("never runs more than `concurrency` tasks at once and keeps FIFO order", async () => {
    const semaphore = new Semaphore("test", 2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const tasks = [0, 1, 2, 3, 4].map((index) =>
      semaphore.run(async () => {
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
    expect(semaphore.active).toBe(0);
  });

  it("drops queued work whose signal aborts and frees the slot of failed work", async () => {
    const semaphore = new Semaphore("test", 1);
    const controller = new AbortController();
    const first = semaphore.run(async () => {
      await tick();
      throw new Error("boom");
    });
    let ran = false;
    const second = semaphore.run(async () => {
      ran = true;
    }, controller.signal);
    controller.abort(new Error("stop"));
    await expect(second).rejects.toThrow("stop");
    await expect(first).rejects.toThrow("boom");
    expect(await semaphore.run(async () => "after")).toBe("after");
    expect(ran).toBe(false);
    expect(semaphore.waiting).toBe(0);
  });
});
