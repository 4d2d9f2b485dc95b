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
