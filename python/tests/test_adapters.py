"""The engine adapters. verl's is tested against the real AgentLoopBase (verl installed from PyPI); slime is
not on PyPI, so its adapter is tested against a stand-in `Sample` with slime's documented fields."""

import asyncio
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import pytest
from factories import StandInService

from swe_selfplay.adapters.steps import SharedSteps, StepSettings, split_sample
from swe_selfplay.samples import parse_sample


@pytest.fixture
def service():
    server = StandInService(solver_rewards=[1.0, -1.0])
    yield server
    server.close()


def test_a_sample_splits_into_prompt_and_response_and_cuts_long_responses():
    from factories import record

    sample = parse_sample(record(prompt=3, sampled=2))
    parts = split_sample(sample)
    assert parts.prompt_ids == sample.tokens[:3]
    assert parts.response_mask == [1, 1, 0] and parts.response_logprobs == [-0.5, -0.5, 0.0]
    assert not parts.truncated
    cut = split_sample(sample, max_response=2)
    assert cut.response_ids == sample.tokens[3:5] and cut.truncated


def test_copies_of_a_row_share_one_step_and_take_its_samples_in_turn(service):
    steps = SharedSteps(StepSettings(services=[service.url], inference={"kind": "vllm", "base_url": "http://v/v1"},
                                     group_size=2, run_name="t"))

    async def copies(count):
        return await asyncio.gather(*(steps.next_sample("row7", "policy-v1") for _ in range(count)))

    first = asyncio.run(copies(3))
    assert [sample.role for sample, _ in first] == ["proposer", "solver", "solver"]
    assert not any(repeat for _, repeat in first)
    second = asyncio.run(copies(4))
    assert [sample.role for sample, _ in second] == ["proposer", "solver", "solver", "proposer"]
    assert sorted(post["request_id"] for post in service.posts) == ["t-row7-0", "t-row7-1", "t-row7-2"]


def test_a_step_with_fewer_samples_than_copies_repeats_one_marked_as_a_repeat():
    invalid = StandInService(solver_rewards=[])
    try:
        steps = SharedSteps(StepSettings(services=[invalid.url], inference={"kind": "vllm"}, group_size=2))

        async def copies():
            return await asyncio.gather(*(steps.next_sample("row", "base") for _ in range(3)))

        assert [repeat for _, repeat in asyncio.run(copies())] == [False, True, True]
    finally:
        invalid.close()


def test_a_step_with_more_samples_than_copies_says_so_and_counts_what_it_leaves_out(caplog):
    second_order = StandInService(solver_rewards=[1.0, -1.0, 1.0, -1.0])  # 5 samples for G + 1 = 3 copies
    try:
        steps = SharedSteps(StepSettings(services=[second_order.url], inference={"kind": "vllm"}, group_size=2))

        async def copies():
            return await asyncio.gather(*(steps.next_sample("row", "base") for _ in range(3)))

        with caplog.at_level("WARNING", logger="swe_selfplay.adapters"):
            asyncio.run(copies())
        assert steps.surplus_samples == 2
        assert "5 samples for 3 copies; 2 (second-order groups) are not trained on" in caplog.text
    finally:
        second_order.close()


def tokenizer_dir():
    cache = Path(os.environ.get("SWE_SELFPLAY_CACHE", Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                                / "swe-selfplay"))
    env = cache / "vllm.env"
    if not env.is_file():
        return None
    values = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
    return values.get("SWE_SELFPLAY_VLLM_MODEL")


def test_the_verl_agent_loop_returns_agent_loop_outputs(service):
    agent_loop = pytest.importorskip("verl.experimental.agent_loop.agent_loop")
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer

    from swe_selfplay.adapters.verl import SweSelfplayAgentLoop

    model = tokenizer_dir()
    if model is None:
        pytest.skip("no prepared model for a real tokenizer (scripts/prepare-vllm.sh)")
    config = OmegaConf.create({"actor_rollout_ref": {"rollout": {"response_length": 4, "prompt_length": 64}},
                               "data": {}})

    async def play():
        outputs = []
        for _ in range(3):
            loop = SweSelfplayAgentLoop(
                trainer_config=agent_loop.DictConfigWrap(config),
                server_manager=None,
                tokenizer=AutoTokenizer.from_pretrained(model),
                processor=None,
                dataset_cls=None,
                data_config=agent_loop.DictConfigWrap(config.data),
                services=[service.url],
                inference={"kind": "vllm", "base_url": "http://127.0.0.1:8000/v1", "tool_call_format": "hermes"},
                model="policy-v3",
                group_size=2,
                run_name="verl-test",
            )
            outputs.append(await loop.run({"temperature": 1.0}, index=11))
        return outputs

    outputs = asyncio.run(play())
    assert all(isinstance(output, agent_loop.AgentLoopOutput) for output in outputs)
    proposer, solver, _ = outputs
    assert proposer.extra_fields["swe_selfplay_role"] == "proposer"
    assert solver.reward_score == 1.0 and outputs[2].reward_score == -1.0
    assert len(solver.response_ids) == len(solver.response_mask) == len(solver.response_logprobs) == 3
    assert solver.response_mask == [1, 1, 0] and solver.prompt_ids == [10, 11, 12]
    assert service.posts[0]["inference"]["model"] == "policy-v3"
    tensors = solver.as_dict()
    assert tensors["rollout_log_probs"].tolist() == [-0.5, -0.5, 0.0]


@dataclass
class StandInSlimeSample:
    """slime.utils.types.Sample's documented fields (slime is not on PyPI)."""

    group_index: int | None = None
    index: int | None = None
    prompt: str | list = ""
    tokens: list = field(default_factory=list)
    response: str = ""
    response_length: int = 0
    label: str | None = None
    reward: float | dict | None = None
    loss_mask: list | None = None
    weight_versions: list = field(default_factory=list)
    rollout_log_probs: list | None = None

    class Status(Enum):
        PENDING = "pending"
        COMPLETED = "completed"
        TRUNCATED = "truncated"
        ABORTED = "aborted"
        FAILED = "failed"

    status: Status = Status.PENDING
    metadata: dict = field(default_factory=dict)


def test_the_slime_generate_returns_one_proposer_and_g_solver_samples(service, monkeypatch):
    from types import SimpleNamespace

    from swe_selfplay.adapters.slime import generate

    monkeypatch.setenv("SWE_SELFPLAY_SERVICES", service.url)
    monkeypatch.setenv("SWE_SELFPLAY_GROUP_SIZE", "2")
    monkeypatch.setenv("SWE_SELFPLAY_MODEL", "policy-v2")
    args = SimpleNamespace(sglang_router_ip="127.0.0.1", sglang_router_port=30000)
    prompt = StandInSlimeSample(group_index=4, index=40, prompt="play", metadata={"environment": "inkwell"})
    samples = asyncio.run(generate(args, prompt, {"temperature": 1.0}))
    assert len(samples) == 3
    assert [sample.metadata["swe_selfplay"]["role"] for sample in samples] == ["proposer", "solver", "solver"]
    solver = samples[1]
    assert isinstance(solver, StandInSlimeSample) and solver.status is StandInSlimeSample.Status.COMPLETED
    assert solver.response_length == 3 and len(solver.tokens) == 6
    assert solver.loss_mask == [1, 1, 0] and solver.rollout_log_probs == [-0.5, -0.5, 0.0]
    assert solver.reward == 1.0 and solver.weight_versions == ["policy-v2"] and solver.group_index == 4
    post = service.posts[0]
    assert post["inference"] == {"kind": "sglang", "base_url": "http://127.0.0.1:30000",
                                 "tool_call_format": "hermes", "model": "policy-v2"}
    assert post["environment"] == "inkwell"
    assert prompt.tokens == [] and prompt.status is StandInSlimeSample.Status.PENDING


def test_the_adapters_take_a_ray_address_and_use_it(monkeypatch):
    # The pool comes from the Ray cluster: one that does not answer is said in one line.
    pytest.importorskip("ray")
    from swe_selfplay.adapters.slime import settings_from_environment
    from swe_selfplay.ray import DeploymentError

    monkeypatch.delenv("SWE_SELFPLAY_SERVICES", raising=False)
    monkeypatch.setenv("SWE_SELFPLAY_RAY_ADDRESS", "127.0.0.1:1")
    args = type("Args", (), {"sglang_router_ip": "127.0.0.1", "sglang_router_port": 30000})()
    settings = settings_from_environment(args, {})
    assert settings.ray_address == "127.0.0.1:1" and settings.services == []
    with pytest.raises(DeploymentError, match=r"^Ray at 127\.0\.0\.1:1 does not answer: [^\n]+$"):
        SharedSteps(settings)
