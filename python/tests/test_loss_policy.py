import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from swe_selfplay.loss import ClipSettings, ppo_clip_parts, token_logprobs  # noqa: E402


def test_token_logprobs_pick_each_next_token():
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [1 / 3, 1 / 3, 1 / 3]]))
    values = token_logprobs(logits, torch.tensor([2, 1, 0]))
    assert values.tolist() == pytest.approx([0.0, math.log(0.25), math.log(0.1)], abs=1e-6)


def test_at_ratio_one_the_loss_is_minus_advantage_per_token_and_nothing_is_clipped():
    old = torch.tensor([0.0, -1.0, -2.0, 0.0])
    new = old.clone().requires_grad_(True)
    mask = torch.tensor([0, 1, 1, 0])
    parts = ppo_clip_parts(new, old, 2.0, mask)
    assert parts.loss_sum.item() == pytest.approx(-4.0)
    assert (parts.tokens, parts.clipped_tokens) == (2, 0)
    parts.loss_sum.backward()
    # d(-r A)/d logp = -A r on masked tokens, 0 elsewhere
    assert new.grad.tolist() == pytest.approx([0.0, -2.0, -2.0, 0.0])


def test_ratios_beyond_the_clip_range_stop_the_gradient_in_the_advantages_direction():
    old = torch.tensor([-1.0, -1.0])
    new = torch.tensor([-1.0 + math.log(1.5), -1.0 + math.log(0.5)], requires_grad=True)
    mask = torch.tensor([1, 1])
    positive = ppo_clip_parts(new, old, 1.0, mask, ClipSettings(0.2, 0.2))
    positive.loss_sum.backward()
    # token 0: ratio 1.5 > 1.2 with A > 0 -> clipped, no gradient; token 1: ratio 0.5 -> unclipped min
    assert positive.clipped_tokens == 1
    assert new.grad.tolist() == pytest.approx([0.0, -0.5])
    assert positive.loss_sum.item() == pytest.approx(-(1.2 + 0.5))


def tiny_model(tmp_path):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)
    Qwen2ForCausalLM(config).save_pretrained(str(tmp_path / "model"))
    return str(tmp_path / "model")


def test_the_lora_policy_learns_saves_and_resumes(tmp_path):
    from swe_selfplay.policy import LoraPolicy, PolicySettings

    settings = PolicySettings(model_dir=tiny_model(tmp_path), learning_rate=0.05)
    policy = LoraPolicy(settings)
    tokens = [1, 5, 9, 13, 17, 21, 25]
    full = policy.logprobs(tokens, start=1, grad=False)
    tail = policy.logprobs(tokens, start=4, grad=False)
    assert tail[:4].tolist() == [0.0] * 4
    assert tail[4:].tolist() == pytest.approx(full[4:].tolist(), abs=1e-5)
    mask = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    old = (full * mask).detach()
    for _ in range(3):
        policy.optimizer.zero_grad()
        new = policy.logprobs(tokens, start=4)
        ppo_clip_parts(new, old, 1.0, mask, ClipSettings(10.0, 10.0)).loss_sum.backward()
        policy.optimizer.step()
    after = policy.logprobs(tokens, start=4, grad=False)
    assert (after[4:] - full[4:]).sum().item() > 0.01, "a positive advantage raises the sampled tokens' logprobs"
    saved = policy.save(tmp_path / "adapters" / "policy-v1", {"step": 1})
    assert (saved / "adapter_model.safetensors").is_file() and (saved / "optimizer.pt").is_file()
    assert not (tmp_path / "adapters" / "policy-v1.partial").exists()
    resumed = LoraPolicy(settings, adapter_dir=saved)
    assert resumed.logprobs(tokens, start=4, grad=False).tolist() == pytest.approx(after.tolist(), abs=1e-5)
    assert resumed.optimizer.state_dict()["state"], "the optimizer's moments come back too"


def test_the_sampled_distribution_applies_temperature_then_min_p_top_k_and_top_p_like_vllm():
    from swe_selfplay.loss import SampledDistribution

    logits = torch.tensor([[2.0, 1.0, 0.5, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0, 3.0]])
    tokens = torch.tensor([9, 1, 4])  # position 0 is never scored
    hot = token_logprobs(logits.repeat(1, 1)[[0, 1, 1]], tokens, SampledDistribution(temperature=0.5))
    assert hot[1].item() == pytest.approx(torch.log_softmax(logits[0] / 0.5, -1)[1].item(), abs=1e-6)
    # top-k 2 at temperature 0.7: only the two largest logits share the mass
    kept = SampledDistribution(temperature=0.7, top_k=2).process(logits[:1])
    assert torch.isinf(kept[0, 2:]).all()
    assert torch.log_softmax(kept, -1)[0, 1].item() == pytest.approx(
        math.log(math.exp(1 / 0.7) / (math.exp(2 / 0.7) + math.exp(1 / 0.7))), abs=1e-6)
    # top-p 0.6: the smallest tokens whose cumulative mass stays within 1 - p are removed (vLLM's rule)
    probabilities = torch.softmax(logits[0], -1).tolist()
    nucleus = SampledDistribution(top_p=0.6).process(logits[:1])[0]
    assert [not torch.isinf(value).item() for value in nucleus] == [True, True, False, False, False]
    assert probabilities[0] < 0.6 < probabilities[0] + probabilities[1]
    # min-p 0.2: tokens below a fifth of the top probability are removed
    floor = SampledDistribution(min_p=0.2).process(logits[:1])[0]
    top = max(probabilities)
    assert [not torch.isinf(value).item() for value in floor] == [p >= 0.2 * top for p in probabilities]


def test_the_recorded_sampling_decides_the_distribution_and_greedy_means_unscaled():
    from swe_selfplay.loss import SampledDistribution, unreproducible

    assert SampledDistribution.of({"temperature": 0.7, "top_p": 0.95, "top_k": -1}) == SampledDistribution(
        temperature=0.7, top_p=0.95)
    assert SampledDistribution.of({"temperature": 0, "top_p": 0.5}) == SampledDistribution()
    assert SampledDistribution.of({}) == SampledDistribution()
    assert unreproducible({"temperature": 0.7, "extra_body": {"repetition_penalty": 1.05}}) == ["repetition_penalty"]
    assert unreproducible({"extra_body": {"repetition_penalty": 1, "chat_template_kwargs": {}}}) == []


def test_the_dual_clip_bounds_the_loss_of_a_negative_advantage_with_an_exploded_ratio():
    old = torch.tensor([-3.0, -1.0])
    new = torch.tensor([-3.0 + math.log(10.0), -1.0], requires_grad=True)
    mask = torch.tensor([1, 1])
    parts = ppo_clip_parts(new, old, -1.0, mask, ClipSettings(0.2, 0.2, dual_clip=3.0))
    # token 0: -min(r A, clip(r) A) = 10 is bounded at -c A = 3, with no gradient; token 1: ratio 1 -> 1
    assert parts.loss_sum.item() == pytest.approx(3.0 + 1.0)
    assert parts.dual_clipped_tokens == 1
    assert (parts.ratio_min, parts.ratio_max) == pytest.approx((1.0, 10.0))
    parts.loss_sum.backward()
    assert new.grad.tolist() == pytest.approx([0.0, 1.0])
    unbounded = ppo_clip_parts(new.detach(), old, -1.0, mask, ClipSettings(0.2, 0.2, dual_clip=None))
    assert unbounded.loss_sum.item() == pytest.approx(10.0 + 1.0)


def test_truncated_importance_weights_are_capped_and_one_outside_the_mask():
    from swe_selfplay.loss import truncated_importance_weights

    old = torch.tensor([0.0, -1.0, -1.0, -2.0])
    behaviour = torch.tensor([0.0, -2.0, -1.0 + math.log(2.0), -1.0])
    weights = truncated_importance_weights(old, behaviour, torch.tensor([0, 1, 1, 1]), cap=2.0)
    assert weights.tolist() == pytest.approx([1.0, 2.0, 0.5, math.exp(-1.0)])
    new = old.clone().requires_grad_(True)
    parts = ppo_clip_parts(new, old, 1.0, torch.tensor([0, 1, 1, 1]), weights=weights)
    parts.loss_sum.backward()
    assert new.grad.tolist() == pytest.approx([0.0, -2.0, -0.5, -math.exp(-1.0)])


def test_the_policy_computes_logprobs_without_dropout(tmp_path):
    from swe_selfplay.policy import LoraPolicy, LoraSettings, PolicySettings

    policy = LoraPolicy(PolicySettings(model_dir=tiny_model(tmp_path), lora=LoraSettings(dropout=0.5)))
    # LoRA's B starts at zero; give it weights so that dropout on its input would show.
    with torch.no_grad():
        for name, parameter in policy.model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 1.0)
    tokens = [1, 5, 9, 13, 17, 21, 25]
    first = policy.logprobs(tokens, start=2, grad=True)
    second = policy.logprobs(tokens, start=2, grad=True)
    assert first.tolist() == second.tolist()


def test_the_policy_scores_tokens_under_the_sampled_temperature(tmp_path):
    from swe_selfplay.loss import SampledDistribution
    from swe_selfplay.policy import LoraPolicy, PolicySettings

    policy = LoraPolicy(PolicySettings(model_dir=tiny_model(tmp_path)))
    tokens = [1, 5, 9, 13, 17]
    ids = torch.tensor([tokens])
    with torch.no_grad():
        logits = policy.model(input_ids=ids).logits[0]
    expected = torch.log_softmax(logits[:-1] / 0.7, -1).gather(-1, ids[0, 1:].unsqueeze(-1)).squeeze(-1)
    values, entropies = policy.logprobs_and_entropies(tokens, start=2, grad=False,
                                                      distribution=SampledDistribution(temperature=0.7),
                                                      entropies=True)
    assert values[2:].tolist() == pytest.approx(expected[1:].tolist(), abs=1e-5)
    assert entropies is not None and entropies[:2].tolist() == [0.0, 0.0] and (entropies[2:] > 0).all()


def test_the_policy_scores_only_the_masked_positions_when_given_a_mask(tmp_path):
    from swe_selfplay.loss import SampledDistribution
    from swe_selfplay.policy import LoraPolicy, PolicySettings

    policy = LoraPolicy(PolicySettings(model_dir=tiny_model(tmp_path)))
    tokens = [1, 5, 9, 13, 17, 21]
    mask = [0, 0, 1, 0, 1, 1]
    nucleus = SampledDistribution(temperature=0.7, top_p=0.9)
    full = policy.logprobs(tokens, start=2, grad=False, distribution=nucleus)
    masked = policy.logprobs(tokens, start=2, grad=True, distribution=nucleus, mask=mask)
    assert masked.tolist() == pytest.approx([full[i].item() if flag else 0.0 for i, flag in enumerate(mask)],
                                            abs=1e-6)
    masked.sum().backward()
    assert any(parameter.grad is not None and parameter.grad.abs().sum() > 0 for parameter in policy.parameters)


def test_a_sampled_token_stays_inside_the_filters_even_where_they_would_drop_it():
    from swe_selfplay.loss import SampledDistribution, picked_logprobs

    logits = torch.tensor([[2.0, 1.0, 0.5, 0.0, -1.0]])
    nucleus = SampledDistribution(top_p=0.6)  # keeps tokens 0 and 1 only
    assert torch.isinf(nucleus.process(logits)[0, 3])
    value = picked_logprobs(logits, torch.tensor([3]), nucleus)
    kept = torch.tensor([2.0, 1.0, 0.0])
    assert value.item() == pytest.approx((0.0 - torch.logsumexp(kept, 0)).item(), abs=1e-6)


def test_an_infinite_logprob_outside_the_mask_leaves_the_loss_finite():
    new = torch.tensor([float("-inf"), -1.0], requires_grad=True)
    parts = ppo_clip_parts(new, torch.tensor([0.0, -1.0]), 1.0, torch.tensor([0, 1]))
    assert parts.loss_sum.item() == pytest.approx(-1.0) and math.isfinite(parts.kl_sum)
    parts.loss_sum.backward()
    assert new.grad.tolist() == [0.0, -1.0]
