"""The verifiers environment package (python/environments/swe_selfplay_env) with the real verifiers (0.3.1 from
PyPI) against a stand-in service: its arguments are checked with one-line errors, a rollout is one step whose
samples become trajectory steps and whose solve rate is the reward, and a failed step is a zero reward with its
reason, never an exception out of the rollout. vf-eval itself runs it in test/train/verifiers-env.test.ts."""

import asyncio
import sys
from pathlib import Path

import pytest
from factories import StandInService, record

vf = pytest.importorskip("verifiers")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "environments" / "swe_selfplay_env"))

import swe_selfplay_env  # noqa: E402
from verifiers.types import ClientConfig  # noqa: E402

MODEL_URL = "http://127.0.0.1:8000/v1"


class Everything(set):
    def __contains__(self, item):
        return True


def run(env, sampling=None):
    """One rollout and its scoring, as verifiers runs them."""
    row = env.get_eval_dataset()[0]
    client = ClientConfig(api_base_url=MODEL_URL, api_key_var="SWE_SELFPLAY_TEST_KEY")

    async def main():
        return await env._run_rollout_state({**row, "example_id": 0}, client, "policy-v3", sampling or {})

    return asyncio.run(main())


def test_arguments_are_checked_with_one_line_errors(monkeypatch):
    monkeypatch.delenv("SWE_SELFPLAY_SERVICES", raising=False)
    with pytest.raises(ValueError, match="no service URL .*SWE_SELFPLAY_SERVICES"):
        swe_selfplay_env.load_environment()
    with pytest.raises(ValueError, match="group_size is 0, expected at least 1"):
        swe_selfplay_env.load_environment(services="http://127.0.0.1:1", group_size=0)
    with pytest.raises(ValueError, match="num_steps is 0"):
        swe_selfplay_env.load_environment(services="http://127.0.0.1:1", num_steps=0)
    monkeypatch.setenv("SWE_SELFPLAY_SERVICES", "http://a:1, http://b:2")
    assert swe_selfplay_env.services_from(None) == ["http://a:1", "http://b:2"]


def test_a_rollout_is_one_step_scored_by_its_solve_rate(monkeypatch):
    monkeypatch.setenv("SWE_SELFPLAY_TEST_KEY", "none")

    def samples(body, step):
        proposer = record(f"{step}p-s0", role="proposer", group_id=f"{step}-p", reward=0.1, prompt=4, sampled=3)
        solvers = [record(f"{step}s{i}-s0", group_id=f"{step}-s", reward=reward, prompt=5, sampled=4)
                   for i, reward in enumerate([1.0, -1.0, -1.0, 1.0])]
        return [proposer, *solvers]

    service = StandInService(samples_for=samples)
    try:
        env = swe_selfplay_env.load_environment(services=[service.url], group_size=4, environment="inkwell",
                                                solver_only=False)
        state = run(env, {"max_tokens": 48, "temperature": 0.7, "n": 1, "extra_body": {}})
    finally:
        service.close()
    [post] = service.posts
    assert post["inference"] == {"kind": "vllm", "base_url": MODEL_URL, "model": "policy-v3"}
    assert post["policy_version"] == "policy-v3" and post["group_size"] == 4 and post["environment"] == "inkwell"
    assert post["sampling"] == {"max_tokens": 48, "temperature": 0.7}
    assert service.acked == ["step-1"]
    assert state["reward"] == pytest.approx(0.5)
    assert state["metrics"]["proposer_reward"] == pytest.approx(0.1)
    assert state["metrics"]["solvers"] == 4 and state["metrics"]["step_failed"] == 0
    roles = [step["extras"]["role"] for step in state["trajectory"]]
    assert roles == ["proposer", "solver", "solver", "solver", "solver"]
    solver = state["trajectory"][1]["tokens"]
    # record(): prompt 5 tokens, 4 sampled, one observed token after them.
    assert solver["prompt_ids"] == list(range(10, 15))
    assert solver["completion_mask"] == [1, 1, 1, 1, 0]
    assert solver["completion_logprobs"] == [-0.5] * 4 + [0.0]
    assert "2 of 4 solvers resolved" in state["completion"][0]["content"]


def test_solver_only_steps_use_the_built_in_proposer(monkeypatch):
    monkeypatch.setenv("SWE_SELFPLAY_TEST_KEY", "none")
    service = StandInService()
    try:
        env = swe_selfplay_env.load_environment(services=service.url, group_size=2)
        run(env)
    finally:
        service.close()
    [post] = service.posts
    assert post["inference"] == {"kind": "builtin"}
    assert post["solver_inference"]["base_url"] == MODEL_URL


def test_a_failed_step_is_a_zero_reward_with_its_reason(monkeypatch):
    monkeypatch.setenv("SWE_SELFPLAY_TEST_KEY", "none")
    service = StandInService(fail_requests=Everything({"any"}))
    try:
        env = swe_selfplay_env.load_environment(services=[service.url], group_size=2)
        state = run(env)
    finally:
        service.close()
    assert state["reward"] == 0
    assert state["metrics"]["step_failed"] == 1
    assert state["swe_selfplay"]["failure"] and "proposer episode failed" in state["swe_selfplay"]["failure"]
    assert state["trajectory"] == []
    assert state["completion"][0]["content"].startswith("step failed: ")
