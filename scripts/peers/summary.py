"""Prints the figures of `scripts/bench.sh peers` as Markdown tables, each ratio beside issue 16's goal.

    python3 summary.py FIGURES.tsv

FIGURES.tsv holds one measurement per line: `measure<TAB>side<TAB>pass<TAB>value<TAB>load<TAB>others`, where
side is `reprogrid` or the peer's name, load is the one-minute load average just before the measurement and
others the mean number of other processes running then (see repro_peers_sample in scripts/lib/peers.sh). The
ratio of a comparison is the median of its per-pass ratios (ReproGrid / peer): the two sides of a pass ran
back to back, so a pass's ratio is the least disturbed by the other work on the machine.
"""

from __future__ import annotations

import statistics
import sys
from collections import defaultdict

# measure, what ReproGrid ran, peer side, what the peer ran, goal: ratio at least this
COMPARISONS = [
    ("batch10", "ReproGrid batch 10, cycle (tasks/s)", "pgqueuer", "pgqueuer batch 10 (jobs/s)", 0.5),
    ("batch50", "ReproGrid batch 50, cycle (tasks/s)", "pgqueuer", "pgqueuer batch 100 (jobs/s)", 1.0),
    ("ingest", "ReproGrid cycle, 10 metrics (runs/s)", "mlflow", "MLflow create + log-batch + update (runs/s)", 10.0),
]
COMMITS_GOAL = 0.2


def fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}".replace(",", " ")


def main() -> None:
    figures: dict[tuple[str, str], dict[int, tuple[float, str]]] = defaultdict(dict)
    with open(sys.argv[1]) as file:
        for line in file:
            if not line.strip():
                continue
            measure, side, run, value, load, *others = line.rstrip("\n").split("\t")
            machine = f"{float(load):.2f} / " + (f"{float(others[0]):.1f}" if others else "?")
            figures[(measure, side)][int(run)] = (float(value), machine)

    verdicts = []
    for measure, ours, peer, theirs, goal in COMPARISONS:
        a, b = figures.get((measure, "reprogrid"), {}), figures.get((measure, peer), {})
        passes = sorted(set(a) & set(b))
        if not passes:
            verdicts.append(f"- {ours} vs {theirs}: not measured")
            continue
        print(f"\n| {measure} pass | {ours} | load / others | {theirs} | load / others | ratio |")
        print("|---|---:|---:|---:|---:|---:|")
        ratios = []
        for run in passes:
            ratio = a[run][0] / b[run][0]
            ratios.append(ratio)
            print(f"| {run} | {fmt(a[run][0])} | {a[run][1]} | {fmt(b[run][0])} | {b[run][1]} | {ratio:.2f} |")
        median = statistics.median(ratios)
        print(
            f"| median | {fmt(statistics.median(a[r][0] for r in passes))} | | "
            f"{fmt(statistics.median(b[r][0] for r in passes))} | | **{median:.2f}** |"
        )
        held = median >= goal
        verdicts.append(
            f"- {ours} / {theirs}: **{median:.2f}×**, goal ≥ {goal:g}×: "
            + ("**met**" if held else f"**missed** (at {median / goal:.0%} of the goal; {goal / median:.1f}× short)")
        )

    commits = figures.get(("commits", "reprogrid"), {})
    if commits:
        values = [commits[r][0] for r in sorted(commits)]
        median = statistics.median(values)
        verdicts.append(
            f"- ReproGrid commits per task at batch 10: **{median:.3f}** (passes: {', '.join(f'{v:.3f}' for v in values)}), "
            f"goal ≤ {COMMITS_GOAL:g}: "
            + ("**met**" if median <= COMMITS_GOAL else f"**missed** by {median - COMMITS_GOAL:.3f} ({median / COMMITS_GOAL - 1:.0%} over)")
        )
    for peer, label in (("pgqueuer10", "pgqueuer batch 10"), ("pgqueuer100", "pgqueuer batch 100")):
        values = [v for _, (v, _) in sorted(figures.get(("commits", peer), {}).items())]
        if values:
            verdicts.append(f"- {label} commits per job (for comparison): {statistics.median(values):.3f}")

    extras = {side: runs for (measure, side), runs in figures.items() if measure == "variant"}
    if extras:
        print("\n| ReproGrid batch 10, variant | tasks/s | load / others |")
        print("|---|---:|---:|")
        for side, runs in extras.items():  # in the order they ran
            for run, (value, load) in sorted(runs.items()):
                print(f"| {side} (pass {run}) | {fmt(value)} | {load} |")

    print("\nGoals (issue 16):")
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
