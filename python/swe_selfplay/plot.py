"""Plots a trainer's metrics.jsonl: mean reward per role and mean solve rate per iteration, and the time
split of each iteration (rollout, training, hot-load). `python -m swe_selfplay.plot METRICS OUT.png`."""

from __future__ import annotations

import sys

from .metrics import read_jsonl


def plot(metrics_path: str, out_path: str, title: str = "swe-selfplay reference trainer") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_jsonl(metrics_path)
    if not rows:
        raise ValueError(f"{metrics_path} holds no iterations")
    iterations = [row["iteration"] for row in rows]

    def series(get):
        return [get(row) if get(row) is not None else float("nan") for row in rows]

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    top.plot(iterations, series(lambda row: row["reward_mean"].get("solver")), "o-", label="solver reward (mean)")
    top.plot(iterations, series(lambda row: row["reward_mean"].get("proposer")), "s-", label="proposer reward (mean)")
    top.plot(iterations, series(lambda row: row.get("solve_rate_mean")), "^-", label="solve rate (mean)")
    top.axhline(0, color="grey", linewidth=0.5)
    top.set_ylabel("reward / solve rate")
    top.legend(loc="best")
    top.set_title(title)
    times = {name: series(lambda row, name=name: row["time_s"].get(name)) for name in ("rollout", "training", "hotload")}
    bottom_stack = [0.0] * len(rows)
    for name, values in times.items():
        bottom.bar(iterations, values, bottom=bottom_stack, label=name)
        bottom_stack = [a + (b if b == b else 0.0) for a, b in zip(bottom_stack, values)]
    bottom.set_xlabel("iteration (policy version trained)")
    bottom.set_ylabel("seconds")
    bottom.legend(loc="best")
    figure.tight_layout()
    figure.savefig(out_path, dpi=100)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print("usage: python -m swe_selfplay.plot METRICS.jsonl OUT.png [TITLE]", file=sys.stderr)
        return 2
    plot(args[0], args[1], *(args[2:3]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
