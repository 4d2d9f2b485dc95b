"""The warm start (`--sft FILE`) and rejection sampling (`--mode rft`) on a tiny real model (torch, peft), with
the stand-in service and vLLM administration API of test_trainer.py (real HTTP servers on 127.0.0.1)."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from factories import StandInService, record

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from swe_selfplay import sft as sft_module  # noqa: E402
from swe_selfplay.policy import LoraPolicy, PolicySettings  # noqa: E402
from swe_selfplay.rft import RejectionSamplingTrainer, select  # noqa: E402
from swe_selfplay.samples import parse_sample  # noqa: E402
from swe_selfplay.sft import SftSettings, WarmStart, sequence_nll  # noqa: E402
from swe_selfplay.sft_data import SftExample  # noqa: E402
from swe_selfplay.train import Trainer, parse_arguments  # noqa: E402
from test_loss_policy import tiny_model  # noqa: E402
from test_trainer import StandInVllm, make_store, settings  # noqa: E402

LINES = [
    {"input_ids": [3, 4, 5, 6, 7, 8, 9, 10], "labels": [-100, -100, -100, 6, 7, 8, -100, -100]},
    {"input_ids": [11, 12, 13, 14, 15, 16], "labels": [-100, -100, 13, 14, -100, 16]},
    {"input_ids": [20, 21, 22, 23], "labels": [-100, 21, 22, 23]},
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def sft_file(tmp_path):
    path = tmp_path / "sft.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in LINES))
    return path


def warm_settings(out, model_dir, sft_file, vllm=None, **overrides):
    options = dict(vllm_url=vllm.url if vllm else None, services=[], learning_rate=0.05,
                   sft=SftSettings(file=str(sft_file), epochs=3, batch_tokens=8))
    options.update(overrides)
    return settings(out, model_dir, None, vllm or SimpleNamespace(url="http://127.0.0.1:9"), **options)


def mean_nll(policy, lines):
    examples = [SftExample(line=0, tokens=line["input_ids"], mask=[int(label != -100) for label in line["labels"]])
                for line in lines]
    return sum(sequence_nll(policy, example, grad=False).item() for example in examples) / sum(
        example.labelled for example in examples)


def test_the_nll_is_taken_on_exactly_the_masked_tokens(model_dir):
    policy = LoraPolicy(PolicySettings(model_dir=model_dir))
    tokens, mask = [3, 4, 5, 6, 7, 8, 9], [0, 0, 1, 1, 0, 1, 0]
    every = policy.logprobs(tokens, start=1, grad=False)
    expected = -sum(every[index].item() for index, flag in enumerate(mask) if flag)
    assert sequence_nll(policy, SftExample(line=1, tokens=tokens, mask=mask), grad=False).item() == pytest.approx(
        expected, abs=1e-5)


def test_a_short_warm_start_lowers_the_loss_and_saves_a_version_an_rl_run_continues_from(
        tmp_path, model_dir, sft_file):
    vllm, service = StandInVllm(), StandInService(solver_rewards=[1.0, -1.0])
    try:
        store = make_store(tmp_path / "store.db")
        before = mean_nll(LoraPolicy(PolicySettings(model_dir=model_dir)), LINES)
        report = WarmStart(warm_settings(tmp_path / "out", model_dir, sft_file, vllm, store=store)).run()
        losses = report["sft"]["loss_by_epoch"]
        assert list(losses) == ["1", "2", "3"] and losses["3"] < losses["1"]
        assert report["sft"]["examples"] == 3 and report["sft"]["labelled_tokens"] == 9
        # Sequences of 8, 6 and 4 tokens in batches of at most 8: 3 batches per epoch, whatever the order.
        assert report["sft"]["optimizer_steps"] == 9 and report["trained_tokens"] == 27
        assert report["policy_version"] == "policy-v1" and vllm.loads == ["policy-v1"]
        state = json.loads((tmp_path / "out" / "state.json").read_text())
        assert (state["step"], state["version"], state["iteration"]) == (1, "policy-v1", 1)
        after = LoraPolicy(PolicySettings(model_dir=model_dir), adapter_dir=tmp_path / "out" / "adapters" / "policy-v1")
        assert mean_nll(after, LINES) < before - 0.05
        (line,) = [json.loads(text) for text in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
        assert line["mode"] == "sft" and line["time_s"]["training"] > 0
        (row,) = sqlite3.connect(store).execute("SELECT iteration, policy_version, metrics FROM trainer_iterations")
        assert row[:2] == (1, "policy-v1") and json.loads(row[2])["sft.loss_by_epoch.3"] == losses["3"]
        assert not (tmp_path / "out" / "sft").exists()
        # The RL trainer on the same directory starts from the warm start, with its own learning rate.
        trainer = Trainer(settings(tmp_path / "out", model_dir, service, vllm, learning_rate=0.01))
        assert trainer.step == 1 and trainer.policy.optimizer.param_groups[0]["lr"] == 0.01
        assert mean_nll(trainer.policy, LINES) == pytest.approx(mean_nll(after, LINES), abs=1e-6)
        assert trainer.iteration()["policy_version"] == "policy-v2"
        assert service.posts[-1]["policy_version"] == "policy-v1"
        state = json.loads((tmp_path / "out" / "state.json").read_text())
        assert state["step"] == 2 and state["warm_starts"][0]["version"] == "policy-v1"
    finally:
        vllm.close()
        service.close()


def test_a_killed_warm_start_resumes_after_its_last_epoch_and_a_finished_one_is_not_repeated(
        tmp_path, model_dir, sft_file, monkeypatch):
    real = sft_module.nll_epoch
    epochs = []

    def dies_in_the_second_epoch(*args, **kwargs):
        if len(epochs) == 1:
            raise KeyboardInterrupt("killed")
        epochs.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(sft_module, "nll_epoch", dies_in_the_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        WarmStart(warm_settings(tmp_path / "out", model_dir, sft_file)).run()
    progress = json.loads((tmp_path / "out" / "sft" / "progress.json").read_text())
    assert len(progress["epochs"]) == 1 and not (tmp_path / "out" / "state.json").exists()
    first_loss = progress["epochs"][0]["loss"]

    resumed: list = []
    monkeypatch.setattr(sft_module, "nll_epoch", lambda *args, **kwargs: resumed.append(args[2]) or real(*args, **kwargs))
    report = WarmStart(warm_settings(tmp_path / "out", model_dir, sft_file)).run()
    # Only epochs 2 and 3 ran, in the order a run without the kill would have used.
    assert resumed == [sft_module.epoch_order(3, 0, epoch, True) for epoch in (1, 2)]
    assert report["sft"]["loss_by_epoch"]["1"] == first_loss and report["sft"]["epochs"] == 3
    again = WarmStart(warm_settings(tmp_path / "out", model_dir, sft_file)).run()
    assert again["already_trained"] is True and again["version"] == "policy-v1"
    assert len(resumed) == 2
    assert json.loads((tmp_path / "out" / "state.json").read_text())["step"] == 1


def test_the_command_line_refuses_a_bad_line_with_its_number_and_saves_nothing(tmp_path, model_dir):
    from test_train_cli import run_trainer

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(LINES[0]) + "\n" + json.dumps({"input_ids": [1, 2], "labels": [-100, 5]}) + "\n")
    result = run_trainer(["--out", str(tmp_path / "out"), "--model-dir", model_dir, "--base-model", "base",
                          "--sft", str(bad)])
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"swe_selfplay.train: {bad}:2: labels[1] is 5: expected -100 or the token's id 2")
    assert not (tmp_path / "out" / "adapters").exists() or not any((tmp_path / "out" / "adapters").iterdir())


def test_the_command_line_takes_a_warm_start_without_vllm_or_service_and_rft_as_a_mode(tmp_path):
    base = ["--out", str(tmp_path), "--model-dir", "m", "--base-model", "b"]
    warm = parse_arguments(base + ["--sft", "f.jsonl", "--sft-epochs", "4", "--no-sft-shuffle"])
    assert (warm.sft.file, warm.sft.epochs, warm.sft.shuffle, warm.vllm_url) == ("f.jsonl", 4, False, None)
    rft = parse_arguments(base + ["--vllm-url", "http://v", "--service", "http://s", "--mode", "rft",
                                  "--solver-only", "--group-size", "8"])
    assert (rft.mode, rft.sft.file, rft.rollout.group_size, rft.rollout.solver_only) == ("rft", None, 8, True)
    for wrong in (base + ["--service", "http://s"], base + ["--sft", "f", "--mode", "rft"],
                  base + ["--sft", "f", "--sft-epochs", "0"]):
        with pytest.raises(SystemExit):
            parse_arguments(wrong)


def test_rejection_sampling_keeps_resolved_solvers_and_partly_solved_valid_proposals():
    samples = [parse_sample(value) for value in (
        record("a-s0", reward=1.0), record("b-s0", reward=-1.0), record("c-s0", reward=1.0, sampled=0),
        record("p-s0", role="proposer", reward=0.28), record("q-s0", role="proposer", reward=-0.8),
        record("r-s0", role="proposer", reward=-1.0))]
    selection = select(samples)
    assert [sample.sample_id for sample, _ in selection.kept] == ["a-s0", "p-s0"]
    assert selection.by_role == {"solver": 1, "proposer": 1} and selection.rejected == 4


def test_a_rejection_sampling_iteration_fine_tunes_on_the_resolved_attempts_of_its_steps(tmp_path, model_dir):
    service, vllm = StandInService(solver_rewards=[1.0, -1.0, -1.0]), StandInVllm()
    try:
        options = settings(tmp_path / "out", model_dir, service, vllm, mode="rft",
                           sft=SftSettings(epochs=2, batch_tokens=64))
        options.rollout.solver_only, options.rollout.group_size = True, 3
        trainer = RejectionSamplingTrainer(options)
        resolved = parse_sample(record("x-s0", reward=1.0))
        before = mean_nll(trainer.policy, [{"input_ids": resolved.tokens,
                                            "labels": [t if m else -100 for t, m in zip(resolved.tokens, resolved.loss_mask)]}])
        report = trainer.iteration()
        body = service.posts[-1]
        assert body["group_size"] == 3 and body["inference"] == {"kind": "builtin"}
        assert body["solver_inference"]["model"] == "base"
        assert report["mode"] == "rft" and report["rft"]["accepted"] == {"proposer": 1, "solver": 1}
        assert report["rft"]["rejected"] == 2 and report["trained_samples"] == 2
        assert report["new_version"] is True and vllm.loads == ["policy-v1"]
        assert list(report["rft"]["loss_by_epoch"]) == ["1", "2"]
        after = mean_nll(trainer.policy, [{"input_ids": resolved.tokens,
                                           "labels": [t if m else -100 for t, m in zip(resolved.tokens, resolved.loss_mask)]}])
        assert after < before
    finally:
        service.close()
        vllm.close()


def test_the_help_names_the_warm_start_options():
    result = subprocess.run([sys.executable, "-m", "swe_selfplay.train", "--help"], capture_output=True, text=True,
                            cwd=str(Path(__file__).resolve().parents[1]), timeout=120)
    for flag in ("--sft FILE", "--mode {rl,rft}", "--sft-epochs", "--sft-batch-tokens", "--sft-max-length",
                 "--sft-overlong", "--sft-seed", "--no-sft-shuffle"):
        assert flag in result.stdout, flag


def test_with_an_evaluation_set_the_warm_started_version_is_evaluated_and_its_figures_recorded(
        tmp_path, model_dir, sft_file):
    from test_evaluation import EvalService

    from swe_selfplay.evaluation import EvaluationSettings

    service = EvalService(polls=1)
    try:
        evaluation = EvaluationSettings(task_set={"name": "s", "tasks": [{"artifact_id": "a"}]}, every=5,
                                        inference={"kind": "vllm", "base_url": "http://127.0.0.1:9/v1"})
        report = WarmStart(warm_settings(tmp_path / "out", model_dir, sft_file, services=[service.url],
                                         evaluation=evaluation)).run()
        # Evaluated whatever --eval-every says: the warm start is the version to compare with.
        assert service.posts[0]["policy_version"] == "policy-v1" and report["eval"]["resolve_rate"] == 0.25
        line = json.loads((tmp_path / "out" / "metrics.jsonl").read_text())
        assert line["eval"]["resolve_low"] == 0.1
    finally:
        service.close()


def test_a_warm_start_whose_hot_load_fails_keeps_its_training_and_the_next_start_only_finishes_it(
        tmp_path, model_dir, sft_file, monkeypatch):
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        gone = f"http://127.0.0.1:{closed.getsockname()[1]}"
    assert sft_module.main(warm_settings(tmp_path / "out", model_dir, sft_file, vllm_url=gone)) == 3
    assert not (tmp_path / "out" / "state.json").exists()
    trained: list = []
    real = sft_module.nll_epoch
    monkeypatch.setattr(sft_module, "nll_epoch", lambda *args, **kwargs: trained.append(1) or real(*args, **kwargs))
    vllm = StandInVllm()
    try:
        assert sft_module.main(warm_settings(tmp_path / "out", model_dir, sft_file, vllm)) == 0
        assert trained == [] and vllm.loads == ["policy-v1"]
        assert json.loads((tmp_path / "out" / "state.json").read_text())["step"] == 1
    finally:
        vllm.close()
