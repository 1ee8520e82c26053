"""Check the Markdown reports of ``bench_em.py`` against the speed targets of issue 3.

The grid is usually run in parts (by ``--filter n=...``, each with its own budget);
this reads the same-start tables of all parts (where a configuration appears in
several, the last report that timed both sides counts for its timing, except that a
memory run's one short round does not replace another report's timing) and prints,
over them, the summary the targets are stated in: geometric means, the smallest
ratios, each target with the configurations it covers (and how many of those below it
have a ``ratio ceiling`` below it too: there the bound plus numpy's exp rule the target
out), float32 against float64, and peak memory.

    python benchmarks/targets.py report-1e4.md report-1e5.md report-1e6.md
"""

import argparse
import math
import re
from collections import defaultdict
from pathlib import Path

from _report import geometric_mean

_LABEL = re.compile(r"n=(\S+) d=(\d+) k=(\d+) (\w+) (float\d+)")


def same_start_rows(path):
    """The rows of a report's same-start table, as dicts keyed by header."""
    lines = Path(path).read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## Same start"))
    table = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            table.append([cell.strip() for cell in line.strip("|").split("|")])
    headers, rows = table[0], table[2:]
    return [dict(zip(headers, row, strict=True)) for row in rows]


def _number(text):
    try:
        return float(text)
    except ValueError:
        return math.nan


def parse(rows):
    """Per configuration: its parts, our and sklearn's ms/it, ratio, MiB of both."""
    results = []
    for row in rows:
        n, d, k, covariance_type, dtype = _LABEL.match(row["configuration"]).groups()
        results.append(
            {
                "label": row["configuration"],
                "n": float(n),
                "d": int(d),
                "k": int(k),
                "covariance_type": covariance_type,
                "dtype": dtype,
                "ours": _number(row["ours ms/it"]),
                "ratio": _number(row["sklearn/ours"]),
                # reports before the exp column have no ceiling
                "ceiling": _number(row.get("ratio ceiling", "-")),
                "ours_mib": _number(row["ours MiB"]),
                "sklearn_mib": _number(row["sklearn MiB"]),
            }
        )
    return results


def _target_line(name, results, threshold):
    ratios = [r for r in results if not math.isnan(r["ratio"])]
    if not ratios:
        return f"{name}: no configuration measured"
    worst = min(ratios, key=lambda r: r["ratio"])
    below = [r for r in ratios if r["ratio"] < threshold]
    verdict = "met" if not below else f"NOT met in {len(below)} of {len(ratios)}"
    out_of_reach = sum(r["ceiling"] < threshold for r in below)
    if out_of_reach:
        verdict += f" ({out_of_reach} with a ratio ceiling below the target)"
    mean = geometric_mean(r["ratio"] for r in ratios)
    return (
        f"{name} (>= {threshold}x): {verdict}; minimum {worst['ratio']:.2f} at "
        f"{worst['label']}, geometric mean {mean:.2f}"
    )


def summary(results):
    timed = [r for r in results if not math.isnan(r["ratio"])]
    lines = [
        f"configurations with both timed: {len(timed)} of {len(results)}",
        f"geometric mean sklearn/ours over the grid: "
        f"{geometric_mean(r['ratio'] for r in timed):.2f}",
    ]
    for dtype in ("float64", "float32"):
        part = [r for r in timed if r["dtype"] == dtype]
        if part:
            lines.append(
                f"  {dtype}: {geometric_mean(r['ratio'] for r in part):.2f} "
                f"over {len(part)}"
            )
    slowest = sorted(timed, key=lambda r: r["ratio"])[:5]
    lines.append(
        "smallest sklearn/ours: "
        + ", ".join(f"{r['ratio']:.2f} ({r['label']})" for r in slowest)
    )
    large_n = [r for r in timed if r["n"] >= 1e5]
    full_tied = ("full", "tied")
    lines += [
        "targets:",
        _target_line(
            "  d=2, n>=1e5, every type", [r for r in large_n if r["d"] == 2], 15
        ),
        _target_line(
            "  d=8, n>=1e5, full/tied",
            [r for r in large_n if r["d"] == 8 and r["covariance_type"] in full_tied],
            8,
        ),
        _target_line(
            "  d=8, n>=1e5, diag/spherical",
            [
                r
                for r in large_n
                if r["d"] == 8 and r["covariance_type"] not in full_tied
            ],
            5,
        ),
        _target_line("  d=32", [r for r in timed if r["d"] == 32], 3),
        _target_line("  d=128", [r for r in timed if r["d"] == 128], 1.5),
        _target_line("  whole grid, none slower", timed, 1),
    ]
    lines += _float32_lines(results) + _memory_lines(results)
    return lines


def _float32_lines(results):
    """Our float64 time over our float32 time, at d >= 32."""
    ours = {
        (r["n"], r["d"], r["k"], r["covariance_type"], r["dtype"]): r["ours"]
        for r in results
    }
    speedups = defaultdict(list)
    for (n, d, k, covariance_type, dtype), seconds in ours.items():
        if dtype == "float32" and d >= 32:
            float64 = ours.get((n, d, k, covariance_type, "float64"))
            if float64:
                speedups[covariance_type].append(float64 / seconds)
    lines = ["ours float64 / ours float32 at d >= 32 (target >= 1.5):"]
    for covariance_type, values in speedups.items():
        lines.append(
            f"  {covariance_type}: geometric mean {geometric_mean(values):.2f}, "
            f"range {min(values):.2f}-{max(values):.2f} over {len(values)}"
        )
    return lines


def _memory_lines(results):
    measured = [
        r
        for r in results
        if not math.isnan(r["ours_mib"]) and not math.isnan(r["sklearn_mib"])
    ]
    lines = ["extra peak memory (target: ours <= 1/4 of sklearn's at n=1e6):"]
    for r in measured:
        share = r["ours_mib"] / r["sklearn_mib"]
        lines.append(
            f"  {r['label']}: ours {r['ours_mib']:.1f} MiB, sklearn "
            f"{r['sklearn_mib']:.0f} MiB, ours/sklearn {share:.3f}"
        )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="Markdown reports of bench_em.py")
    args = parser.parse_args()
    results = {}
    for path in args.reports:
        for result in parse(same_start_rows(path)):
            results[result["label"]] = _merged(results.get(result["label"]), result)
    print("\n".join(summary(list(results.values()))))


def _merged(earlier, later):
    """A configuration measured in two reports: the timing of the later one that
    timed both sides, unless it is a memory run (one short round) and the earlier
    timed both; the memory of whichever measured it, the later first."""
    if earlier is None:
        return later
    merged = dict(later)
    later_is_memory_run = not math.isnan(later["ours_mib"])
    if math.isnan(later["ratio"]) or (
        later_is_memory_run and not math.isnan(earlier["ratio"])
    ):
        merged.update(
            ours=earlier["ours"], ratio=earlier["ratio"], ceiling=earlier["ceiling"]
        )
    if not later_is_memory_run:
        merged.update(ours_mib=earlier["ours_mib"], sklearn_mib=earlier["sklearn_mib"])
    return merged


if __name__ == "__main__":
    main()
