// Episodes as supervised fine-tuning lines (pure): the stored conversation in the OpenAI chat format with
// native `tool_calls` and `tool_call_id` (what TRL's SFTTrainer, LLaMA-Factory and axolotl read), the tool
// specifications beside it, the filters and the one-line-per-artifact choice. Reading the store and writing
// files live in sft.ts.
import { z } from "zod";
import { InputError } from "../../errors.js";
import type { EpisodeConversation, Role } from "../../ports/policy.js";

/** One episode with what the store knows of its outcome. */
export interface SftEpisode {
  episodeId: string;
  runId: string;
  role: Role;
  /** Only finished episodes are exported (running or aborted ones were never graded). */
  state: "running" | "finished" | "aborted";
  environment: string | null;
  /** The artifact a solver repaired, or the one a proposer made (null when it made none). */
  artifactId: string | null;
  /** The semantic key of that artifact's bug (the same bug written differently has the same key). */
  bugKey: string | null;
  policy: { kind: string; name: string; version: string } | null;
  reward: number | null;
  /** Solver episodes: whether the patch was graded resolved (null for proposers and ungraded attempts). */
  resolved: boolean | null;
  /** Proposer episodes: whether the artifact passed every consistency check (null for solvers). */
  valid: boolean | null;
  /** The stored conversation, unchecked (old episodes and policies without tool calls have none). */
  conversation: unknown;
}

export interface SftFilters {
  roles?: readonly Role[];
  /** Solver episodes graded resolved (implies the solver role unless `valid` is also asked). */
  resolved?: boolean;
  /** Proposer episodes whose artifact is valid (implies the proposer role unless `resolved` is also asked). */
  valid?: boolean;
  minReward?: number;
  environments?: readonly string[];
  /** Each a policy kind, a name or `kind:name`; an episode matches any of them. */
  policies?: readonly string[];
  /** Episodes kept per artifact (the best first), or every episode [1]. */
  perArtifact?: number | "all";
  /** Bugs never to train on (an evaluation set's): episodes on these artifact ids or bug keys are left out. */
  exclude?: { artifactIds: ReadonlySet<string>; bugKeys: ReadonlySet<string> };
}

export type SftMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string; tool_calls?: SftToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

export interface SftToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface SftTool {
  type: "function";
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

export interface SftMeta {
  episode_id: string;
  run_id: string;
  role: Role;
  artifact_id: string | null;
  environment: string | null;
  policy: string;
  policy_version: string | null;
  reward: number | null;
  resolved?: boolean | null;
  valid?: boolean | null;
  call_format: string;
  /** Assistant turns in the line. */
  turns: number;
}

export interface SftLine {
  messages: SftMessage[];
  tools: SftTool[];
  meta: SftMeta;
}

export interface SftSelection {
  lines: SftLine[];
  /** Episodes left out by the filters or the per-artifact choice. */
  filteredOut: number;
  /** Episodes that cannot become a line, counted by reason. */
  skipped: Record<string, number>;
}

const toolCall = z.object({ id: z.string(), name: z.string(), arguments: z.string() });
const conversationSchema = z.object({
  callFormat: z.string(),
  tools: z.array(
    z.object({ name: z.string(), description: z.string(), parameters: z.record(z.string(), z.unknown()) }),
  ),
  toolsOffered: z.boolean(),
  messages: z.array(
    z.discriminatedUnion("role", [
      z.object({ role: z.literal("system"), content: z.string() }),
      z.object({ role: z.literal("user"), content: z.string() }),
      z.object({
        role: z.literal("assistant"),
        content: z.string().nullable(),
        toolCalls: z.array(toolCall).optional(),
      }),
      z.object({ role: z.literal("tool"), toolCallId: z.string(), content: z.string() }),
    ]),
  ),
  calls: z.array(z.array(toolCall)),
});

export const SKIP_NO_TOOL_CALLS = "policy without tool calls (builtin)";
export const SKIP_NO_CONVERSATION = "stored before episodes kept their conversation";
export const SKIP_TEXT_FORMAT = "played in the text call format (tool blocks, not tool calls)";
export const SKIP_NO_REPLY = "no model reply";
export const SKIP_UNFINISHED = "not finished (running or aborted)";

/** Call formats whose calls sit in the reply's text; the export moves them into `tool_calls`. */
const callsInText = (format: string) => format === "hermes" || format === "json";
const HERMES_BLOCK = /<tool_call>[\s\S]*?<\/tool_call>/g;
const JSON_FENCE = /```(?:json)?[ \t]*\n[\s\S]*?```/g;

/** The episodes' lines after the filters and the per-artifact choice, in the episodes' order. */
export function selectSftLines(episodes: readonly SftEpisode[], filters: SftFilters = {}): SftSelection {
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1;
  };
  let filteredOut = 0;
  const candidates: { line: SftLine; order: number }[] = [];
  for (const [order, episode] of episodes.entries()) {
    if (episode.state !== "finished") {
      skip(SKIP_UNFINISHED);
      continue;
    }
    if (!passesFilters(episode, filters)) {
      filteredOut++;
      continue;
    }
    const line = sftLine(episode);
    if (typeof line === "string") skip(line);
    else candidates.push({ line, order });
  }
  const chosen = choosePerArtifact(candidates, filters.perArtifact ?? 1);
  filteredOut += candidates.length - chosen.length;
  return { lines: chosen.map((candidate) => candidate.line), filteredOut, skipped };
}

/** Whether the episode's bug is one the filters exclude (by artifact id or by the bug's semantic key). */
export function excludedBug(
  episode: Pick<SftEpisode, "artifactId" | "bugKey">,
  filters: SftFilters,
): boolean {
  const exclude = filters.exclude;
  if (!exclude) return false;
  if (episode.artifactId !== null && exclude.artifactIds.has(episode.artifactId)) return true;
  return episode.bugKey !== null && exclude.bugKeys.has(episode.bugKey);
}

function passesFilters(episode: SftEpisode, filters: SftFilters): boolean {
  if (excludedBug(episode, filters)) return false;
  const roles: Role[] = [];
  if (filters.resolved) roles.push("solver");
  if (filters.valid) roles.push("proposer");
  if (roles.length > 0 && !roles.includes(episode.role)) return false;
  if (filters.roles && filters.roles.length > 0 && !filters.roles.includes(episode.role)) return false;
  if (filters.resolved && episode.role === "solver" && episode.resolved !== true) return false;
  if (filters.valid && episode.role === "proposer" && episode.valid !== true) return false;
  if (filters.minReward !== undefined && (episode.reward === null || episode.reward < filters.minReward))
    return false;
  if (filters.environments && filters.environments.length > 0)
    if (episode.environment === null || !filters.environments.includes(episode.environment)) return false;
  if (filters.policies && filters.policies.length > 0) {
    const policy = episode.policy;
    const names = policy ? [policy.kind, policy.name, `${policy.kind}:${policy.name}`] : [];
    if (!filters.policies.some((wanted) => names.includes(wanted))) return false;
  }
  return true;
}

/**
 * Keeps `perArtifact` lines per (role, artifact): the highest reward first, then the fewest turns, then the
 * episode id, so the same store always gives the same lines. Lines without an artifact each stand alone.
 */
function choosePerArtifact<Candidate extends { line: SftLine; order: number }>(
  candidates: Candidate[],
  perArtifact: number | "all",
): Candidate[] {
  if (perArtifact === "all") return candidates;
  const groups = new Map<string, Candidate[]>();
  for (const candidate of candidates) {
    const { meta } = candidate.line;
    const key = meta.artifact_id === null ? `episode:${meta.episode_id}` : `${meta.role}:${meta.artifact_id}`;
    groups.set(key, [...(groups.get(key) ?? []), candidate]);
  }
  const kept = [...groups.values()].flatMap((group) =>
    group.sort((a, b) => compareForChoice(a.line.meta, b.line.meta)).slice(0, perArtifact),
  );
  return kept.sort((a, b) => a.order - b.order);
}

function compareForChoice(a: SftMeta, b: SftMeta): number {
  const rewardA = a.reward ?? Number.NEGATIVE_INFINITY;
  const rewardB = b.reward ?? Number.NEGATIVE_INFINITY;
  if (rewardA !== rewardB) return rewardB - rewardA;
  if (a.turns !== b.turns) return a.turns - b.turns;
  return a.episode_id < b.episode_id ? -1 : a.episode_id > b.episode_id ? 1 : 0;
}

/**
 * One episode as an SFT line, or the reason it cannot be one. A stored conversation that is malformed or
 * whose tool results do not pair with the calls before them is an error naming the episode.
 */
export function sftLine(episode: SftEpisode): SftLine | string {
  if (episode.conversation === null || episode.conversation === undefined)
    return episode.policy?.kind === "builtin" ? SKIP_NO_TOOL_CALLS : SKIP_NO_CONVERSATION;
  const parsed = conversationSchema.safeParse(episode.conversation);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      "bad-conversation",
      `episode ${episode.episodeId}: stored conversation is malformed at ${issue?.path.join(".") || "its root"}: ${issue?.message ?? "unreadable"}`,
    );
  }
  const conversation = parsed.data as EpisodeConversation;
  if (conversation.callFormat === "text") return SKIP_TEXT_FORMAT;
  const messages = nativeMessages(episode.episodeId, conversation);
  const turns = messages.filter((message) => message.role === "assistant").length;
  if (turns === 0) return SKIP_NO_REPLY;
  const policy = episode.policy;
  return {
    messages,
    tools: conversation.tools.map((tool) => ({ type: "function", function: tool })),
    meta: {
      episode_id: episode.episodeId,
      run_id: episode.runId,
      role: episode.role,
      artifact_id: episode.artifactId,
      environment: episode.environment,
      policy: policy ? `${policy.kind}:${policy.name}` : "unknown",
      policy_version: policy?.version ?? null,
      reward: episode.reward,
      ...(episode.role === "solver" ? { resolved: episode.resolved } : { valid: episode.valid }),
      call_format: conversation.callFormat,
      turns,
    },
  };
}

/**
 * The conversation with every call as a native tool call, up to the last assistant message (observations
 * nobody replied to teach nothing). Calls made in the text (hermes, json) leave the content and become
 * `tool_calls` with the ids their tool results already carry.
 */
function nativeMessages(episodeId: string, conversation: EpisodeConversation): SftMessage[] {
  const inText = callsInText(conversation.callFormat);
  const messages: SftMessage[] = [];
  let assistantTurn = -1;
  let openCalls = new Set<string>();
  for (const [index, message] of conversation.messages.entries()) {
    if (message.role === "system" || message.role === "user") {
      messages.push({ role: message.role, content: message.content });
      continue;
    }
    if (message.role === "tool") {
      if (!openCalls.delete(message.toolCallId))
        throw new InputError(
          "bad-conversation",
          `episode ${episodeId}: message ${index} answers tool call "${message.toolCallId}", which no assistant message before it made (or another message answered)`,
        );
      messages.push({ role: "tool", tool_call_id: message.toolCallId, content: message.content });
      continue;
    }
    assistantTurn++;
    const calls = inText ? (conversation.calls[assistantTurn] ?? []) : (message.toolCalls ?? []);
    const content = inText && calls.length > 0 ? withoutCallText(message.content ?? "") : message.content;
    openCalls = new Set(calls.map((call) => call.id));
    messages.push({
      role: "assistant",
      content: content ?? "",
      ...(calls.length > 0
        ? {
            tool_calls: calls.map((call) => ({
              id: call.id,
              type: "function" as const,
              function: { name: call.name, arguments: call.arguments },
            })),
          }
        : {}),
    });
  }
  let end = messages.length;
  while (end > 0 && messages[end - 1]!.role !== "assistant") end--;
  return messages.slice(0, end);
}

/** A reply's text without its call blocks (hermes blocks, or the json format's fenced or bare objects). */
function withoutCallText(content: string): string {
  if (content.includes("<tool_call>")) return content.replace(HERMES_BLOCK, "").trim();
  const fenced = content.replace(JSON_FENCE, "");
  if (fenced !== content) return fenced.trim();
  const whole = content.trim();
  return whole.startsWith("{") && whole.endsWith("}") ? "" : whole;
}
