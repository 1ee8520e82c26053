"""Tables and summary of the EM benchmark, as plain text and as Markdown."""

import math
from collections import defaultdict

ITEMSIZE = {"float64": 8, "float32": 4}
MIB = 2**20


def text_table(headers, rows):
    """Rows aligned under their headers; the first column left-aligned.

    Parameters
    ----------
    headers : list of str
    rows : list of list of str

    Returns
    -------
    table : str
    """
    widths = [max(map(len, column)) for column in zip(headers, *rows, strict=True)]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = map(str.rjust, cells[1:], widths[1:])
        return "  ".join([first, *rest])

    return "\n".join([line(headers), *map(line, rows)])


def markdown_table(headers, rows):
    """The same table in GitHub Markdown, numbers right-aligned."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join([":---", *["---:"] * (len(headers) - 1)]) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def markdown_report(info, speed_line, sections, summary):
    """The whole report as a Markdown document.

    Parameters
    ----------
    info : list of (str, str)
        Machine and run description, from ``machine_info``.
    speed_line : str
    sections : list of (str, list of str, list of list of str)
        Title, headers and rows of each table.
    summary : list of str

    Returns
    -------
    text : str
    """
    parts = ["# EM benchmark: sklearn_em_gmm against scikit-learn\n"]
    parts += info_lines(info)
    parts.append(f"- **machine speeds**: {speed_line}\n")
    for title, headers, rows in sections:
        parts += [f"## {title}\n", markdown_table(headers, rows)]
    parts += ["## Summary\n", "```", *summary, "```", ""]
    return "\n".join(parts)


def info_lines(info):
    """Markdown bullets of ``(name, value)`` pairs, the command as code."""
    return [
        f"- **{name}**: `{value}`" if name == "command" else f"- **{name}**: {value}"
        for name, value in info
    ]


def add_filter_argument(parser):
    """The ``--filter`` option of the benchmark scripts."""
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="TEXT",
        help="keep configurations whose label contains TEXT; repeat to require "
        "several, e.g. --filter n=1e6 --filter full",
    )


def geometric_mean(values):
    """Geometric mean of positive numbers (nan for none)."""
    values = list(values)
    if not values:
        return math.nan
    return math.exp(sum(map(math.log, values)) / len(values))


def _ratio_lines(timed):
    by_dtype = defaultdict(list)
    for result in timed:
        by_dtype[result.config.dtype].append(result.ratio)
    per_dtype = ", ".join(
        f"{dtype}: {geometric_mean(ratios):.2f}" for dtype, ratios in by_dtype.items()
    )
    slowest = min(timed, key=lambda r: r.ratio)
    fastest = max(timed, key=lambda r: r.ratio)
    return [
        f"sklearn/ours, geometric mean over {len(timed)} configurations: "
        f"{geometric_mean(r.ratio for r in timed):.2f} ({per_dtype})",
        f"minimum sklearn/ours: {slowest.ratio:.2f} at {slowest.config.label}",
        f"maximum sklearn/ours: {fastest.ratio:.2f} at {fastest.config.label}",
    ]


def _per_dimension_lines(timed):
    cells = defaultdict(list)
    for result in timed:
        config = result.config
        cells[config.covariance_type, config.n_features].append(result.ratio)
    dimensions = sorted({d for _, d in cells})
    covariance_types = list(dict.fromkeys(c for c, _ in cells))
    headers = ["covariance", *(f"d={d}" for d in dimensions)]
    rows = [
        [c, *(f"{geometric_mean(cells.get((c, d), [])):.2f}" for d in dimensions)]
        for c in covariance_types
    ]
    return ["sklearn/ours per d (geometric mean over n, k, dtype):"] + [
        "  " + line for line in text_table(headers, rows).splitlines()
    ]


def _data_mib(config):
    return config.n_samples * config.n_features * ITEMSIZE[config.dtype] / MIB


def _memory_ratio(result):
    return result.extra_mib["sklearn"] / max(result.extra_mib["ours"], 0.1)


def _memory_lines(results):
    measured = [r for r in results if len(r.extra_mib) == 2]
    if not measured:
        return []
    largest = max(r.config.n_samples for r in measured)
    at_largest = [r for r in measured if r.config.n_samples == largest]
    rows = [
        [
            r.config.label,
            f"{_data_mib(r.config):.0f}",
            f"{r.extra_mib['ours']:.1f}",
            f"{r.extra_mib['sklearn']:.1f}",
            f"{_memory_ratio(r):.1f}",
        ]
        for r in at_largest
    ]
    headers = ["configuration", "X MiB", "ours MiB", "sklearn MiB", "sklearn/ours"]
    # a child can measure no extra memory at all (its fit reused freed memory)
    ratios = [ratio for ratio in map(_memory_ratio, at_largest) if ratio > 0]
    return (
        [f"extra peak memory at n={at_largest[0].config.n_label}:"]
        + ["  " + line for line in text_table(headers, rows).splitlines()]
        + [f"  geometric mean of sklearn/ours: {geometric_mean(ratios):.1f}"]
    )


def summary_lines(results):
    """Summary of the same-start results, as lines of text.

    Geometric mean of sklearn/ours over the configurations (and per dtype), the
    smallest and largest ratio and where, the largest relative difference of the
    final ``lower_bound_``, our distance from the machine bound, sklearn/ours per
    ``d`` for each covariance type, and the extra peak memory at the largest ``n``
    measured (ratios use at least 0.1 MiB for ours).

    Parameters
    ----------
    results : list of EMResult

    Returns
    -------
    lines : list of str
    """
    timed = [r for r in results if r.ratios]
    if not timed:
        return ["no configuration timed both implementations"]
    worst = max(timed, key=lambda r: r.relative_lower_bound_difference)
    distances = [r.ms_per_iteration("ours") / (1e3 * r.bound_seconds) for r in results]
    closest = min(results, key=lambda r: r.ms_per_iteration("ours") / r.bound_seconds)
    skipped = len(results) - len(timed)
    lines = _ratio_lines(timed)
    lines += [
        f"largest relative difference of lower_bound_: "
        f"{worst.relative_lower_bound_difference:.1e} at {worst.config.label}",
        f"ours/bound: geometric mean {geometric_mean(distances):.1f}, closest "
        f"{min(distances):.1f} at {closest.config.label}",
    ]
    if skipped:
        lines.append(f"sklearn skipped (over budget) in {skipped} configurations")
    return lines + _per_dimension_lines(timed) + _memory_lines(results)
