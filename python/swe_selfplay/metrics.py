"""Per-iteration trainer metrics: a JSON-lines file beside the adapters and, when a store is given, the
store's `trainer_iterations` table, which `run` summaries and the dashboard read."""

from __future__ import annotations

import json
import math
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SOLVE_RATE_BUCKETS = ("0", "(0,0.25]", "(0.25,0.5]", "(0.5,0.75]", "(0.75,1)", "1")


def solve_rate_bucket(rate: float) -> str:
    if rate <= 0:
        return "0"
    if rate >= 1:
        return "1"
    for upper, name in ((0.25, "(0,0.25]"), (0.5, "(0.25,0.5]"), (0.75, "(0.5,0.75]")):
        if rate <= upper:
            return name
    return "(0.75,1)"


def solve_rate_histogram(rates: list[float]) -> dict[str, int]:
    histogram = {bucket: 0 for bucket in SOLVE_RATE_BUCKETS}
    for rate in rates:
        histogram[solve_rate_bucket(rate)] += 1
    return histogram


def finite_or_none(value: Any) -> Any:
    """The record with every NaN or infinite number as None: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite_or_none(item) for item in value]
    return value


def append_jsonl(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(finite_or_none(record), sort_keys=True, allow_nan=False) + "\n")
        file.flush()
        os.fsync(file.fileno())


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    if not Path(path).is_file():
        return []
    return [json.loads(line) for line in Path(path).read_text("utf-8").splitlines() if line.strip()]


def numeric_metrics(record: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The finite numbers of a (nested) metrics record, flattened with dots: what the store keeps."""
    flat: dict[str, float] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(numeric_metrics(value, name + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            flat[name] = float(value)
    return flat


def record_in_store(store: str | os.PathLike[str], run_id: str | None, iteration: int, version: str,
                    metrics: dict[str, Any]) -> str:
    """Writes (or replaces) one iteration's numeric metrics; returns the run id used (the store's newest
    run when none is given). The store must exist: the service or `run` creates it."""
    if not Path(store).is_file():
        raise FileNotFoundError(f"store {store} does not exist")
    connection = sqlite3.connect(str(store), timeout=30)
    try:
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute("PRAGMA foreign_keys = ON")
        if run_id is None:
            row = connection.execute("SELECT id FROM runs ORDER BY created_at DESC LIMIT 1").fetchone()
            if row is None:
                raise ValueError(f"store {store} has no run to record trainer metrics under")
            run_id = str(row[0])
        with connection:
            connection.execute(
                """INSERT INTO trainer_iterations (run_id, iteration, policy_version, metrics, created_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (run_id, iteration) DO UPDATE SET
                     policy_version = excluded.policy_version, metrics = excluded.metrics,
                     created_at = excluded.created_at""",
                (run_id, iteration, version, json.dumps(numeric_metrics(metrics)),
                 datetime.now(timezone.utc).isoformat()),
            )
        return run_id
    finally:
        connection.close()
