// The service's wire contract as zod schemas: request bodies (validated), and the answers (documented in
// the OpenAPI document, which is generated from these same schemas). Field names are the wire's snake_case.
import { z } from "zod";
import { callFormatSchema, inferenceKindSchema, SERVICE_CALL_FORMATS } from "../config/index.js";

const requestId = z
  .string()
  .min(1)
  .max(200)
  .describe("The client's id of this request; a repeat returns the same step, never a second one.");

export const inferenceSchema = z
  .union([
    z
      .strictObject({
        kind: inferenceKindSchema.describe(
          "vllm | sglang: token-in/token-out (one exact sample per episode); openai-chat: chat completions.",
        ),
        base_url: z
          .url({ protocol: /^https?$/ })
          .describe("The inference server, e.g. http://10.0.0.5:8000/v1."),
        model: z.string().min(1).describe("Model (or LoRA adapter) name sent with every request."),
        tool_call_format: callFormatSchema
          .exclude(["native"])
          .optional()
          .describe(
            `How the model writes tool calls in its text; default ${Object.entries(SERVICE_CALL_FORMATS)
              .map(([kind, format]) => `${format} for ${kind}`)
              .join(", ")}.`,
          ),
        api_key_env: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
          .optional()
          .describe("Environment variable of the service holding the server's API key."),
      })
      .describe("A model behind an inference server."),
    z.strictObject({ kind: z.literal("builtin") }).describe("The built-in offline policy plays this role."),
  ])
  .describe("Who plays a role.");

export const samplingSchema = z
  .strictObject({
    max_tokens: z.int().positive().optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    top_k: z.int().min(-1).optional(),
    min_p: z.number().min(0).max(1).optional(),
    seed: z.int().min(0).optional().describe("Seed of the step (default: derived from the service's run)."),
  })
  .describe("Sampling settings of the step's model requests.");

const policyVersion = z.string().min(1).max(200).describe("Names the weights served behind `inference`.");
const policyStep = z.int().min(0).optional().describe("The trainer's step of those weights (staleness).");
const groupSize = z.int().min(1).max(64).optional().describe("Solver attempts (G); default the config's.");

export const stepBodySchema = z.strictObject({
  request_id: requestId,
  environment: z.string().min(1).optional().describe("A configured environment; default round-robin."),
  strategy: z
    .enum(["removal", "history", "direct"])
    .optional()
    .describe("Default: by the environment's weights."),
  group_size: groupSize,
  inference: inferenceSchema,
  solver_inference: inferenceSchema.optional().describe("Who solves; default the same as `inference`."),
  policy_version: policyVersion,
  policy_step: policyStep,
  sampling: samplingSchema.optional(),
});

export const sweBenchInstanceSchema = z
  .looseObject({
    instance_id: z.string().min(1),
    environment: z
      .unknown()
      .optional()
      .describe("The environment's settings as exported; not read: `repo` names the configured environment."),
    repo: z.string().min(1).describe("The configured environment (unless the body names one)."),
    bug_patch: z.string().min(1).describe("bug_inject.diff: makes the buggy state from the environment."),
    weaken_patch: z.string().min(1).describe("test_weaken.diff: hides the bug from the tests."),
    test_script: z.string().min(1),
    test_parser: z.string().min(1),
    test_files: z.array(z.string().min(1)).min(1),
  })
  .describe("A SWE-bench-style line as `swe-selfplay export --format swebench` writes it.");

export const solveBodySchema = z
  .strictObject({
    request_id: requestId,
    artifact_id: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .describe("A stored artifact's id."),
    swebench_instance: sweBenchInstanceSchema.optional(),
    environment: z.string().min(1).optional(),
    inference: inferenceSchema,
    group_size: groupSize,
    policy_version: policyVersion,
    policy_step: policyStep,
    sampling: samplingSchema.optional(),
  })
  .refine((body) => (body.artifact_id === undefined) !== (body.swebench_instance === undefined), {
    message: "give exactly one of artifact_id and swebench_instance",
    path: ["artifact_id"],
  });

export type Inference = z.output<typeof inferenceSchema>;
export type Sampling = z.output<typeof samplingSchema>;
export type StepBody = z.output<typeof stepBodySchema>;
export type SolveBody = z.output<typeof solveBodySchema>;

export const stepStatusSchema = z.enum(["queued", "running", "done", "failed", "cancelled"]);

export const stepResultSchema = z.object({
  artifact_id: z.string().nullable(),
  valid: z.boolean(),
  validation: z
    .object({
      verdict: z.enum(["valid", "invalid"]).nullable(),
      failed_check: z.string().nullable(),
      reason: z.string().nullable(),
      f2p: z.int(),
      p2p: z.int(),
      test_runs: z.int(),
    })
    .describe("Summary of the artifact's validation report (null fields when nothing was validated)."),
  solve_rate: z.number().nullable(),
  samples: z.array(z.record(z.string(), z.unknown())).describe("rollout.v1 records with their rewards."),
  episodes: z.array(
    z.object({
      episode_id: z.string(),
      role: z.enum(["proposer", "solver"]),
      status: z.string().nullable(),
      exit_reason: z.string().nullable(),
      reward: z.number().nullable(),
    }),
  ),
});

export const stepViewSchema = z.object({
  step_id: z.string(),
  request_id: z.string(),
  status: stepStatusSchema,
  reason: z.string().optional(),
  policy_version: z.string(),
  policy_step: z.int().optional(),
  result: stepResultSchema.optional(),
});

export const acceptedSchema = z.object({ step_id: z.string(), request_id: z.string() });

export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), path: z.string().optional() }),
});

export const healthSchema = z.object({
  status: z.literal("ok"),
  version: z.string(),
  replica_id: z.string(),
});

export const statsSchema = z.object({
  replica_id: z.string(),
  queue: z.object({ depth: z.int(), capacity: z.int() }),
  in_flight: z.int(),
  done: z.int(),
  failed: z.int(),
  throughput_per_hour: z.number(),
  sandboxes: z.object({ in_use: z.int(), limit: z.int() }),
  waiting_clients: z.int().describe("Long polls and event streams open now."),
  resources: z
    .object({
      sandboxes: z.int(),
      processes: z.int().describe("Sandbox command processes alive: local launchers, container execs."),
      mounts: z.int().describe("Workspace mounts (overlays)."),
      cgroups: z.int().describe("Control group directories of commands."),
      containers: z.int().describe("Containers, warm spares included."),
      temporary_directories: z.int().describe("Sandbox state directories on the host."),
    })
    .describe("What the service's sandboxes hold right now, as the backends counted it; zero between steps."),
});

export const environmentsSchema = z.object({
  environments: z.array(z.object({ name: z.string(), kind: z.enum(["dir", "image"]), status: z.string() })),
});

export type StepResult = z.output<typeof stepResultSchema>;
export type StepView = z.output<typeof stepViewSchema>;
