// The model-driven policy (kind "openai"): runs the agent loop as proposer or solver and turns its result
// into a PolicyEpisode with rollout.v1 samples. With a demonstrator instead of a model (kind "builtin-demo"),
// each episode's replies come from a plan made before it starts, and the same loop and tools execute them.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { parseTestFiles } from "../artifact/index.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { DemonstrationPlan, Demonstrator } from "../ports/demonstrator.js";
import type { ModelClient, ToolSpecification } from "../ports/model.js";
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
import { type CallFormat, type CallFormatName, callFormatNamed } from "./call-format.js";
import {
  type ExitReason,
  type LoopLimits,
  type LoopResult,
  type LoopState,
  type LoopStats,
  runAgentLoop,
} from "./loop.js";
import { loadPrompt, PROMPT_VERSION, proposerPrompt, systemPrompt } from "./prompts.js";
import { createBashTool } from "./tools/bash.js";
import { createEditorTool } from "./tools/editor.js";
import {
  type ArtifactFileArgument,
  createProposerSubmitTool,
  createSolverSubmitTool,
} from "./tools/submit.js";
import type { Tool } from "./tools/tool.js";

/** Where the replies come from: a model client, or a demonstrator that plans each episode's replies. */
export type ReplySource =
  | { client: ModelClient; demonstrator?: undefined }
  | { demonstrator: Demonstrator; client?: undefined };

export type AgentPolicyOptions = ReplySource & AgentSettings;

interface AgentSettings {
  /** Name of the model the client samples from (or of the demonstrator): the policy's name. */
  modelName: string;
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

/** What every episode of one policy shares. */
interface AgentSetup {
  options: AgentPolicyOptions;
  info: PolicyInfo;
  callFormat: CallFormat;
}

/** One episode's identity: who plays it (the client its replies come from), with which tools, and since when. */
interface EpisodeIdentity {
  id: string;
  role: Role;
  tools: ToolSpecification[];
  startedAt: string;
  client: ModelClient;
  /** What a demonstrator's plan rests on; absent for a model. */
  demonstration?: Record<string, unknown>;
}

interface EpisodeRequest {
  sandbox: SandboxView;
  seed: number;
  abortSignal?: AbortSignal;
  onStep?(episode: PolicyEpisode): void | Promise<void>;
}

type ProposerCandidate = { artifact: BugArtifact; report: ValidationReport };

export function createAgentPolicy(options: AgentPolicyOptions): Policy {
  const setup: AgentSetup = {
    options,
    info: {
      kind: options.demonstrator ? "builtin-demo" : "openai",
      name: options.modelName,
      version: options.version ?? `agent-prompts-${PROMPT_VERSION}`,
    },
    callFormat: callFormatNamed(options.callFormat ?? "native"),
  };
  const probe = options.client?.probe?.bind(options.client);
  return {
    info: setup.info,
    propose: (request) => propose(setup, request),
    solve: (request) => solve(setup, request),
    ...(probe ? { probe } : {}),
  };
}

async function propose(setup: AgentSetup, request: ProposeRequest): Promise<ProposeOutcome> {
  const artifactDir = setup.options.artifactDir ?? "/tmp/artifact";
  const plan: Partial<DemonstrationPlan> & { client: ModelClient } = setup.options.demonstrator
    ? await setup.options.demonstrator.proposer(request, artifactDir)
    : { client: setup.options.client };
  let candidate: ProposerCandidate | null = null;
  const submit = proposerSubmitTool(setup, request, (submitted) => {
    candidate = submitted;
  });
  const tools = [createBashTool({ timeoutMs: setup.options.commandTimeoutMs }), createEditorTool(), submit];
  const identity = newEpisode("proposer", plan, tools);
  if (plan.failure) return { status: "failed", ...plan.failure, episode: unplayed(setup, identity) };
  const result = await runEpisode(setup, identity, tools, request, {
    system: systemPrompt(request.sandbox.workdir),
    user: proposerPrompt({ strategy: request.strategy, thresholds: request.thresholds, artifactDir }),
  });
  const final = candidate as ProposerCandidate | null;
  const episode = episodeOf(setup, identity, result, result, {
    verdict: final?.report.verdict ?? null,
    failedCheck: final?.report.failedCheck ?? null,
  });
  if (final === null)
    return { status: "failed", reason: `no artifact was submitted (${result.exitReason})`, episode };
  return { status: "submitted", artifact: final.artifact, episode };
}

/** The proposer's submit tool: validates the five files, lets a rejected artifact be fixed `resubmissions` times. */
function proposerSubmitTool(
  setup: AgentSetup,
  request: ProposeRequest,
  onCandidate: (candidate: ProposerCandidate) => void,
): Tool {
  let rejections = 0;
  return createProposerSubmitTool(async (files: Record<ArtifactFileArgument, string>) => {
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
        policy: `${setup.info.kind}:${setup.info.name}`,
        createdAt: new Date().toISOString(),
        seed: request.seed,
      },
    };
    const report = await request.validate(artifact);
    const candidate = { artifact, report };
    onCandidate(candidate);
    if (report.verdict === "valid")
      return {
        status: "submitted",
        output: "The artifact passed every consistency check.",
        submission: candidate,
      };
    rejections++;
    const verdict = `The artifact was rejected by the "${report.failedCheck}" check: ${report.reason}`;
    if (rejections > (setup.options.resubmissions ?? 1))
      return { status: "submitted", output: `${verdict}\nNo submissions are left.`, submission: candidate };
    return { status: "ok", output: `${verdict}\nFix the problem and call submit again.` };
  });
}

async function solve(setup: AgentSetup, request: SolveRequest): Promise<SolveOutcome> {
  const plan = setup.options.demonstrator
    ? await setup.options.demonstrator.solver(request)
    : { client: setup.options.client };
  const tools = [
    createBashTool({ timeoutMs: setup.options.commandTimeoutMs }),
    createEditorTool(),
    createSolverSubmitTool(),
  ];
  const identity = newEpisode("solver", plan, tools);
  const result = await runEpisode(setup, identity, tools, request, {
    system: systemPrompt(request.sandbox.workdir, loadPrompt("solver-system")),
    user: request.prompt,
  });
  const submitted = result.submission as { patch: string } | undefined;
  const patch = submitted?.patch ?? (await request.sandbox.diff());
  const episode = episodeOf(setup, identity, result, result, { patchBytes: Buffer.byteLength(patch) });
  return { patch, episode };
}

/** The episode of a plan with nothing to play: no turn, the plan's summary as its result. */
function unplayed(setup: AgentSetup, identity: EpisodeIdentity): PolicyEpisode {
  const now = new Date().toISOString();
  return {
    id: identity.id,
    role: identity.role,
    policy: setup.info,
    status: "failed",
    exitReason: "no-plan",
    trajectory: [{ kind: "result", demonstration: identity.demonstration ?? {} }],
    samples: [],
    startedAt: identity.startedAt,
    endedAt: now,
    stats: {},
  };
}

function newEpisode(
  role: Role,
  plan: Partial<DemonstrationPlan> & { client: ModelClient },
  tools: readonly Tool[],
): EpisodeIdentity {
  return {
    id: randomUUID(),
    role,
    tools: tools.map((tool) => tool.specification),
    startedAt: new Date().toISOString(),
    client: plan.client,
    ...(plan.summary ? { demonstration: plan.summary } : {}),
  };
}

function runEpisode(
  setup: AgentSetup,
  identity: EpisodeIdentity,
  tools: Tool[],
  request: EpisodeRequest,
  prompts: { system: string; user: string },
): Promise<LoopResult> {
  const { options } = setup;
  const onStep = request.onStep;
  return runAgentLoop({
    model: identity.client,
    tools,
    callFormat: setup.callFormat,
    sandbox: request.sandbox,
    systemPrompt: prompts.system,
    userPrompt: prompts.user,
    limits: options.limits,
    seed: request.seed,
    abortSignal: request.abortSignal,
    trajectoryFile: options.trajectoryDir
      ? join(options.trajectoryDir, `${identity.role}-${identity.id}.jsonl`)
      : undefined,
    onStep: onStep
      ? (_step, state) => onStep(episodeOf(setup, identity, state, { exitReason: "running" }))
      : undefined,
  });
}

/** The episode as the port records it: trajectory, rollout samples and stats, so far or at its end. */
function episodeOf(
  setup: AgentSetup,
  identity: EpisodeIdentity,
  state: LoopState,
  exit: { exitReason: ExitReason | "running"; stats?: LoopStats },
  extra: Record<string, unknown> = {},
): PolicyEpisode {
  const { info, callFormat } = setup;
  const { client } = identity;
  const reason = exit.exitReason;
  const result = identity.demonstration ? { demonstration: identity.demonstration, ...extra } : extra;
  const status: EpisodeStatus = reason === "running" ? "truncated" : STATUS_BY_EXIT[reason];
  return {
    id: identity.id,
    role: identity.role,
    policy: info,
    status,
    exitReason: reason,
    trajectory: [
      { kind: "prompt", messages: state.messages.slice(0, 2) },
      ...state.steps,
      ...(Object.keys(result).length > 0 ? [{ kind: "result", ...result }] : []),
    ],
    // Copies: the loop keeps appending to its own lists while a saved episode is being written.
    conversation: {
      callFormat: callFormat.name,
      tools: identity.tools,
      toolsOffered: callFormat.offeredTools(identity.tools) !== undefined,
      messages: [...state.messages],
      calls: state.steps.map((step) => step.toolCalls),
    },
    samples: state.rollout.samples({
      episodeId: identity.id,
      groupId: identity.id,
      role: identity.role,
      policyVersion: info.version,
      sampling: client.sampling,
      status,
      meta: {
        exit_reason: reason,
        call_format: callFormat.name,
        token_source: client.tokenSource,
        // The episode's model turns and the ones whose tool call did not parse: a trainer's call-validity rate.
        ...(exit.stats ? { episode_turns: exit.stats.turns, format_errors: exit.stats.formatErrors } : {}),
      },
    }),
    startedAt: identity.startedAt,
    endedAt: reason === "running" ? null : new Date().toISOString(),
    stats: {
      ...exit.stats,
      prefixMismatches: state.rollout.prefixMismatches,
      turnsWithoutTokens: state.rollout.turnsWithoutTokens,
    },
  };
}
