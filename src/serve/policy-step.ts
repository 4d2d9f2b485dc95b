// Marks every sample a policy's episodes leave with the trainer's policy step, so a trainer can tell
// how stale a sample is without the request that asked for it.
import type { Policy, PolicyEpisode } from "../ports/policy.js";

export function withPolicyStep(policy: Policy, policyStep: number | undefined): Policy {
  if (policyStep === undefined) return policy;
  const mark = (episode: PolicyEpisode): PolicyEpisode => ({
    ...episode,
    samples: episode.samples.map((sample) => ({
      ...sample,
      meta: { ...sample.meta, policy_step: policyStep },
    })),
  });
  return {
    info: policy.info,
    ...(policy.probe ? { probe: policy.probe.bind(policy) } : {}),
    propose: async (request) => {
      const outcome = await policy.propose(request);
      return { ...outcome, episode: mark(outcome.episode) };
    },
    solve: async (request) => {
      const outcome = await policy.solve(request);
      return { ...outcome, episode: mark(outcome.episode) };
    },
  };
}
