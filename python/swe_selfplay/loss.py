"""The PPO-clip policy-gradient loss on sampled tokens only (loss mask), against the rollout logprobs.

TRL's GRPO loss lives inside its trainer and assumes single-turn completions; a multi-turn sample here is
one token sequence whose mask marks the sampled spans, so the loss is written out, small and tested."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ClipSettings:
    clip_low: float = 0.2
    clip_high: float = 0.2


@dataclass
class LossParts:
    #: Sum over the sample's masked tokens of the clipped surrogate (negated: lower is better).
    loss_sum: torch.Tensor
    tokens: int
    clipped_tokens: int
    #: Sum of (old - new) logprob over masked tokens, an estimate of KL(old || new) times tokens.
    kl_sum: float


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """log p(tokens[t] | tokens[<t]) for t >= 1, from logits of shape [T, V]; position 0 gets 0."""
    logprobs = torch.log_softmax(logits[:-1].float(), dim=-1)
    picked = logprobs.gather(-1, tokens[1:].unsqueeze(-1)).squeeze(-1)
    return torch.cat([picked.new_zeros(1), picked])


def ppo_clip_parts(
    new_logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantage: float,
    loss_mask: torch.Tensor,
    settings: ClipSettings = ClipSettings(),
) -> LossParts:
    """The clipped surrogate of one sample: -min(r A, clip(r, 1-e_low, 1+e_high) A) summed over the mask."""
    mask = loss_mask.to(new_logprobs.dtype)
    log_ratio = (new_logprobs - old_logprobs) * mask
    ratio = torch.exp(log_ratio)
    unclipped = ratio * advantage
    clipped = torch.clamp(ratio, 1.0 - settings.clip_low, 1.0 + settings.clip_high) * advantage
    surrogate = torch.minimum(unclipped, clipped)
    with torch.no_grad():
        was_clipped = ((clipped < unclipped) & (mask > 0)).sum().item()
        kl = float(((old_logprobs - new_logprobs) * mask).sum().item())
    return LossParts(
        loss_sum=-(surrogate * mask).sum(),
        tokens=int(mask.sum().item()),
        clipped_tokens=int(was_clipped),
        kl_sum=kl,
    )
