// Evaluations on demand for trainers: `POST /v1/eval` starts (or finds) the evaluation of a frozen task set by a
// policy version behind an inference server, run in this process through src/eval/ (self-play's episodes,
// sandboxes and grading); `GET /v1/eval/{evaluation_id}` says how far it is and, once complete, its figures.
// The same set, policy and sampling are one evaluation: a repeat continues it, finished attempts stay.
import { z } from "zod";
import type { SelfPlayConfig } from "../config/index.js";
import { errorMessage, InputError } from "../errors.js";
import {
  canonicalJson,
  checkEvaluation,
  type EvaluationResult,
  evaluationId,
  runEvaluation,
  type TaskSetFile,
  taskSetSchema,
} from "../eval/index.js";
import { createLogger } from "../log.js";
import type { Policy } from "../ports/policy.js";
import type { SandboxBackend } from "../ports/sandbox.js";
import type { TestLocator } from "../ports/validation.js";
import { evaluationProgress, getEvaluation, type SqliteStore } from "../store/index.js";
import { RequestError } from "./request-error.js";
import { inferenceSchema, samplingSchema } from "./schemas.js";
import type { PolicyChoice } from "./service.js";

const log = createLogger("serve");

export const evalBodySchema = z.strictObject({
  task_set: taskSetSchema.describe("The frozen task set, as `swe-selfplay eval make-set` writes it."),
  attempts: z.int().min(1).max(64).describe("Solver attempts per task (k)."),
  inference: inferenceSchema,
  policy_version: z.string().min(1).max(200).describe("Names the weights served behind `inference`."),
  sampling: samplingSchema.optional(),
});
export type EvalBody = z.output<typeof evalBodySchema>;

export const evalViewSchema = z.object({
  evaluation_id: z.string(),
  status: z.enum(["running", "interrupted", "failed", "completed"]),
  done: z.int().describe("Attempts finished."),
  total: z.int().describe("Attempts of the evaluation (known once its tasks are validated)."),
  error: z.string().nullable(),
  figures: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe("Resolve rate, Wilson interval, pass@k, breakdowns (once completed)."),
});
export type EvalView = z.output<typeof evalViewSchema>;

export interface EvaluationJobsDeps {
  config: SelfPlayConfig;
  store: SqliteStore;
  sandboxes: SandboxBackend;
  policies: (choice: PolicyChoice) => Policy;
  testLocator?: TestLocator;
}

export class EvaluationJobs {
  private readonly running = new Map<string, Promise<EvaluationResult | null>>();
  private readonly stopping = new AbortController();

  constructor(private readonly deps: EvaluationJobsDeps) {}

  /** Starts the evaluation, or continues or finds it; bad input (ids, environments) is answered 400. */
  submit(body: EvalBody): { created: boolean; view: EvalView } {
    const { config, store } = this.deps;
    const policy = this.deps.policies({
      inference: body.inference,
      role: "solver",
      policyVersion: body.policy_version,
      ...(body.sampling ? { sampling: body.sampling } : {}),
    });
    const set = body.task_set as TaskSetFile;
    const sampling = { ...body.sampling, inference: body.inference.kind, ...formatOf(body) };
    const id = evaluationId(set, policy, canonicalJson(sampling), body.attempts);
    const existing = getEvaluation(store, id);
    const request = {
      set,
      setPath: "body.task_set",
      attempts: body.attempts,
      sampling,
      resume: existing !== null,
    };
    try {
      checkEvaluation({ config, store, policy }, request);
    } catch (error) {
      if (error instanceof InputError)
        throw new RequestError(400, error.code, error.message, { path: "body" });
      throw error;
    }
    if (!this.running.has(id) && existing?.status !== "completed") {
      const work = runEvaluation(
        { ...this.deps, policy, signal: this.stopping.signal },
        { ...request, seed: body.sampling?.seed ?? config.seed },
      ).catch((error: unknown) => {
        log.error("evaluation failed", { evaluation: id, error: errorMessage(error) });
        return null;
      });
      this.running.set(id, work);
      void work.finally(() => this.running.delete(id));
    }
    return { created: existing === null, view: this.view(id) };
  }

  view(id: string): EvalView {
    const evaluation = getEvaluation(this.deps.store, id);
    if (!evaluation) throw new RequestError(404, "not-found", `no evaluation ${id}`);
    const { done, total } = evaluationProgress(this.deps.store, id);
    return {
      evaluation_id: id,
      status: evaluation.status,
      done,
      total,
      error: evaluation.error,
      figures: (evaluation.figures as Record<string, unknown> | null) ?? null,
    };
  }

  /** Waits up to `ms` for the evaluation to end in this process. */
  async waitFor(id: string, ms: number, signal: AbortSignal): Promise<void> {
    const work = this.running.get(id);
    if (!work) return;
    await Promise.race([
      work,
      new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve(null);
        });
      }),
    ]);
  }

  /** Interrupts the running evaluations (resumable by a repeated request). */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled(this.running.values());
  }
}

function formatOf(body: EvalBody): Record<string, string> {
  return body.inference.kind !== "builtin" && body.inference.tool_call_format
    ? { tool_call_format: body.inference.tool_call_format }
    : {};
}
