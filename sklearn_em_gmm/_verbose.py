"""Progress messages of a fit, worded and timed as sklearn's."""

from time import time


class ProgressPrinter:
    """Prints sklearn's ``verbose`` messages: 1 for steps, 2 and more adds timings."""

    def __init__(self, verbose, verbose_interval):
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self._init_start = self._iter_start = time()

    def init_begin(self, init):
        if self.verbose >= 1:
            print(f"Initialization {init}")
            self._init_start = self._iter_start = time()

    def iteration_end(self, n_iter, change):
        if n_iter % self.verbose_interval != 0:
            return
        if self.verbose == 1:
            print(f"  Iteration {n_iter}")
        elif self.verbose >= 2:
            now = time()
            elapsed = now - self._iter_start
            print(
                f"  Iteration {n_iter}\t time lapse {elapsed:.5f}s\t"
                f" ll change {change:.5f}"
            )
            self._iter_start = now

    def init_end(self, lower_bound, converged):
        status = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {status}.")
        elif self.verbose >= 2:
            elapsed = time() - self._init_start
            print(
                f"Initialization {status}. time lapse {elapsed:.5f}s\t lower bound"
                f" {lower_bound:.5f}."
            )
