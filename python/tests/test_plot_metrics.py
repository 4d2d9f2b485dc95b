import sqlite3

import pytest

from swe_selfplay.metrics import append_jsonl, numeric_metrics, read_jsonl, record_in_store, solve_rate_histogram


def report(iteration):
    return {"iteration": iteration, "reward_mean": {"proposer": -1.0, "solver": 0.5 * iteration},
            "solve_rate_mean": 0.25, "loss": 0.1, "time_s": {"rollout": 5.0, "training": 3.0, "hotload": 0.1},
            "solve_rate_histogram": {"0": 1, "1": 0}, "rejected": [{"sample_id": "x"}], "probe": {}}


def test_histogram_buckets():
    assert solve_rate_histogram([0, 0.1, 0.5, 0.8, 1.0, 1.0]) == {
        "0": 1, "(0,0.25]": 1, "(0.25,0.5]": 1, "(0.5,0.75]": 0, "(0.75,1)": 1, "1": 2}


def test_metrics_go_to_jsonl_and_the_store_table(tmp_path):
    path = tmp_path / "metrics.jsonl"
    append_jsonl(path, report(1))
    append_jsonl(path, report(2))
    assert [row["iteration"] for row in read_jsonl(path)] == [1, 2]
    store = tmp_path / "store.db"
    connection = sqlite3.connect(store)
    connection.executescript("""
      CREATE TABLE runs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL);
      CREATE TABLE trainer_iterations (run_id TEXT NOT NULL REFERENCES runs(id), iteration INTEGER NOT NULL,
        policy_version TEXT NOT NULL, metrics TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (run_id, iteration));
      INSERT INTO runs VALUES ('old', '2026-01-01'), ('new', '2026-02-01');""")
    connection.commit()
    assert record_in_store(store, None, 1, "policy-v1", report(1)) == "new"
    record_in_store(store, "new", 1, "policy-v1", report(3))
    rows = connection.execute("SELECT run_id, iteration, policy_version, metrics FROM trainer_iterations").fetchall()
    assert len(rows) == 1 and rows[0][:3] == ("new", 1, "policy-v1")
    assert '"reward_mean.solver": 1.5' in rows[0][3]
    assert numeric_metrics({"a": {"b": 1}, "c": None, "d": float("nan"), "e": True}) == {"a.b": 1.0}
    with pytest.raises(FileNotFoundError):
        record_in_store(tmp_path / "none.db", None, 1, "v", {})


def test_the_plot_is_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    from swe_selfplay.plot import plot

    path = tmp_path / "metrics.jsonl"
    for iteration in (1, 2, 3):
        append_jsonl(path, report(iteration))
    plot(str(path), str(tmp_path / "plot.png"))
    assert (tmp_path / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
