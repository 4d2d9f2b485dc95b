// Events of a self-play run, named noun-verb; the progress display, logs and embedding programs consume them.
import type { CheckName } from "../ports/validation.js";

export type SelfPlayEvent =
  | { type: "run-started"; runId: string; resumed: boolean; stepsDone: number; stepsTarget: number | null }
  | { type: "step-started"; stepIndex: number; environment: string; strategy: string; resumed: boolean }
  | { type: "artifact-proposed"; stepIndex: number; artifactId: string }
  | { type: "proposal-failed"; stepIndex: number; reason: string }
  | {
      type: "artifact-validated";
      stepIndex: number;
      artifactId: string;
      order: 1 | 2;
      verdict: "valid" | "invalid";
      failedCheck: CheckName | null;
      reason: string | null;
    }
  | {
      type: "attempt-graded";
      stepIndex: number;
      groupId: string;
      attemptIndex: number;
      resolved: boolean;
      status: string;
    }
  | {
      type: "group-graded";
      stepIndex: number;
      groupId: string;
      order: 1 | 2;
      solveRate: number;
      proposerReward: number | null;
    }
  | { type: "second-order-made"; stepIndex: number; groupId: string; artifactId: string }
  | { type: "second-order-skipped"; stepIndex: number; groupId: string; reason: string }
  | { type: "step-finished"; stepIndex: number; outcome: string; proposerReward: number | null }
  | { type: "step-failed"; stepIndex: number; environment: string; error: string }
  | { type: "environment-disabled"; environment: string; reason: string }
  | { type: "run-stopping"; reason: "interrupted" | "duration" | "steps" | "no-environment" }
  | { type: "run-finished"; runId: string; status: string };

export type SelfPlayEventType = SelfPlayEvent["type"];
