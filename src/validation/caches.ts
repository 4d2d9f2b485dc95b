// The validator's caches. Baselines are shared by (environment, script, parser, oracle files): a validation
// joins one in flight, and it is only abandoned when every validation waiting on it was aborted by its caller.
// Whole reports are kept by (environment, artifact id). The oldest settled entries go first.
import type { BugArtifact } from "../ports/artifact.js";
import type { Environment } from "../ports/sandbox.js";
import type { ValidationReport } from "../ports/validation.js";
import { abortError } from "./abort.js";
import type { BaselineOutcome } from "./baseline.js";
import { environmentKey } from "./environment-key.js";

/** Cache sizes: a long run sees many parsers and artifacts. */
const MAX_BASELINES = 64;
const MAX_REPORTS = 2_000;

/** Drops the oldest entries (Map keeps insertion order) that `removable` allows, down to `limit`. */
function trim<V>(cache: Map<string, V>, limit: number, removable: (value: V) => boolean): void {
  for (const [key, value] of cache) {
    if (cache.size <= limit) return;
    if (removable(value)) cache.delete(key);
  }
}

export type Validate = (
  environment: Environment,
  artifact: BugArtifact,
  id: string,
  abortSignal: AbortSignal,
) => Promise<ValidationReport>;

/**
 * Caching decorator of a validation: a second call with the same (environment, artifact id) gets the same
 * report, also while the first is in flight. Aborted or broken validations are not remembered.
 */
export function cachedReports(validate: Validate): Validate {
  const reports = new Map<string, Promise<ValidationReport>>();
  return (environment, artifact, id, abortSignal) => {
    const key = `${environmentKey(environment)}\u0000${id}`;
    if (abortSignal.aborted) return Promise.reject(abortError(abortSignal));
    const existing = reports.get(key);
    if (existing) return existing;
    const promise = validate(environment, artifact, id, abortSignal);
    reports.set(key, promise);
    trim(reports, MAX_REPORTS, (entry) => entry !== promise);
    promise.catch(() => {
      if (reports.get(key) === promise) reports.delete(key);
    });
    return promise;
  };
}

interface BaselineEntry {
  promise: Promise<BaselineOutcome>;
  controller: AbortController;
  /** Validations waiting on it that were not aborted by their caller. */
  waiters: number;
  settled: boolean;
  outcome?: BaselineOutcome;
}

/** A validation's hold on a shared baseline. */
export interface HeldBaseline {
  promise: Promise<BaselineOutcome>;
  /** True when another validation started it: its runs cost this one nothing. */
  cached: boolean;
  /** The outcome, when it was already known at acquisition. */
  outcome: BaselineOutcome | undefined;
  /** Stops waiting (idempotent); the baseline keeps running for the others and the next artifact. */
  release(): void;
}

export type MeasureBaseline = (
  environment: Environment,
  artifact: BugArtifact,
  abortSignal: AbortSignal,
) => Promise<BaselineOutcome>;

/** Caching decorator of the baseline measurement, with shared in-flight runs. */
export class BaselineCache {
  private readonly entries = new Map<string, BaselineEntry>();
  private readonly background = new Set<Promise<unknown>>();

  constructor(private readonly measure: MeasureBaseline) {}

  acquire(environment: Environment, artifact: BugArtifact, callerSignal: AbortSignal): HeldBaseline {
    const key = JSON.stringify([
      environmentKey(environment),
      artifact.testScript,
      artifact.testParser,
      [...artifact.testFiles].sort(),
    ]);
    const existing = this.entries.get(key);
    const entry = existing ?? this.start(key, environment, artifact);
    return this.join(key, entry, callerSignal, existing !== undefined);
  }

  /** Aborts baselines still running; they were kept running for artifacts that never came. */
  async close(): Promise<void> {
    for (const entry of this.entries.values()) {
      if (!entry.settled) entry.controller.abort(new DOMException("validator closed", "AbortError"));
    }
    this.entries.clear();
    await Promise.allSettled([...this.background]);
  }

  private start(key: string, environment: Environment, artifact: BugArtifact): BaselineEntry {
    const controller = new AbortController();
    const entry: BaselineEntry = {
      controller,
      waiters: 0,
      settled: false,
      promise: this.measure(environment, artifact, controller.signal),
    };
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    entry.promise.then(
      (outcome) => {
        entry.settled = true;
        entry.outcome = outcome;
        // An aborted run says nothing about the suite: the next validation measures again.
        if (outcome.runs.some((run) => run.status === "aborted")) forget();
      },
      () => {
        entry.settled = true;
        forget();
      },
    );
    this.background.add(entry.promise);
    entry.promise.finally(() => this.background.delete(entry.promise)).catch(() => {});
    this.entries.set(key, entry);
    trim(this.entries, MAX_BASELINES, (cached) => cached.settled);
    return entry;
  }

  private join(key: string, entry: BaselineEntry, callerSignal: AbortSignal, cached: boolean): HeldBaseline {
    entry.waiters++;
    // A failing check elsewhere only releases the baseline, because the next artifact will want it.
    let left = false;
    const leave = () => {
      if (left) return false;
      left = true;
      entry.waiters--;
      callerSignal.removeEventListener("abort", onCallerAbort);
      return true;
    };
    const onCallerAbort = () => {
      if (leave() && entry.waiters === 0 && !entry.settled) {
        if (this.entries.get(key) === entry) this.entries.delete(key);
        entry.controller.abort(abortError(callerSignal));
      }
    };
    callerSignal.addEventListener("abort", onCallerAbort, { once: true });
    return { promise: entry.promise, cached, outcome: entry.outcome, release: () => void leave() };
  }
}
