"""The steps the engine adapters share, and the slime adapter. verl's is tested through verl's own code in
test_verl_engine.py. slime is not on PyPI: its adapter is tested against a stand-in `Sample` with the fields
of slime.utils.types.Sample, and each assertion names the slime function whose contract it mirrors."""

import asyncio
import os
import re
import threading
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
    assert [taken.sample.role for taken in first] == ["proposer", "solver", "solver"]
    assert not any(taken.repeat for taken in first)
    second = asyncio.run(copies(4))
    assert [taken.sample.role for taken in second] == ["proposer", "solver", "solver", "proposer"]
    assert sorted(post["request_id"] for post in service.posts) == ["t-row7-0", "t-row7-1", "t-row7-2"]
    # Once every copy of a step has its sample, the row keeps its round but not the step's samples.
    assert steps._rows["row7"]["task"] is not None and steps._rows["row7"]["taken"] == 1
    asyncio.run(copies(2))
    assert steps._rows["row7"]["task"] is None and steps._rows["row7"]["round"] == 2


def test_a_step_with_fewer_samples_than_copies_repeats_one_marked_as_a_repeat():
    invalid = StandInService(solver_rewards=[])
    try:
        steps = SharedSteps(StepSettings(services=[invalid.url], inference={"kind": "vllm"}, group_size=2))

        async def copies():
            return await asyncio.gather(*(steps.next_sample("row", "base") for _ in range(3)))

        assert [taken.repeat for taken in asyncio.run(copies())] == [False, True, True]
    finally:
        invalid.close()


def test_a_failed_step_gives_every_copy_its_reason_instead_of_raising_into_the_batch():
    failing = StandInService(fail_requests={"f-bad-0"})
    try:
        steps = SharedSteps(StepSettings(services=[failing.url], inference={"kind": "vllm"}, group_size=2,
                                         run_name="f"))

        async def batch():
            return await asyncio.gather(*(steps.next_sample(row, "base") for row in ("bad", "good") for _ in range(3)))

        taken = asyncio.run(batch())
        bad, good = taken[:3], taken[3:]
        assert all(t.sample is None and not t.trainable and "proposer episode failed" in t.failure for t in bad)
        assert [t.sample.role for t in good] == ["proposer", "solver", "solver"] and all(t.trainable for t in good)
    finally:
        failing.close()


def test_a_finished_step_is_acked_once_and_a_failed_one_is_not():
    failing = StandInService(fail_requests={"a-bad-0"})
    try:
        steps = SharedSteps(StepSettings(services=[failing.url], inference={"kind": "vllm"}, group_size=2,
                                         run_name="a"))

        async def batch():
            return await asyncio.gather(*(steps.next_sample(row, "base") for row in ("bad", "good") for _ in range(3)))

        asyncio.run(batch())
        good = failing.by_request["a-good-0"]
        assert failing.acked == [good]
    finally:
        failing.close()


def test_steps_wait_on_the_event_loop_without_a_thread_each():
    held = StandInService(hold=True)
    try:
        steps = SharedSteps(StepSettings(services=[held.url], inference={"kind": "vllm"}, group_size=1,
                                         run_name="h"))

        async def run():
            tasks = [asyncio.ensure_future(steps.next_sample(f"row{i}", "base")) for i in range(6) for _ in range(2)]
            while len(held.steps) < 6:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
            workers = [thread.name for thread in threading.enumerate() if thread.name.startswith("asyncio")]
            await steps.abort()
            await asyncio.gather(*tasks, return_exceptions=True)
            return workers

        assert asyncio.run(run()) == []
    finally:
        held.close()


def test_steps_are_cancelled_on_the_service_when_every_copy_is_cancelled_and_not_before():
    held = StandInService(hold=True)
    try:
        steps = SharedSteps(StepSettings(services=[held.url], inference={"kind": "vllm"}, group_size=2,
                                         run_name="c"))

        async def run():
            copies = [asyncio.ensure_future(steps.next_sample("row", "base")) for _ in range(3)]
            while not held.steps:
                await asyncio.sleep(0.05)
            copies[0].cancel()
            await asyncio.sleep(0.3)
            after_one = list(held.deleted)
            for copy in copies[1:]:
                copy.cancel()
            await asyncio.gather(*copies, return_exceptions=True)
            for _ in range(40):
                if held.deleted:
                    break
                await asyncio.sleep(0.05)
            return after_one

        assert asyncio.run(run()) == []
        assert held.deleted == ["step-1"] and held.steps["step-1"]["status"] == "cancelled"

        async def later():
            # Two of three copies wait, both are cancelled; the third, arriving later, gets a new step.
            early = [asyncio.ensure_future(steps.next_sample("row2", "base")) for _ in range(2)]
            while len(held.steps) < 2:
                await asyncio.sleep(0.05)
            for copy in early:
                copy.cancel()
            await asyncio.gather(*early, return_exceptions=True)
            held.hold = False
            return await steps.next_sample("row2", "base")

        taken = asyncio.run(later())
        assert taken.sample is not None and taken.request_id == "c-row2-1"
    finally:
        held.close()


def test_samples_beyond_the_copies_are_counted_as_dropped():
    from factories import step_samples

    many = StandInService(samples_for=lambda body, step: step_samples(step, [1.0, -1.0, 0.5, 0.0]))
    try:
        steps = SharedSteps(StepSettings(services=[many.url], inference={"kind": "vllm"}, group_size=2))

        async def copies():
            return await asyncio.gather(*(steps.next_sample("row", "base") for _ in range(3)))

        assert [taken.dropped for taken in asyncio.run(copies())] == [0, 0, 2]
    finally:
        many.close()


def test_default_run_names_are_unique_per_run():
    from swe_selfplay.adapters.slime import settings_from_environment
    from swe_selfplay.adapters.steps import unique_run_name

    assert unique_run_name("verl") != unique_run_name("verl")
    assert StepSettings(services=["x"], inference={}).run_name != StepSettings(services=["x"], inference={}).run_name
    os.environ.pop("SWE_SELFPLAY_RUN_NAME", None)
    os.environ["SWE_SELFPLAY_SERVICES"] = "http://127.0.0.1:1"
    try:
        from types import SimpleNamespace

        name = settings_from_environment(SimpleNamespace(sglang_router_ip="h", sglang_router_port=1), {}).run_name
    finally:
        os.environ.pop("SWE_SELFPLAY_SERVICES")
    assert re.fullmatch(r"slime-[0-9a-f]{12}", name)


def tokenizer_dir():
    cache = Path(os.environ.get("SWE_SELFPLAY_CACHE", Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                                / "swe-selfplay"))
    env = cache / "vllm.env"
    if not env.is_file():
        return None
    values = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
    return values.get("SWE_SELFPLAY_VLLM_MODEL")


@dataclass
class StandInSlimeSample:
    """slime.utils.types.Sample's documented fields (slime is not on PyPI)."""

    group_index: int | None = None
    index: int | None = None
    rollout_id: int | None = None
    prompt: str | list = ""
    tokens: list = field(default_factory=list)
    response: str = ""
    response_length: int = 0
    label: str | None = None
    reward: float | dict | None = None
    loss_mask: list | None = None
    weight_versions: list = field(default_factory=list)
    rollout_log_probs: list | None = None
    remove_sample: bool = False

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


def slime_args(**overrides):
    from types import SimpleNamespace

    values = {"sglang_router_ip": "127.0.0.1", "sglang_router_port": 30000, "advantage_estimator": "grpo",
              "rewards_normalization": True, "grpo_std_normalization": True, "reward_key": None,
              "n_samples_per_prompt": 1}
    values.update(overrides)
    return SimpleNamespace(**values)


def slime_step(service, monkeypatch, index, **metadata):
    from swe_selfplay.adapters.slime import generate

    monkeypatch.setenv("SWE_SELFPLAY_SERVICES", service.url)
    monkeypatch.setenv("SWE_SELFPLAY_GROUP_SIZE", "2")
    prompt = StandInSlimeSample(group_index=index, index=index, prompt="play", metadata=dict(metadata))
    return asyncio.run(generate(slime_args(), prompt, {"temperature": 1.0}))


def test_every_sample_of_a_slime_step_carries_the_prompt_samples_rollout_id(service, monkeypatch):
    samples = slime_step(service, monkeypatch, 40)
    # Mirrors slime.observability.rollout_data_utils.validate_rollout_id_annotated: a list[Sample] returned
    # for one prompt sample (depth >= 2 in the rollout output) needs every sibling's rollout_id set and equal.
    assert [sample.rollout_id for sample in samples] == [40, 40, 40]


def test_a_failed_slime_step_is_one_removed_zero_weight_sample_with_its_reason(monkeypatch):
    failing = StandInService(fail_requests={"run-x-7-0"})
    monkeypatch.setenv("SWE_SELFPLAY_RUN_NAME", "run-x")
    try:
        samples = slime_step(failing, monkeypatch, 7)
    finally:
        failing.close()
    assert len(samples) == 1
    failed = samples[0]
    assert failed.remove_sample and failed.reward == 0.0 and failed.status is StandInSlimeSample.Status.FAILED
    assert "proposer episode failed" in failed.metadata["swe_selfplay"]["failure"]
    # Mirrors slime.ray.rollout.RolloutManager._convert_samples_to_train_data: loss_mask length equals
    # response_length, and remove_sample zeroes the mask; rollout_id as above.
    assert len(failed.loss_mask) == failed.response_length == 1 and failed.rollout_id == 7
    assert len(failed.tokens) > failed.response_length


def test_slime_rewards_are_normalised_per_step_and_role_not_per_batch(service, monkeypatch):
    from swe_selfplay.adapters.slime import keep_steps_with_signal, post_process_rewards

    first = slime_step(service, monkeypatch, 1)
    second = slime_step(service, monkeypatch, 2)
    for sample, reward in zip(second, (-0.6, 0.5, 0.0)):
        sample.reward = reward
    failing = StandInService(fail_requests={"r-3-0"})
    monkeypatch.setenv("SWE_SELFPLAY_RUN_NAME", "r")
    try:
        failed = slime_step(failing, monkeypatch, 3)
    finally:
        failing.close()
    batch = first + second + failed
    # Mirrors slime.ray.rollout.RolloutManager._post_process_rewards / _convert_samples_to_train_data: a
    # custom post-process returns (raw rewards, rewards), each one per flattened sample.
    raw, rewards = post_process_rewards(slime_args(), batch)
    assert raw == [0.2, 1.0, -1.0, -0.6, 0.5, 0.0, 0.0] and len(rewards) == len(batch)
    assert rewards[1:3] == pytest.approx([0.7071, -0.7071], abs=1e-3)
    assert rewards[4:6] == pytest.approx([0.7071, -0.7071], abs=1e-3)
    assert [rewards[0], rewards[3]] == pytest.approx([0.7071, -0.7071], abs=1e-3)
    assert rewards[6] == 0.0
    assert post_process_rewards(slime_args(grpo_std_normalization=False), batch)[1][1:3] == pytest.approx([1, -1])
    # Mirrors slime.rollout.sglang_rollout.generate_rollout_async: with --n-samples-per-prompt 1 the dynamic
    # filter receives a group of one element, the list the generate function returned.
    kept = keep_steps_with_signal(slime_args(), [first])
    assert getattr(kept, "keep", kept) is True
    for sample in second[1:]:
        sample.reward = 1.0
    dropped = [keep_steps_with_signal(slime_args(), [second]), keep_steps_with_signal(slime_args(), [failed])]
    assert [getattr(output, "keep", output) for output in dropped] == [False, False]


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
