"""Draw the plots of docs/user_guide.md (section 4.1) on faithful.

Run from the repository root: ``python docs/images/make_images.py``.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sklearn_em_gmm import GaussianMixtureIC  # noqa: E402
from sklearn_em_gmm.plot import (  # noqa: E402
    plot_classification,
    plot_criterion,
    plot_uncertainty,
)

HERE = Path(__file__).resolve().parent
X = np.loadtxt(
    HERE.parents[1] / "benchmarks" / "data" / "faithful.csv", delimiter=",", skiprows=1
)
search = GaussianMixtureIC().fit(X)
plots = {
    "criterion": lambda ax: plot_criterion(search, ax=ax),
    "classification": lambda ax: plot_classification(search, X, ax=ax),
    "uncertainty": lambda ax: plot_uncertainty(search, X, ax=ax),
}
for name, draw in plots.items():
    fig, ax = plt.subplots(figsize=(6, 4.5))
    draw(ax)
    ax.set_title(f"faithful: {name}")
    fig.tight_layout()
    fig.savefig(HERE / f"faithful_{name}.png", dpi=80)
    plt.close(fig)
