"""The command line's text: the data, the grid's criterion table and the best model.

Every ``format_*`` function returns text (a line or a list of lines) and prints
nothing.
"""

import textwrap

import numpy as np

from ..covariance import get_covariance_model

MAX_WIDTH = 100  # the widest line of the report before the selected model


def table(header, rows, left_first=False):
    """Text table of strings, right-aligned (optionally the first column left)."""
    lines_of_cells = [header, *rows]
    widths = [max(len(row[j]) for row in lines_of_cells) for j in range(len(header))]
    lines = []
    for row in lines_of_cells:
        cells = [cell.rjust(width) for cell, width in zip(row, widths, strict=True)]
        if left_first:
            cells[0] = row[0].ljust(widths[0])
        lines.append("  ".join(cells).rstrip())
    return lines


def blocks(header, rows, width=MAX_WIDTH):
    """:func:`table` split into blocks of columns, each repeating the first
    column, so that no line is wider than ``width``; blocks apart by a blank line.
    """
    columns = [[row[j] for row in [header, *rows]] for j in range(len(header))]
    sizes = [max(map(len, column)) for column in columns]
    groups, group, used = [], [], sizes[0]
    for j in range(1, len(header)):
        if group and used + 2 + sizes[j] > width:
            groups.append(group)
            group, used = [], sizes[0]
        group.append(j)
        used += 2 + sizes[j]
    groups.append(group)
    lines = []
    for group in groups:
        if lines:
            lines.append("")
        keep = [0, *group]
        lines.extend(
            table([header[j] for j in keep], [[row[j] for j in keep] for row in rows])
        )
    return lines


def model_label(code):
    """``'VVV (full)'``: an mclust code with its sklearn name, if it has one."""
    name = get_covariance_model(code).name
    return code if name == code else f"{code} ({name})"


def format_data_summary(dataset, standardized):
    """One line describing the data that was fitted."""
    n_samples, n_features = dataset.X.shape
    details = []
    if dataset.delimiter != ",":
        details.append(f"delimiter {dataset.delimiter!r}")
    if dataset.has_header:
        details.append("header row read as column names")
    if standardized:
        details.append("columns standardized; scores are on that scale")
    suffix = f" ({'; '.join(details)})" if details else ""
    return f"Data: {dataset.source}, {n_samples} rows x {n_features} columns{suffix}"


def format_fit_summary(search, elapsed):
    """Two lines: the size and time of the grid, and the shared settings."""
    results = search.results_
    n_components = len(set(results["n_components"].tolist()))
    n_models = len(set(results["covariance_type"].tolist()))
    names = (
        "init_params",
        "tol",
        "reg_covar",
        "max_iter",
        "stopping_rule",
        "on_degenerate",
        "n_init",
        "random_state",
    )
    params = search.get_params()
    settings = ", ".join(f"{name}={params[name]!r}" for name in names)
    return [
        f"Fitted {len(results['status'])} models ({n_components} n_components x "
        f"{n_models} covariance models) in {elapsed:.2f} s",
        *textwrap.wrap(f"Settings: {settings}", MAX_WIDTH, subsequent_indent="  "),
    ]


def format_criterion_table(search, repairs=0):
    """The criterion of every cell, rows n_components, columns models, and notes:
    non-converged fits, ``repairs`` of degenerate components, failed fits."""
    results = search.results_
    criterion = search.criterion
    values = results[criterion]
    best = int(np.nanargmin(values))

    def cell(i):
        if results["status"][i]:
            return "failed  "
        marks = ("*" if i == best else "") + ("" if results["converged"][i] else "!")
        return f"{values[i]:.2f}{marks:<2}"

    models = list(dict.fromkeys(results["covariance_type"].tolist()))
    components = list(dict.fromkeys(results["n_components"].tolist()))
    index = {
        (k, model): i
        for i, (k, model) in enumerate(
            zip(results["n_components"], results["covariance_type"], strict=True)
        )
    }
    header = ["n_components", *(f"{model}  " for model in models)]
    rows = [[str(k), *(cell(index[k, model]) for model in models)] for k in components]
    name = criterion.upper()
    sign = "" if criterion == "aic" else "; mclust prints the negative"
    lines = [f"{name} (lower is better{sign}):", *blocks(header, rows)]
    lines.append(f"  * lowest {name}")
    named = [label for label in map(model_label, models) if " " in label]
    if named:
        lines.append(f"  sklearn's names: {', '.join(named)}")
    n_cells = len(values)
    not_converged = int(np.sum(~results["converged"] & (results["status"] == "")))
    if not_converged:
        lines.append(
            f"  ! did not converge within max_iter ({not_converged} of "
            f"{n_cells} fits; ConvergenceWarning suppressed)"
        )
    if repairs:
        lines.append(
            f"  {repairs} degenerate component(s) repaired (on_degenerate='recover'; "
            "DegenerateComponentWarning suppressed)"
        )
    lines.extend(_format_failures(results))
    return lines


def _format_failures(results):
    """Each distinct failure reason once, with the cells it hit."""
    by_reason = {}
    for k, model, status in zip(
        results["n_components"],
        results["covariance_type"],
        results["status"],
        strict=True,
    ):
        if status:
            by_reason.setdefault(status, []).append(f"{k}/{model}")
    lines = []
    for reason, cells in by_reason.items():
        heading = (
            f"failed: {len(cells)} of {len(results['status'])} fits "
            f"(n_components/model {', '.join(cells)}), because:"
        )
        lines += textwrap.wrap(
            heading, MAX_WIDTH, initial_indent="  ", subsequent_indent="    "
        )
        lines += textwrap.wrap(
            reason, MAX_WIDTH, initial_indent="    ", subsequent_indent="    "
        )
    return lines


def format_selected(search, X, column_names, center=None, scale=None):
    """The selected model: its settings, scores, weights and means."""
    model = search.best_estimator_
    name = search.criterion.upper()
    means = model.means_
    unit_note = ""
    if scale is not None:
        means = means * scale + center
        unit_note = " (means in original units)"
    lines = [
        f"Selected model (lowest {name}):",
        f"  n_components         {search.n_components_}",
        f"  covariance_type      {model_label(search.covariance_type_)}",
    ]
    if search.criterion != "bic":
        lines.append(f"  {name:<21}{search.criterion_:.6f}")
    lines += [
        f"  BIC                  {model.bic(X):.6f}",
        f"  mean log-likelihood  {model.score(X):.6f}",
        f"  converged            {'yes' if model.converged_ else 'no'} "
        f"after {model.n_iter_} iterations",
        f"Weights and means, one column per component{unit_note}:",
    ]
    header = ["component", *(str(k) for k in range(search.n_components_))]
    rows = [["weight", *(f"{weight:.4f}" for weight in model.weights_)]]
    rows += [
        [column, *(f"{value:.5g}" for value in values)]
        for column, values in zip(column_names, means.T, strict=True)
    ]
    lines.extend("  " + line for line in table(header, rows, left_first=True))
    return lines
