// The model-driven policy (kind "openai"): runs the agent loop as proposer or solver and turns its result
// into a PolicyEpisode with rollout.v1 samples.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { parseTestFiles } from "../artifact/index.js";
import { createModelClient, type ModelClientOptions } from "../model/openai-client.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { ModelClient } from "../ports/model.js";
import type {
  Policy,
  PolicyEpisode,
  PolicyInfo,
  ProposeOutcome,
  ProposeRequest,
  Role,
  SolveOutcome,
  SolveRequest,
} from "../ports/policy.js";
import type { EpisodeStatus } from "../ports/rollout.js";
import type { SandboxView } from "../ports/sandbox.js";
import type { ValidationReport } from "../ports/validation.js";
import { type CallFormatName, callFormatNamed } from "./call-format.js";
import { type ExitReason, type LoopLimits, type LoopResult, type LoopState, runAgentLoop } from "./loop.js";
import { loadPrompt, PROMPT_VERSION, proposerPrompt, systemPrompt } from "./prompts.js";
import { createBashTool } from "./tools/bash.js";
import { createEditorTool } from "./tools/editor.js";
import {
  type ArtifactFileArgument,
  createProposerSubmitTool,
  createSolverSubmitTool,
} from "./tools/submit.js";
import type { Tool } from "./tools/tool.js";

export interface AgentPolicyOptions {
  model: ModelClientOptions;
  /** A ready client (e.g. shared between policies); built from `model` when absent. */
  client?: ModelClient;
  limits?: Partial<LoopLimits>;
  callFormat?: CallFormatName;
  /** Per-call limit of the bash tool [120 s]. */
  commandTimeoutMs?: number;
  /** Where inside the sandbox the proposer writes its five files [/tmp/artifact]. */
  artifactDir?: string;
  /** Rejected submissions the proposer may fix and resubmit before its episode ends [1]. */
  resubmissions?: number;
  /** A directory that gets one JSONL trajectory file per episode. */
  trajectoryDir?: string;
  /** Version string written into episodes and rollout samples [prompt version]. */
  version?: string;
}

const STATUS_BY_EXIT: Record<ExitReason, EpisodeStatus> = {
  submitted: "completed",
  "max-turns": "truncated",
  "context-overflow": "truncated",
  "wall-time": "truncated",
  "format-errors": "failed",
  aborted: "aborted",
};

export function createAgentPolicy(options: AgentPolicyOptions): Policy {
  const client = options.client ?? createModelClient(options.model);
  const info: PolicyInfo = {
    kind: "openai",
    name: options.model.model,
    version: options.version ?? `agent-prompts-${PROMPT_VERSION}`,
  };
  const callFormat = callFormatNamed(options.callFormat ?? "native");
  const artifactDir = options.artifactDir ?? "/tmp/artifact";

  function episodeOf(
    id: string,
    role: Role,
    startedAt: string,
    state: LoopState,
    exit: { reason: ExitReason | "running"; stats?: Record<string, number> },
    extra: Record<string, unknown> = {},
  ): PolicyEpisode {
    const status: EpisodeStatus = exit.reason === "running" ? "truncated" : STATUS_BY_EXIT[exit.reason];
    return {
      id,
      role,
      policy: info,
      status,
      exitReason: exit.reason,
      trajectory: [
        { kind: "prompt", messages: state.messages.slice(0, 2) },
        ...state.steps,
        ...(Object.keys(extra).length > 0 ? [{ kind: "result", ...extra }] : []),
      ],
      samples: state.rollout.samples({
        episodeId: id,
        groupId: id,
        role,
        policyVersion: info.version,
        sampling: client.sampling,
        status,
        meta: {
          exit_reason: exit.reason,
          call_format: callFormat.name,
          token_source: client.tokenSource,
        },
      }),
      startedAt,
      endedAt: exit.reason === "running" ? null : new Date().toISOString(),
      stats: {
        ...exit.stats,
        prefixMismatches: state.rollout.prefixMismatches,
        turnsWithoutTokens: state.rollout.turnsWithoutTokens,
      },
    };
  }

  async function run(
    role: Role,
    id: string,
    startedAt: string,
    sandbox: SandboxView,
    tools: Tool[],
    prompts: { system: string; user: string },
    request: {
      seed: number;
      abortSignal?: AbortSignal;
      onStep?(episode: PolicyEpisode): void | Promise<void>;
    },
  ): Promise<LoopResult> {
    return runAgentLoop({
      model: client,
      tools,
      callFormat,
      sandbox,
      systemPrompt: prompts.system,
      userPrompt: prompts.user,
      limits: options.limits,
      seed: request.seed,
      abortSignal: request.abortSignal,
      trajectoryFile: options.trajectoryDir ? join(options.trajectoryDir, `${role}-${id}.jsonl`) : undefined,
      onStep: request.onStep
        ? (_step, state) => request.onStep!(episodeOf(id, role, startedAt, state, { reason: "running" }))
        : undefined,
    });
  }

  async function propose(request: ProposeRequest): Promise<ProposeOutcome> {
    const id = randomUUID();
    const startedAt = new Date().toISOString();
    let candidate: { artifact: BugArtifact; report: ValidationReport } | null = null;
    let rejections = 0;
    const submit = createProposerSubmitTool(async (files: Record<ArtifactFileArgument, string>) => {
      const artifact: BugArtifact = {
        testScript: files.test_script,
        testFiles: parseTestFiles(files.test_files),
        testParser: files.test_parser,
        bugInjectDiff: files.bug_inject_diff,
        testWeakenDiff: files.test_weaken_diff,
        meta: {
          environment: request.environmentName,
          strategy: request.strategy,
          order: 1,
          parentId: null,
          policy: `openai:${info.name}`,
          createdAt: new Date().toISOString(),
          seed: request.seed,
        },
      };
      const report = await request.validate(artifact);
      candidate = { artifact, report };
      if (report.verdict === "valid")
        return {
          status: "submitted",
          output: "The artifact passed every consistency check.",
          submission: candidate,
        };
      rejections++;
      const verdict = `The artifact was rejected by the "${report.failedCheck}" check: ${report.reason}`;
      if (rejections > (options.resubmissions ?? 1))
        return { status: "submitted", output: `${verdict}\nNo submissions are left.`, submission: candidate };
      return { status: "ok", output: `${verdict}\nFix the problem and call submit again.` };
    });
    const tools = [createBashTool({ timeoutMs: options.commandTimeoutMs }), createEditorTool(), submit];
    const result = await run(
      "proposer",
      id,
      startedAt,
      request.sandbox,
      tools,
      {
        system: systemPrompt(request.sandbox.workdir),
        user: proposerPrompt({ strategy: request.strategy, thresholds: request.thresholds, artifactDir }),
      },
      request,
    );
    const final = candidate as { artifact: BugArtifact; report: ValidationReport } | null;
    const episode = episodeOf(
      id,
      "proposer",
      startedAt,
      result,
      { reason: result.exitReason, stats: result.stats },
      {
        verdict: final?.report.verdict ?? null,
        failedCheck: final?.report.failedCheck ?? null,
      },
    );
    if (final === null)
      return { status: "failed", reason: `no artifact was submitted (${result.exitReason})`, episode };
    return { status: "submitted", artifact: final.artifact, episode };
  }

  async function solve(request: SolveRequest): Promise<SolveOutcome> {
    const id = randomUUID();
    const startedAt = new Date().toISOString();
    const tools = [
      createBashTool({ timeoutMs: options.commandTimeoutMs }),
      createEditorTool(),
      createSolverSubmitTool(),
    ];
    const result = await run(
      "solver",
      id,
      startedAt,
      request.sandbox,
      tools,
      { system: systemPrompt(request.sandbox.workdir, loadPrompt("solver-system")), user: request.prompt },
      request,
    );
    const submitted = result.submission as { patch: string } | undefined;
    const patch = submitted?.patch ?? (await request.sandbox.diff());
    const episode = episodeOf(
      id,
      "solver",
      startedAt,
      result,
      { reason: result.exitReason, stats: result.stats },
      {
        patchBytes: Buffer.byteLength(patch),
      },
    );
    return { patch, episode };
  }

  const probe = client.probe?.bind(client);
  return { info, propose, solve, ...(probe ? { probe } : {}) };
}
