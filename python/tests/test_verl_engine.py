"""The verl adapter through verl's own code (verl from PyPI, on CPU): the agent loop is registered from
docs/engines/verl-agent-loop.yaml and run by verl's AgentLoopWorker (hydra-instantiated per sample, its
post-processing and padding, its batch), against verl's LLMServerClient and GlobalRequestLoadBalancer (the
load balancer is a Ray actor in a real run; here its methods' `.remote()` run in process), and verl's GRPO
advantage function. Only the service is a stand-in (factories.StandInService)."""

import asyncio
import os
import re
from pathlib import Path

import numpy as np
import pytest
from factories import StandInService, record, step_samples

agent_loop = pytest.importorskip("verl.experimental.agent_loop.agent_loop")

import verl  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402
from verl.protocol import DataProto  # noqa: E402
from verl.trainer.ppo.core_algos import compute_grpo_outcome_advantage  # noqa: E402
# Both live in verl.workers.rollout.llm_server from 0.9.0 on (0.9.1 moved the balancer to .router and
# re-exports it there).
from verl.workers.rollout.llm_server import GlobalRequestLoadBalancer, LLMServerClient  # noqa: E402

from swe_selfplay.adapters import verl as adapter  # noqa: E402

YAML = Path(__file__).resolve().parents[2] / "docs" / "engines" / "verl-agent-loop.yaml"
SERVERS = ["127.0.0.1:18001", "127.0.0.1:18002"]
PROMPT_LENGTH = 16
RESPONSE_LENGTH = 8


def model_dir():
    from test_adapters import tokenizer_dir

    return tokenizer_dir()


class InProcessActor:
    """A Ray actor handle's surface (`handle.method.remote(...)` → awaitable) over a plain object."""

    def __init__(self, target):
        self.target = target

    def __getattr__(self, name):
        method = getattr(self.target, name)

        class Remote:
            @staticmethod
            def remote(*args, **kwargs):
                future = asyncio.get_running_loop().create_future()
                future.set_result(method(*args, **kwargs))
                return future

        return Remote


def trainer_config(n=3, **model):
    base = OmegaConf.load(Path(verl.__file__).parent / "trainer" / "config" / "_generated_ppo_trainer.yaml")
    return OmegaConf.merge(base, {
        "actor_rollout_ref": {
            "model": {"path": model_dir(), **model},
            "rollout": {"name": "vllm", "n": n, "prompt_length": PROMPT_LENGTH, "response_length": RESPONSE_LENGTH,
                        "agent": {"agent_loop_config_path": str(YAML)}},
        },
    })


@pytest.fixture(scope="module")
def worker():
    if model_dir() is None:
        pytest.skip("no prepared model for a real tokenizer (scripts/prepare-vllm.sh)")
    balancer = GlobalRequestLoadBalancer(servers={address: None for address in SERVERS})
    config = trainer_config()
    client = LLMServerClient(config, load_balancer_handle=InProcessActor(balancer))
    worker = agent_loop.AgentLoopWorker(config, llm_client=client)
    worker.balancer = balancer
    return worker


@pytest.fixture
def service(monkeypatch):
    servers = []

    def start(**options):
        server = StandInService(**options)
        servers.append(server)
        monkeypatch.setenv("SWE_SELFPLAY_SERVICES", server.url)
        monkeypatch.setenv("SWE_SELFPLAY_GROUP_SIZE", "2")
        return server

    yield start
    for server in servers:
        server.close()


def rows(uids, n=3, global_steps=4, index=None):
    """verl's rollout input: each row repeated n times (interleaved), with its uid and the columns verl's
    dataset gives (v1 trainers also pass global_steps per row)."""
    uid = np.array([u for u in uids for _ in range(n)], dtype=object)
    count = len(uid)
    columns = {
        "uid": uid,
        "index": np.array([index if index is not None else i // n for i in range(count)], dtype=object),
        "agent_name": np.array(["swe_selfplay"] * count, dtype=object),
        "raw_prompt": np.array([[{"role": "user", "content": "play"}]] * count, dtype=object),
        "global_steps": np.array([global_steps] * count, dtype=object),
    }
    return DataProto(non_tensor_batch=columns, meta_info={"global_steps": global_steps, "validate": False})


def generate(worker, batch):
    return asyncio.run(worker.generate_sequences(batch))


def uid(name):
    return f"{name}-{os.urandom(4).hex()}"


def test_verl_runs_the_documented_agent_loop_against_its_own_servers_and_model(worker, service):
    stand_in = service(solver_rewards=[1.0, -1.0])
    out = generate(worker, rows([uid("a"), uid("b")]))
    assert out.batch["prompts"].shape == (6, PROMPT_LENGTH)
    assert out.batch["responses"].shape == (6, RESPONSE_LENGTH)
    assert list(out.non_tensor_batch["swe_selfplay_role"]) == ["proposer", "solver", "solver"] * 2
    assert out.batch["response_mask"][1].tolist()[:3] == [1, 1, 0]
    assert out.batch["rollout_log_probs"][1].tolist()[:3] == [-0.5, -0.5, 0.0]
    assert out.batch["rm_scores"].sum(dim=-1).tolist() == pytest.approx([0.2, 1.0, -1.0] * 2)
    assert len(stand_in.posts) == 2
    for post in stand_in.posts:
        # Discovered from verl: a server its load balancer picked, and the model path vLLM was started with.
        assert post["inference"]["base_url"] in {f"http://{address}/v1" for address in SERVERS}
        assert post["inference"]["kind"] == "vllm" and post["inference"]["model"] == model_dir()
        assert post["policy_step"] == 4
        assert re.fullmatch(r"verl-[0-9a-f]{12}-[ab]-[0-9a-f]{8}-0", post["request_id"])
    assert all(worker.balancer.get_inflight_count(address) == 0 for address in SERVERS)


def test_the_served_model_name_is_verls_lora_adapter_name_when_the_actor_trains_a_lora():
    if model_dir() is None:
        pytest.skip("no prepared model")
    assert adapter.served_model(trainer_config(lora_rank=8)) == adapter.LORA_NAMES["vllm"]
    # verl's own constants, read from its source (importing those modules needs the inference engines).
    rollout = Path(verl.__file__).parent / "workers" / "rollout"
    assert adapter.LORA_NAMES["vllm"] == module_constant(rollout / "vllm_rollout" / "utils.py", "VLLM_LORA_NAME")
    assert adapter.LORA_NAMES["sglang"] == module_constant(rollout / "sglang_rollout" / "utils.py", "SGLANG_LORA_NAME")
    assert adapter.served_model(trainer_config()) == model_dir()


def module_constant(path, name):
    import ast

    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not in {path}")


def test_a_row_key_is_verls_uid_so_rows_sharing_an_index_get_their_own_steps(worker, service):
    stand_in = service()
    generate(worker, rows([uid("train"), uid("val")], index=0))
    assert len({post["request_id"] for post in stand_in.posts}) == 2


def test_a_row_without_uid_is_refused_with_the_reason(worker, service):
    service()
    loop = hydra_instantiate(worker)
    with pytest.raises(ValueError, match="no `uid`"):
        asyncio.run(loop.run({}, index=3))


def hydra_instantiate(worker, config=None):
    import hydra

    return hydra.utils.instantiate(
        config=agent_loop._agent_loop_registry["swe_selfplay"],
        trainer_config=agent_loop.DictConfigWrap(config=config or worker.config),
        server_manager=worker.llm_client, tokenizer=worker.tokenizer, processor=None, hf_model_type=None,
        dataset_cls=worker.dataset_cls, data_config=agent_loop.DictConfigWrap(worker.config.data),
        tools=agent_loop.ToolListWrap([]))


def test_rollout_n_other_than_group_size_plus_one_is_refused(worker, service):
    service()
    with pytest.raises(Exception, match=r"rollout.n is 5, expected group_size \+ 1 = 3"):
        hydra_instantiate(worker, trainer_config(n=5))


def test_a_failed_step_and_a_long_prompt_become_masked_zero_weight_samples_with_their_reason(worker, service):
    bad, long, good = uid("bad"), uid("long"), uid("good")

    def samples(body, step):
        if f"-{long}-" in body["request_id"]:
            return [record(f"{step}p-s0", role="proposer", prompt=PROMPT_LENGTH + 4, reward=0.5)]
        return step_samples(step, [1.0, -1.0])

    stand_in = service(samples_for=samples)
    stand_in.fail_requests = {f"{adapter._RUN_NAME}-{bad}-0"}
    out = generate(worker, rows([bad, long, good]))
    failures = list(out.non_tensor_batch["swe_selfplay_failure"])
    assert all("proposer episode failed" in reason for reason in failures[:3])
    assert f"prompt of {PROMPT_LENGTH + 4} tokens exceeds actor_rollout_ref.rollout.prompt_length={PROMPT_LENGTH}" \
        in failures[3]
    assert failures[6:] == [None, None, None]
    assert out.batch["response_mask"][:6].sum().item() == 0
    assert out.batch["rm_scores"][:6].abs().sum().item() == 0
    assert list(out.non_tensor_batch["swe_selfplay_failed"]) == [1.0] * 6 + [0.0] * 3
    assert "swe_selfplay_failed" in out.meta_info["reward_extra_keys"]


def test_verls_grpo_sees_roles_and_steps_apart_after_regroup(worker, service):
    valid, rejected = uid("valid"), uid("rejected")

    def samples(body, step):
        if f"-{rejected}-" in body["request_id"]:
            return [record(f"{step}p-s0", role="proposer", group_id=f"{step}-proposer", reward=-1.0)]
        return step_samples(step, [1.0, -1.0])

    service(samples_for=samples)
    out = generate(worker, rows([valid, rejected]))
    rewards, mask = out.batch["rm_scores"], out.batch["response_mask"]

    def advantages(index):
        values, _ = compute_grpo_outcome_advantage(token_level_rewards=rewards, response_mask=mask, index=index)
        return [round(row[mask[i].bool()][0].item(), 3) if mask[i].any() else 0.0 for i, row in enumerate(values)]

    # By verl's uid, the valid step's proposer (0.2) is normalised with its solvers (1, -1).
    mixed = advantages(out.non_tensor_batch["uid"])
    import statistics

    assert mixed[0] == pytest.approx((0.2 - statistics.mean([0.2, 1, -1])) / statistics.stdev([0.2, 1, -1]), abs=1e-3)
    adapter.regroup(out)
    apart = advantages(out.non_tensor_batch["uid"])
    # Solvers against each other; proposers against each other across the batch (the rejected one keeps its
    # penalty); the rejected step's repeats are alone in their groups with reward 0.
    assert apart[1:3] == pytest.approx([0.707, -0.707], abs=1e-3)
    assert [apart[0], apart[3]] == pytest.approx([0.707, -0.707], abs=1e-3)
    assert apart[4:] == [0.0, 0.0]
    assert list(out.non_tensor_batch["swe_selfplay_repeat"]) == [False] * 4 + [True, True]
