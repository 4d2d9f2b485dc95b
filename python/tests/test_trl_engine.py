"""The TRL adapter inside TRL's own GRPOTrainer (TRL from PyPI, on CPU): one GRPO step on the smallest
prepared real model (Qwen2.5-Coder-0.5B, a rank-4 LoRA), whose completions are a self-play step's samples
from the service (a stand-in here: factories.StandInService) with their token ids and logprobs as played,
scored with the SSR rewards."""

import pytest
from factories import StandInService, record

trl = pytest.importorskip("trl")


def model_dir():
    from test_adapters import tokenizer_dir

    return tokenizer_dir()


def test_trl_trains_a_grpo_step_on_a_self_play_steps_samples_and_rewards(tmp_path):
    if model_dir() is None:
        pytest.skip("no prepared model (scripts/prepare-vllm.sh)")
    import torch
    from datasets import Dataset
    from peft import LoraConfig

    from swe_selfplay.adapters.trl import SsrRollout, ssr_solver_reward

    def samples(body, step):
        proposer = record(f"{step}p-s0", role="proposer", group_id=f"{step}-proposer", reward=0.3, prompt=4, sampled=3)
        # Different completions: identical ones with opposite advantages would cancel out exactly.
        solvers = [record(f"{step}s{i}-s0", group_id=f"{step}-solvers", reward=reward, prompt=5, sampled=4 + 2 * i)
                   for i, reward in enumerate([1.0, -1.0])]
        return [proposer, *solvers]

    service = StandInService(samples_for=samples)
    try:
        rollout = SsrRollout(services=[service.url], group_size=2,
                             inference={"kind": "vllm", "base_url": "http://127.0.0.1:8000/v1", "model": "policy"})
        args = trl.GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=3, num_generations=3,
                              max_steps=1, max_completion_length=8, learning_rate=1e-2, logging_steps=1,
                              report_to=[], use_cpu=True, bf16=False, save_strategy="no", seed=1)
        trainer = trl.GRPOTrainer(model=model_dir(), reward_funcs=ssr_solver_reward, rollout_func=rollout, args=args,
                                  train_dataset=Dataset.from_list([{"prompt": "play one self-play step"}] * 3),
                                  peft_config=LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
        lora = {name: param.detach().clone() for name, param in trainer.model.named_parameters() if "lora_B" in name}
        trainer.train()
    finally:
        service.close()
    assert trainer.state.global_step == 1
    assert len(service.posts) == 1 and service.posts[0]["policy_step"] == 0
    assert service.acked == ["step-1"]
    changed = [name for name, param in trainer.model.named_parameters()
               if "lora_B" in name and not torch.equal(param.detach(), lora[name])]
    assert changed, "the GRPO step left the LoRA weights as they were"
    logged = trainer.state.log_history[0]
    # TRL's own record of the rewards it trained on: the solvers' 1 and -1 (the proposer is left out).
    assert logged["rewards/ssr_solver_reward/mean"] == pytest.approx(0.0)
    assert logged["reward_std"] > 0


def test_trl_rollout_plays_solver_only_steps_with_the_given_sampling():
    """The built-in proposer breaks the code, the model only solves: the step's solvers fill the first copies and
    the last copy (no proposer sample) is a masked repeat; the sampling goes with the step."""
    from types import SimpleNamespace

    from swe_selfplay.adapters.trl import SsrRollout

    def samples(body, step):
        return [record(f"{step}s{i}-s0", group_id=f"{step}-solvers", reward=reward) for i, reward in enumerate([1.0, -1.0])]

    service = StandInService(samples_for=samples)
    try:
        served = {"kind": "vllm", "base_url": "http://127.0.0.1:8000/v1", "model": "policy"}
        rollout = SsrRollout(services=[service.url], group_size=2, inference=served, solver_only=True,
                             sampling={"max_tokens": 48, "temperature": 0.7})
        out = rollout(["p"] * 3, SimpleNamespace(num_generations=3, state=SimpleNamespace(global_step=4)))
    finally:
        service.close()
    [post] = service.posts
    assert post["inference"] == {"kind": "builtin"}
    assert post["solver_inference"] == served
    assert post["sampling"] == {"max_tokens": 48, "temperature": 0.7}
    assert post["policy_step"] == 4
    assert out["swe_selfplay_role"] == ["solver", "solver", "repeat"]
    assert out["swe_selfplay_reward"][:2] == [1.0, -1.0]
    assert out["env_mask"][2] == [0]
