// The trainer contract (DESIGN §8): one record per trainable sample.

export type EpisodeStatus = "completed" | "truncated" | "aborted" | "failed";

/** The sampling fields of every request, exactly as sent (wire names). */
export interface SamplingSettings {
  model: string;
  temperature: number;
  top_p: number;
  max_tokens?: number;
  top_k?: number;
  min_p?: number;
  /** Extra request-body fields sent with every call (e.g. `chat_template_kwargs`, `repetition_penalty`). */
  extra_body?: Record<string, unknown>;
  /** Present (false) only when requests were sent without their per-request seeds. */
  seeds?: false;
}

export interface RolloutSample {
  schema: "rollout.v1";
  sample_id: string;
  /** Samples whose rewards are compared with each other (a solver group, a proposer step). */
  group_id: string;
  episode_id: string;
  role: "proposer" | "solver";
  policy_version: string;
  sampling: SamplingSettings;
  /** Prompt tokens followed by every sampled and observed token, exactly as the server saw them. */
  tokens: number[];
  prompt_len: number;
  /** 1 for tokens the policy sampled, 0 for prompt and tool-observation tokens. */
  loss_mask: number[];
  /** Logprob of each sampled token; 0 where loss_mask is 0. */
  logprobs: number[];
  /** Filled in once the episode's reward is known; null until then. */
  reward: number | null;
  status: EpisodeStatus;
  meta: Record<string, unknown>;
}
