import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from swe_selfplay.client import ReplicaPool, ServiceClient
from swe_selfplay.evaluation import EvaluationFailed, evaluate_iteration
from swe_selfplay.metrics import numeric_metrics
from swe_selfplay.train import parse_arguments

FIGURES = {"resolveRate": 0.25, "interval": {"low": 0.1, "high": 0.5}, "resolved": 2, "attempts": 8,
           "passAtK": {"1": 0.25, "2": 0.4}, "byEnvironment": {"inkwell": {"resolveRate": 0.5}}}


class EvalService:
    """A stand-in of `POST /v1/eval` and `GET /v1/eval/{id}`: running for `polls` reads, then `final`."""

    def __init__(self, polls: int = 2, final: str = "completed"):
        self.posts: list[dict] = []
        self.reads = 0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return None

            def answer(self, body):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def view(self, status):
                return {"evaluation_id": "ev-1", "status": status, "done": 0, "total": 8,
                        "error": None if status == "completed" else "model server gone",
                        "figures": FIGURES if status == "completed" else None}

            def do_POST(self):
                service.posts.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
                self.answer(self.view("running"))

            def do_GET(self):
                service.reads += 1
                self.answer(self.view("running" if service.reads < polls else final))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def write_set(tmp_path):
    path = tmp_path / "set.json"
    path.write_text(json.dumps({"schema": "swe-selfplay.task-set.v1", "name": "s", "tasks": [{"artifact_id": "a"}]}))
    return str(path)


def arguments(tmp_path, *extra):
    return ["--out", str(tmp_path / "out"), "--model-dir", "m", "--base-model", "base", "--vllm-url",
            "http://127.0.0.1:1", "--service", "http://127.0.0.1:2", *extra]


def test_the_flags_make_evaluation_settings_and_refuse_bad_values(tmp_path, capsys):
    settings = parse_arguments(arguments(tmp_path, "--eval-set", write_set(tmp_path), "--eval-every", "2"))
    assert settings.evaluation is not None and settings.evaluation.every == 2
    assert settings.evaluation.inference["kind"] == "vllm"
    assert parse_arguments(arguments(tmp_path)).evaluation is None
    with pytest.raises(SystemExit):
        parse_arguments(arguments(tmp_path, "--eval-set", write_set(tmp_path), "--eval-every", "0"))
    assert "--eval-every must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_arguments(arguments(tmp_path, "--eval-set", str(tmp_path / "missing.json")))
    assert "--eval-set" in capsys.readouterr().err


def test_an_iteration_is_evaluated_through_the_service_when_due(tmp_path):
    service = EvalService(polls=2)
    try:
        settings = parse_arguments(arguments(tmp_path, "--eval-set", write_set(tmp_path), "--eval-every", "2")).evaluation
        settings.poll_s = 1
        pool = ReplicaPool([ServiceClient(service.url)])
        assert evaluate_iteration(settings, pool, 1, "policy-v1") == {}
        assert service.posts == []
        report = evaluate_iteration(settings, pool, 2, "policy-v2")
        assert report["eval"]["resolve_rate"] == 0.25
        assert report["eval"]["resolve_low"] == 0.1 and report["eval"]["resolve_high"] == 0.5
        assert service.posts[0]["policy_version"] == "policy-v2"
        assert service.posts[0]["inference"]["model"] == "policy-v2"
        assert service.posts[0]["attempts"] == 1 and service.posts[0]["task_set"]["name"] == "s"
        flat = numeric_metrics(report)
        assert flat["eval.pass_at.2"] == 0.4 and flat["eval.by_environment.inkwell"] == 0.5
    finally:
        service.close()


def test_an_evaluation_that_ends_without_figures_raises(tmp_path):
    service = EvalService(polls=1, final="failed")
    try:
        settings = parse_arguments(arguments(tmp_path, "--eval-set", write_set(tmp_path))).evaluation
        with pytest.raises(EvaluationFailed, match="failed: model server gone"):
            evaluate_iteration(settings, ReplicaPool([ServiceClient(service.url)]), 1, "policy-v1")
    finally:
        service.close()
