"""The reference trainer end to end on a tiny model: a stand-in `swe-selfplay serve` and a stand-in vLLM
administration API (both real HTTP servers on 127.0.0.1), real torch and peft, real SQLite."""

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from factories import StandInService, step_samples

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from swe_selfplay.advantages import AdvantageSettings  # noqa: E402
from swe_selfplay.rollout_stage import RolloutSettings  # noqa: E402
from swe_selfplay.train import Trainer, TrainerSettings, build_parser, parse_arguments  # noqa: E402
from test_loss_policy import tiny_model  # noqa: E402


class StandInVllm:
    """/v1/models, /v1/load_lora_adapter, /v1/unload_lora_adapter, and prompt scoring (every logprob -1)."""

    def __init__(self, base: str = "base"):
        self.models = [base]
        self.loads: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, body):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                self.send({"data": [{"id": name} for name in owner.models]})

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
                if self.path == "/v1/load_lora_adapter":
                    owner.loads.append(body["lora_name"])
                    if body["lora_name"] not in owner.models:
                        owner.models.append(body["lora_name"])
                    return self.send({})
                if self.path == "/v1/unload_lora_adapter":
                    owner.models.remove(body["lora_name"])
                    return self.send({})
                tokens = body["prompt"]
                scored = [None] + [{str(token): {"logprob": -1.0}} for token in tokens[1:]]
                return self.send({"choices": [{"prompt_logprobs": scored}]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def engines():
    service, vllm = StandInService(solver_rewards=[1.0, -1.0]), StandInVllm()
    yield service, vllm
    service.close()
    vllm.close()


def make_store(path: Path) -> str:
    connection = sqlite3.connect(path)
    connection.executescript("""
      CREATE TABLE runs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL);
      CREATE TABLE trainer_iterations (run_id TEXT NOT NULL REFERENCES runs(id), iteration INTEGER NOT NULL,
        policy_version TEXT NOT NULL, metrics TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (run_id, iteration));
      INSERT INTO runs VALUES ('run', '2026-01-01');""")
    connection.commit()
    connection.close()
    return str(path)


def settings(out: Path, model_dir: str, service: StandInService | None, vllm: StandInVllm, **overrides):
    values = dict(
        out_dir=str(out), model_dir=model_dir, base_model="base", vllm_url=vllm.url,
        services=[service.url] if service else [],
        rollout=RolloutSettings(inference={"kind": "vllm", "base_url": vllm.url + "/v1"},  # type: ignore
                                steps_per_iteration=1 if service else 0, group_size=2, run_name="t",
                                sampling={"temperature": 0.7}),
        learning_rate=0.05, advantages=AdvantageSettings(baseline="none"),
    )
    values.update(overrides)
    return TrainerSettings(**values)


def test_request_ids_carry_a_nonce_kept_in_state_json_so_restarts_get_their_steps_and_other_runs_do_not(
        tmp_path, model_dir, engines):
    service, vllm = engines
    first = Trainer(settings(tmp_path / "a", model_dir, service, vllm))
    nonce = json.loads((tmp_path / "a" / "state.json").read_text())["nonce"]
    assert len(nonce) == 16
    first.iteration()
    assert service.posts[-1]["request_id"] == f"t-{nonce}-i1-s0"
    again = Trainer(settings(tmp_path / "a", model_dir, service, vllm))
    again.iteration()
    assert service.posts[-1]["request_id"] == f"t-{nonce}-i2-s0"
    other = Trainer(settings(tmp_path / "b", model_dir, service, vllm))
    other.iteration()
    assert service.posts[-1]["request_id"].startswith("t-") and nonce not in service.posts[-1]["request_id"]
    assert service.posts[-1]["request_id"].endswith("-i1-s0")


def test_state_json_is_written_only_after_the_iterations_metrics_are_in_the_store(tmp_path, model_dir, engines):
    service, vllm = engines
    broken = tmp_path / "broken.db"
    sqlite3.connect(broken).executescript("CREATE TABLE runs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL);"
                                          "INSERT INTO runs VALUES ('run', '2026-01-01');")
    trainer = Trainer(settings(tmp_path / "out", model_dir, service, vllm, store=str(broken)))
    with pytest.raises(sqlite3.OperationalError):
        trainer.iteration()
    # The store refused iteration 1's row: state.json must not claim iteration 1 is done.
    state = json.loads((tmp_path / "out" / "state.json").read_text())
    assert (state["step"], state["iteration"]) == (0, 0)
    store = make_store(tmp_path / "store.db")
    resumed = Trainer(settings(tmp_path / "out", model_dir, service, vllm, store=store))
    # The line iteration 1 wrote before the store failed belongs to an unfinished iteration: dropped.
    assert (tmp_path / "out" / "metrics.jsonl").read_text() == ""
    resumed.iteration()
    rows = sqlite3.connect(store).execute("SELECT iteration, policy_version FROM trainer_iterations").fetchall()
    assert rows == [(1, "policy-v1")]
    lines = [json.loads(line) for line in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    assert [line["iteration"] for line in lines] == [1]


def test_an_iteration_without_a_trainable_sample_makes_no_version(tmp_path, model_dir):
    service, vllm = StandInService(solver_rewards=[1.0, 1.0]), StandInVllm()
    try:
        trainer = Trainer(settings(tmp_path / "out", model_dir, service, vllm,
                                   advantages=AdvantageSettings(baseline="group")))
        report = trainer.iteration()
        assert report["new_version"] is False and report["policy_version"] == "base"
        assert report["trained_samples"] == 0 and report["dropped_samples"] == 3
        assert vllm.loads == [] and not (tmp_path / "out" / "adapters" / "policy-v1").exists()
        state = json.loads((tmp_path / "out" / "state.json").read_text())
        assert (state["step"], state["iteration"]) == (0, 1)
        trainer.iteration()
        # The next iteration asks for new steps (its own request id) with the same version.
        assert service.posts[-1]["request_id"].endswith("-i2-s0") and service.posts[-1]["policy_version"] == "base"
    finally:
        service.close()
        vllm.close()


def write_rollout_step(root: Path, step: int, records: list) -> None:
    import hashlib

    directory = root / "rollouts" / f"step_{step:06d}"
    directory.mkdir(parents=True)
    content = "".join(json.dumps(record) + "\n" for record in records)
    (directory / "part-00000.jsonl").write_text(content)
    (directory / "_DONE").write_text(json.dumps({
        "schema": "rollout.v1", "run_id": "r", "step": step, "records": len(records),
        "files": [{"name": "part-00000.jsonl", "records": len(records), "bytes": len(content.encode()),
                   "sha256": hashlib.sha256(content.encode()).hexdigest()}]}))


def test_followed_rollout_steps_already_trained_on_are_not_trained_on_again_after_a_restart(
        tmp_path, model_dir):
    vllm = StandInVllm()
    try:
        followed = tmp_path / "followed"
        write_rollout_step(followed, 0, step_samples("x", [1.0, -1.0], version="base"))
        make = lambda: Trainer(settings(tmp_path / "out", model_dir, None, vllm,  # noqa: E731
                                        follow_rollouts=[str(followed)], staleness=5))
        assert make().iteration()["replayed_samples"] == 3
        report = make().iteration()
        assert report["replayed_samples"] == 0 and report["new_version"] is False
    finally:
        vllm.close()


def test_the_metrics_rl_engineers_read_first_are_reported_and_stored(tmp_path, model_dir, engines):
    service, vllm = engines
    store = make_store(tmp_path / "store.db")
    trainer = Trainer(settings(tmp_path / "out", model_dir, service, vllm, store=store, max_grad_norm=1e-3,
                               recompute_old=True, tis_cap=2.0))
    report = trainer.iteration()
    assert report["grad_norm"] > 0 and report["entropy"] > 0 and report["kl_to_previous"] >= 0
    assert 0 < report["ratio"]["min"] <= report["ratio"]["max"]
    assert report["response_length"] == {"mean": 2.0, "max": 2}
    assert report["stale_samples"] == 0 and report["dropped_samples"] == 0
    assert report["importance_weight"]["mean"] > 0
    # The rollout logprobs (-0.5 in the factory) are not the tiny model's: the mismatch is measured.
    assert report["rollout_vs_trainer"]["tokens"] == 6 and report["rollout_vs_trainer"]["max_abs"] > 0
    # Clipped to 1e-3: the gradient the optimizer stepped with has that norm.
    norm = torch.sqrt(sum((parameter.grad ** 2).sum() for parameter in trainer.policy.parameters))
    assert norm.item() == pytest.approx(1e-3, rel=1e-3)
    (row,) = sqlite3.connect(store).execute("SELECT metrics FROM trainer_iterations").fetchall()
    metrics = json.loads(row[0])
    for name in ("grad_norm", "entropy", "kl_to_previous", "clip_fraction", "ratio.min", "ratio.max",
                 "response_length.mean", "stale_samples", "dropped_samples", "rollout_vs_trainer.max_abs"):
        assert name in metrics, name


def test_the_tool_call_validity_rate_counts_each_episodes_turns_once():
    from swe_selfplay.samples import parse_sample
    from swe_selfplay.train import tool_call_validity
    from factories import record

    def sample(sample_id, turns, errors):
        base = record(sample_id)
        base["meta"].update(episode_turns=turns, format_errors=errors)
        return parse_sample(base)

    assert tool_call_validity([sample("a-s0", 4, 1), sample("a-s1", 4, 1), sample("b-s0", 4, 3)]) == 0.5
    assert tool_call_validity([parse_sample(record())]) is None


def test_the_argument_parser_takes_the_safeguards_and_can_be_extended(tmp_path):
    common = ["--out", str(tmp_path), "--model-dir", "m", "--base-model", "b", "--vllm-url", "http://v",
              "--service", "http://s"]
    parsed = parse_arguments(common + ["--dual-clip", "0", "--max-grad-norm", "0", "--recompute-old",
                                       "--top-p", "0.9", "--temperature", "0.7"])
    assert (parsed.dual_clip, parsed.max_grad_norm, parsed.recompute_old, parsed.tis_cap) == (None, None, True, 2.0)
    assert parsed.rollout.sampling == {"max_tokens": 128, "temperature": 0.7, "top_p": 0.9}
    defaults = parse_arguments(common)
    assert (defaults.dual_clip, defaults.max_grad_norm, defaults.recompute_old) == (3.0, 1.0, False)
    with pytest.raises(SystemExit):
        parse_arguments(common + ["--dual-clip", "0.5"])
    parser = build_parser()
    parser.add_argument("--extra")
    assert parser.parse_args(common + ["--extra", "x"]).extra == "x"


def test_the_trainer_trains_on_every_sample_of_a_step_with_more_than_g_plus_one(tmp_path, model_dir):
    service, vllm = StandInService(solver_rewards=[1.0, -1.0, 1.0, -1.0]), StandInVllm()
    try:
        trainer = Trainer(settings(tmp_path / "out", model_dir, service, vllm))
        report = trainer.iteration()
        assert (report["samples"], report["trained_samples"]) == (5, 5)
    finally:
        service.close()
        vllm.close()


def test_a_non_finite_gradient_makes_no_step_and_no_version(tmp_path, model_dir, engines):
    service, vllm = engines
    trainer = Trainer(settings(tmp_path / "out", model_dir, service, vllm))
    with torch.no_grad():
        for name, parameter in trainer.policy.model.named_parameters():
            if "lora_B" in name:
                parameter.fill_(float("nan"))
    report = trainer.iteration()
    assert report["skipped_steps"] == 1 and report["new_version"] is False and vllm.loads == []
    line = (tmp_path / "out" / "metrics.jsonl").read_text()
    assert "NaN" not in line and json.loads(line)["grad_norm"] is None
