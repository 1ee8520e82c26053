"""``python -m sklearn_em_gmm``: select a Gaussian mixture by BIC; see ``--help``."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
