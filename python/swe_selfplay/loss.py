"""The PPO-clip policy-gradient loss on sampled tokens only (loss mask), and the sampled distribution it is
taken over.

TRL's GRPO loss lives inside its trainer and assumes single-turn completions; a multi-turn sample here is
one token sequence whose mask marks the sampled spans, so the loss is written out, small and tested.

The ratio compares two logprobs of one distribution: the one the tokens were sampled from. A sample records
its `sampling` (temperature, top_k, top_p, min_p); `SampledDistribution` applies them to the trainer's
logits in vLLM's order (temperature, then min-p, then top-k, then top-p), so the trainer's logprobs are of
the processed distribution, like the rollout's when vLLM runs with `--logprobs-mode processed_logprobs`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch

#: Request fields that change the sampled distribution in ways the trainer does not reproduce.
UNREPRODUCIBLE_FIELDS = ("repetition_penalty", "presence_penalty", "frequency_penalty", "logit_bias",
                         "bad_words", "allowed_token_ids")
#: vLLM treats temperatures below this as greedy (and its logprobs as the unscaled ones).
GREEDY_TEMPERATURE = 1e-5


@dataclass(frozen=True)
class SampledDistribution:
    """How the server turned logits into the distribution it sampled from."""

    temperature: float = 1.0
    top_k: int | None = None
    top_p: float = 1.0
    min_p: float = 0.0

    @staticmethod
    def of(sampling: Mapping[str, Any] | None) -> "SampledDistribution":
        """From a sample's recorded `sampling` (wire names); missing fields are the server's defaults."""
        sampling = sampling or {}
        temperature = float(sampling.get("temperature", 1.0))
        top_k = sampling.get("top_k")
        return SampledDistribution(
            temperature=1.0 if temperature < GREEDY_TEMPERATURE else temperature,
            top_k=int(top_k) if isinstance(top_k, int) and top_k > 0 else None,
            top_p=float(sampling.get("top_p", 1.0)) if temperature >= GREEDY_TEMPERATURE else 1.0,
            min_p=float(sampling.get("min_p", 0.0) or 0.0),
        )

    def process(self, logits: torch.Tensor, sampled: torch.Tensor | None = None) -> torch.Tensor:
        """Float32 logits of the sampled distribution, [T, V]; filtered-out tokens are -inf. The filters are
        chosen without gradient, as the server chose them; the kept logits keep theirs. `sampled` ([T]) are
        tokens the server drew, so they were inside its filters: they stay in, whatever rounding (or, after
        an update, the new weights) would say at the filters' edge."""
        logits = logits.float()
        if self.temperature != 1.0:
            logits = logits / self.temperature
        with torch.no_grad():
            removed = torch.zeros_like(logits, dtype=torch.bool)
            if self.min_p > 0:
                probabilities = torch.softmax(logits, dim=-1)
                removed |= probabilities < probabilities.amax(dim=-1, keepdim=True) * self.min_p
            if self.top_k is not None and self.top_k < logits.shape[-1]:
                kth = torch.topk(logits.masked_fill(removed, float("-inf")), self.top_k, dim=-1).values[..., -1:]
                removed |= logits < kth
            if self.top_p < 1.0:
                ordered, order = logits.masked_fill(removed, float("-inf")).sort(dim=-1, descending=False)
                cumulative = torch.cumsum(ordered.softmax(dim=-1), dim=-1)
                drop = cumulative <= 1 - self.top_p
                drop[..., -1] = False
                removed |= torch.zeros_like(drop).scatter(-1, order, drop)
            if sampled is not None:
                removed.scatter_(-1, sampled.unsqueeze(-1), False)
        return logits.masked_fill(removed, float("-inf")) if removed.any() else logits


def unreproducible(sampling: Mapping[str, Any] | None) -> list[str]:
    """The recorded request fields that change the distribution beyond temperature, top-k, top-p, min-p."""
    sampling = sampling or {}
    extra = sampling.get("extra_body") if isinstance(sampling.get("extra_body"), dict) else {}
    found = []
    for name in UNREPRODUCIBLE_FIELDS:
        for source in (sampling, extra):
            value = source.get(name)
            if value not in (None, 0, 0.0, {}, []) and not (name == "repetition_penalty" and value == 1):
                found.append(name)
                break
    return found


def picked_logprobs(
    logits: torch.Tensor, targets: torch.Tensor, distribution: SampledDistribution | None = None
) -> torch.Tensor:
    """log p(targets[i]) under the distribution of row i of `logits` ([N, V] -> [N])."""
    processed = (distribution or SampledDistribution()).process(logits, sampled=targets)
    return torch.log_softmax(processed, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def token_logprobs(
    logits: torch.Tensor, tokens: torch.Tensor, distribution: SampledDistribution | None = None
) -> torch.Tensor:
    """log p(tokens[t] | tokens[<t]) for t >= 1, from logits of shape [T, V]; position 0 gets 0."""
    picked = picked_logprobs(logits[:-1], tokens[1:], distribution)
    return torch.cat([picked.new_zeros(1), picked])


def token_entropies(logits: torch.Tensor, distribution: SampledDistribution | None = None) -> torch.Tensor:
    """The entropy of each row's distribution (as sampled), [N], without gradient."""
    with torch.no_grad():
        logprobs = torch.log_softmax((distribution or SampledDistribution()).process(logits), dim=-1)
        return -(logprobs.exp() * logprobs.nan_to_num(neginf=0.0)).sum(-1)


@dataclass(frozen=True)
class ClipSettings:
    clip_low: float = 0.2
    clip_high: float = 0.2
    #: Dual-clip (Ye et al. 2020): with a negative advantage the loss is at most -c·A, so one token whose
    #: ratio exploded cannot dominate the batch. None switches it off; must exceed 1.
    dual_clip: float | None = 3.0


@dataclass
class LossParts:
    #: Sum over the sample's masked tokens of the clipped surrogate (negated: lower is better).
    loss_sum: torch.Tensor
    tokens: int
    clipped_tokens: int
    #: Sum of (old - new) logprob over masked tokens, an estimate of KL(old || new) times tokens.
    kl_sum: float
    #: Tokens whose loss the dual clip bounded.
    dual_clipped_tokens: int = 0
    ratio_min: float = 1.0
    ratio_max: float = 1.0


def ppo_clip_parts(
    new_logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantage: float,
    loss_mask: torch.Tensor,
    settings: ClipSettings = ClipSettings(),
    weights: torch.Tensor | None = None,
) -> LossParts:
    """The clipped surrogate of one sample: -min(r A, clip(r, 1-e_low, 1+e_high) A) summed over the mask,
    bounded by -c·A for A < 0 (dual clip), each token's term times its importance weight (truncated
    importance sampling against the behaviour policy; no gradient through it)."""
    mask = loss_mask.to(new_logprobs.dtype)
    # where, not a product: an infinite logprob outside the mask must not turn into NaN (inf * 0).
    log_ratio = torch.where(mask > 0, new_logprobs - old_logprobs, torch.zeros_like(new_logprobs))
    ratio = torch.exp(log_ratio)
    unclipped = ratio * advantage
    clipped = torch.clamp(ratio, 1.0 - settings.clip_low, 1.0 + settings.clip_high) * advantage
    surrogate = torch.minimum(unclipped, clipped)
    dual = torch.zeros_like(mask, dtype=torch.bool)
    if settings.dual_clip is not None and advantage < 0:
        bound = torch.full_like(surrogate, settings.dual_clip * advantage)
        dual = (surrogate < bound) & (mask > 0)
        surrogate = torch.maximum(surrogate, bound)
    if weights is not None:
        surrogate = surrogate * weights.detach().to(surrogate.dtype)
    with torch.no_grad():
        was_clipped = ((clipped < unclipped) & (mask > 0)).sum().item()
        kl = float(-log_ratio.sum().item())
        masked = ratio[mask > 0]
    return LossParts(
        loss_sum=-(surrogate * mask).sum(),
        tokens=int(mask.sum().item()),
        clipped_tokens=int(was_clipped),
        kl_sum=kl,
        dual_clipped_tokens=int(dual.sum().item()),
        ratio_min=float(masked.min().item()) if masked.numel() else 1.0,
        ratio_max=float(masked.max().item()) if masked.numel() else 1.0,
    )


def truncated_importance_weights(
    old_logprobs: torch.Tensor, behaviour_logprobs: torch.Tensor, loss_mask: torch.Tensor, cap: float
) -> torch.Tensor:
    """min(π_old / π_behaviour, cap) per token (1 outside the mask): corrects for the rollout engine
    sampling from a slightly different distribution than the trainer's π_old (Yao et al. 2025)."""
    with torch.no_grad():
        ratio = torch.exp((old_logprobs - behaviour_logprobs) * loss_mask.to(old_logprobs.dtype))
        return torch.clamp(ratio, max=cap)
