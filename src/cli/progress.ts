// Live progress of a run on stderr: a redrawn block on a terminal, one plain line per event otherwise.
import { type SelfPlayEvent, solveRateHistogram } from "../selfplay/index.js";

export interface ProgressOptions {
  stream?: NodeJS.WriteStream | { write(text: string): boolean; isTTY?: boolean };
  /** Force the terminal (redrawn) or plain-line mode; default: whether the stream is a terminal. */
  interactive?: boolean;
  stepsTarget?: number | null;
  durationMs?: number | null;
  /** Redraw period on a terminal, ms. */
  refreshMs?: number;
}

export interface ProgressDisplay {
  onEvent(event: SelfPlayEvent): void;
  /** Draws the last state and stops redrawing. */
  stop(): void;
  /** The current block of lines (also what a terminal shows). */
  render(): string;
}

interface ProgressState {
  startedAt: number;
  stepsStarted: number;
  stepsFinished: number;
  stepsFailed: number;
  stepsAtStart: number;
  valid: number;
  invalid: number;
  noArtifact: number;
  secondOrderValid: number;
  attempts: number;
  resolved: number;
  solveRates: number[];
  proposerRewards: number[];
  stopping: string | null;
}

export function createProgress(options: ProgressOptions = {}): ProgressDisplay {
  const stream = options.stream ?? process.stderr;
  const interactive = options.interactive ?? Boolean(stream.isTTY);
  const state: ProgressState = {
    startedAt: Date.now(),
    stepsStarted: 0,
    stepsFinished: 0,
    stepsFailed: 0,
    stepsAtStart: 0,
    valid: 0,
    invalid: 0,
    noArtifact: 0,
    secondOrderValid: 0,
    attempts: 0,
    resolved: 0,
    solveRates: [],
    proposerRewards: [],
    stopping: null,
  };
  let drawnLines = 0;
  let stopped = false;
  const render = () => renderProgress(state, options);
  const draw = () => {
    const text = render();
    const clear = drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[J` : "";
    stream.write(`${clear}${text}\n`);
    drawnLines = text.split("\n").length;
  };
  const timer = interactive ? setInterval(draw, options.refreshMs ?? 500) : undefined;
  timer?.unref?.();
  const line = (text: string) => {
    if (!interactive) stream.write(`${new Date().toISOString().slice(11, 19)} progress ${text}\n`);
  };
  return {
    render,
    stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearInterval(timer);
      if (interactive) draw();
    },
    onEvent: (event) => applyEvent(state, event, options, line),
  };
}

function mean(values: number[]): string {
  return values.length === 0
    ? "-"
    : (values.reduce((sum, value) => sum + value, 0) / values.length).toFixed(3);
}

function renderProgress(state: ProgressState, options: ProgressOptions): string {
  const elapsedMs = Date.now() - state.startedAt;
  const finishedNow = state.stepsFinished + state.stepsFailed;
  const perHour = elapsedMs > 0 ? (finishedNow * 3_600_000) / elapsedMs : 0;
  let eta = "";
  if (options.stepsTarget && finishedNow > 0) {
    const remaining = options.stepsTarget - state.stepsAtStart - finishedNow;
    eta = `, ETA ${formatDuration((remaining * elapsedMs) / finishedNow)}`;
  } else if (options.durationMs) {
    eta = `, ends in ${formatDuration(Math.max(0, options.durationMs - elapsedMs))}`;
  }
  const target = options.stepsTarget ? `/${options.stepsTarget}` : "";
  const histogram = solveRateHistogram(state.solveRates)
    .map((bucket) => `${bucket.label}:${bucket.count}`)
    .join(" ");
  return [
    `steps ${state.stepsAtStart + finishedNow}${target} (failed ${state.stepsFailed}, in flight ${state.stepsStarted - finishedNow})  ${perHour.toFixed(1)} steps/h${eta}${state.stopping ? `  (${state.stopping})` : ""}`,
    `artifacts valid ${state.valid}, invalid ${state.invalid}, none ${state.noArtifact}, second-order valid ${state.secondOrderValid}`,
    `attempts ${state.attempts} (resolved ${state.resolved})  solve rates ${histogram}`,
    `rewards proposer mean ${mean(state.proposerRewards)}`,
  ].join("\n");
}

/** Counts an event into the state; `line` prints it in plain-line mode. */
function applyEvent(
  state: ProgressState,
  event: SelfPlayEvent,
  options: ProgressOptions,
  line: (text: string) => void,
): void {
  switch (event.type) {
    case "run-started":
      state.stepsAtStart = event.stepsDone;
      line(`run ${event.runId} ${event.resumed ? `resumed at ${event.stepsDone} steps` : "started"}`);
      break;
    case "step-started":
      state.stepsStarted++;
      break;
    case "proposal-failed":
      state.noArtifact++;
      line(`step ${event.stepIndex}: no artifact (${event.reason})`);
      break;
    case "artifact-validated":
      if (event.order === 1) {
        if (event.verdict === "valid") state.valid++;
        else state.invalid++;
      } else if (event.verdict === "valid") state.secondOrderValid++;
      line(
        `step ${event.stepIndex}: ${event.order === 2 ? "second-order " : ""}artifact ${event.artifactId.slice(0, 12)} ${event.verdict}${event.failedCheck ? ` (${event.failedCheck}: ${event.reason ?? ""})` : ""}`,
      );
      break;
    case "attempt-graded":
      state.attempts++;
      if (event.resolved) state.resolved++;
      break;
    case "group-graded":
      state.solveRates.push(event.solveRate);
      if (event.proposerReward !== null) state.proposerRewards.push(event.proposerReward);
      line(
        `step ${event.stepIndex}: ${event.order === 2 ? "second-order " : ""}group solve rate ${event.solveRate.toFixed(2)}${event.proposerReward !== null ? `, proposer reward ${event.proposerReward.toFixed(3)}` : ""}`,
      );
      break;
    default:
      applyEndEvent(state, event, options, line);
  }
}

function applyEndEvent(
  state: ProgressState,
  event: SelfPlayEvent,
  options: ProgressOptions,
  line: (text: string) => void,
): void {
  switch (event.type) {
    case "step-finished":
      state.stepsFinished++;
      if ((event.outcome === "invalid" || event.outcome === "no-artifact") && event.proposerReward !== null)
        state.proposerRewards.push(event.proposerReward);
      line(
        `step ${event.stepIndex} finished: ${event.outcome} | ${renderProgress(state, options).split("\n")[0]}`,
      );
      break;
    case "step-failed":
      state.stepsFailed++;
      line(`step ${event.stepIndex} failed on ${event.environment}: ${event.error}`);
      break;
    case "environment-disabled":
      line(`environment ${event.environment} taken out of the run: ${event.reason}`);
      break;
    case "run-stopping":
      state.stopping = stoppingText(event.reason, options.stepsTarget ?? null);
      line(state.stopping);
      break;
    default:
      break;
  }
}

/** What a run-stopping event means for the user: no new steps start, and why; work in flight goes on. */
export function stoppingText(
  reason: "interrupted" | "duration" | "steps" | "no-environment",
  stepsTarget: number | null,
): string {
  switch (reason) {
    case "steps":
      return `${stepsTarget === 1 ? "the 1 step is" : `all ${stepsTarget ?? "configured"} steps are`} started; no new ones, those in flight finish`;
    case "duration":
      return "the run's duration is reached; no new steps, those in flight finish";
    case "no-environment":
      return "no environment is left in the run; no new steps";
    case "interrupted":
      return "interrupted; no new steps";
    default:
      return `${reason}; no new steps`;
  }
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, "0")}m`;
  if (minutes > 0) return `${minutes}m${String(rest).padStart(2, "0")}s`;
  return `${rest}s`;
}
