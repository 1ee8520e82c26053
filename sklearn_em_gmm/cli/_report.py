"""The command line's text: the data, the grid's BIC table and the selected model.

Every ``format_*`` function returns text (a line or a list of lines) and prints
nothing.
"""

from ..covariance import get_covariance_model


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


def format_data_summary(dataset, standardized):
    """One line describing the data that was fitted."""
    n_samples, n_features = dataset.X.shape
    details = []
    if dataset.has_header:
        details.append("header row read as column names")
    if standardized:
        details.append(
            "columns standardized; BIC and log-likelihoods are on that scale"
        )
    suffix = f" ({'; '.join(details)})" if details else ""
    return f"Data: {dataset.source}, {n_samples} rows x {n_features} columns{suffix}"


def format_fit_summary(fits, elapsed, params):
    """Two lines: the size and time of the grid, and the shared settings."""
    components = {k for k, _ in fits}
    covariance_types = {name for _, name in fits}
    settings = ", ".join(f"{key}={value!r}" for key, value in params.items())
    return [
        f"Fitted {len(fits)} models ({len(components)} n_components x "
        f"{len(covariance_types)} covariance types) in {elapsed:.2f} s",
        f"Settings: {settings}",
    ]


def format_bic_table(fits, components, covariance_types, best):
    """The BIC of every cell, rows n_components, columns covariance types."""

    def cell(fit):
        if fit.failed:
            return "failed  "
        marks = ("*" if fit is best else "") + ("" if fit.converged else "!")
        return f"{fit.bic:.2f}{marks:<2}"

    header = ["n_components", *(f"{name}  " for name in covariance_types)]
    rows = [
        [str(k), *(cell(fits[k, name]) for name in covariance_types)]
        for k in components
    ]
    lines = ["BIC (lower is better):", *table(header, rows)]
    lines.append("  * lowest BIC")
    not_converged = sum(not f.failed and not f.converged for f in fits.values())
    if not_converged:
        lines.append(
            f"  ! did not converge within max_iter ({not_converged} of "
            f"{len(fits)} fits; ConvergenceWarning suppressed)"
        )
    lines.extend(_format_failures(fits))
    return lines


def _format_failures(fits):
    """Each distinct fit error once, with the cells it hit."""
    by_reason = {}
    for fit in fits.values():
        if fit.failed:
            by_reason.setdefault(fit.error, []).append(
                f"{fit.n_components}/{fit.covariance_type}"
            )
    lines = []
    for reason, cells in by_reason.items():
        lines.append(
            f"  failed: {len(cells)} of {len(fits)} fits "
            f"(n_components/covariance_type {', '.join(cells)}), because:"
        )
        lines.append(f"    {reason}")
    return lines


def format_selected(best, column_names, center=None, scale=None):
    """The selected model: its settings, scores, weights and means."""
    model = best.model
    code = get_covariance_model(best.covariance_type).mclust_code
    means = model.means_
    unit_note = ""
    if scale is not None:
        means = means * scale + center
        unit_note = " (means in original units)"
    lines = [
        "Selected model (lowest BIC):",
        f"  n_components         {best.n_components}",
        f"  covariance_type      {best.covariance_type} ({code})",
        f"  BIC                  {best.bic:.6f}",
        f"  mean log-likelihood  {best.mean_log_likelihood:.6f}",
        f"  converged            {'yes' if best.converged else 'no'} "
        f"after {model.n_iter_} iterations",
        f"Weights and means, one column per component{unit_note}:",
    ]
    header = ["component", *(str(k) for k in range(best.n_components))]
    rows = [["weight", *(f"{weight:.4f}" for weight in model.weights_)]]
    rows += [
        [name, *(f"{value:.5g}" for value in column)]
        for name, column in zip(column_names, means.T, strict=True)
    ]
    lines.extend("  " + line for line in table(header, rows, left_first=True))
    return lines
