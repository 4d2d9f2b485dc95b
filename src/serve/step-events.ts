// Progress of the service's steps for server-sent events and long polls: each step's events of this
// process, kept until the step ends (and a while after, for late readers), and its listeners.
import type { ServiceStepStatus } from "../store/index.js";

export interface StepEvent {
  type: string;
  data: Record<string, unknown>;
}

type Listener = (event: StepEvent) => void;

interface Channel {
  history: StepEvent[];
  listeners: Set<Listener>;
  ended: boolean;
}

/** How many events of one step are kept for readers that join late. */
const HISTORY_LIMIT = 500;

export class StepEvents {
  private readonly channels = new Map<string, Channel>();

  private channel(stepId: string): Channel {
    let channel = this.channels.get(stepId);
    if (!channel) {
      channel = { history: [], listeners: new Set(), ended: false };
      this.channels.set(stepId, channel);
    }
    return channel;
  }

  publish(stepId: string, event: StepEvent): void {
    const channel = this.channel(stepId);
    if (channel.ended) return;
    if (channel.history.length < HISTORY_LIMIT) channel.history.push(event);
    for (const listener of [...channel.listeners]) listener(event);
  }

  /** The last event of a step: `done` with its final status. Later readers get history and `done`. */
  end(stepId: string, status: ServiceStepStatus, reason: string | null): void {
    this.publish(stepId, { type: "done", data: { step_id: stepId, status, ...(reason ? { reason } : {}) } });
    const channel = this.channel(stepId);
    channel.ended = true;
    channel.listeners.clear();
    // Late readers of an ended step read its status from the store; the history goes after a while.
    setTimeout(() => this.channels.delete(stepId), 60_000).unref();
  }

  /** Replays what happened so far, then follows; returns the unsubscribe function. */
  subscribe(stepId: string, listener: Listener): () => void {
    const channel = this.channel(stepId);
    for (const event of channel.history) listener(event);
    if (channel.ended) return () => {};
    channel.listeners.add(listener);
    return () => channel.listeners.delete(listener);
  }

  /** Resolves when the step ends or after `timeoutMs`, or when `signal` aborts (a client that went away). */
  waitForEnd(stepId: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let unsubscribe = () => {};
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", finish);
        unsubscribe();
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      signal.addEventListener("abort", finish, { once: true });
      unsubscribe = this.subscribe(stepId, (event) => {
        if (event.type === "done") finish();
      });
      if (signal.aborted) finish();
    });
  }

  /** Listeners currently attached, over every step (for tests and stats). */
  get listenerCount(): number {
    let count = 0;
    for (const channel of this.channels.values()) count += channel.listeners.size;
    return count;
  }
}
