"""Benchmark: fit the multi-power law to a 1,000,000-point loss curve; print time and peak memory.

Run: ``python benchmarks/bench_curves.py``. The curve is a 1,000,000-step WSD run
logged at every step (loss from the published 100M parameters plus 0.2 % noise);
``fit_curves`` aggregates it to at most 1,000 points (see scalinglab.analysis.curves).
Peak memory is the process's maximum resident set size (``resource.getrusage``).

Exits 1 when the fit takes more than ``MAX_SECONDS`` or the peak exceeds ``MAX_MIB``
(the README's numbers, docs/claims.md): measured 2.7 and 3.1 s at load average 5 and
5.4 s at about 10 on 2 cores (load moved it 2x), so the bound is twice the slowest; peak
379-382 MiB across runs, so 400 MiB (5% above the highest) flags a real change.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np

from scalinglab.analysis.curves import Curve, fit_curves
from scalinglab.laws.curves import MULTIPOWER_PUBLISHED, build_design, multipower_law
from scalinglab.schedules import wsd

MAX_SECONDS = 11.0
MAX_MIB = 400.0


def main(n: int = 1_000_000) -> bool:
    """Fit, print time and memory; True when both are within their bounds."""
    truth = MULTIPOWER_PUBLISHED["100M"]
    schedule = wsd(n, 3e-5, decay=0.2, shape="linear", final=3e-6, warmup=10_000)
    steps = np.arange(10_000, n)
    anchor = steps[:: max(1, n // 4000)]
    design = build_design([schedule.lr], [anchor])
    smooth = multipower_law(design).predict(truth, point=np.arange(anchor.size))
    loss = np.interp(steps, anchor, smooth)
    loss *= np.exp(2e-3 * np.random.default_rng(0).standard_normal(steps.size))
    curve = Curve("bench", schedule, steps, loss)
    start = time.perf_counter()
    fit = fit_curves([curve], law="multipower", bootstrap=0)
    elapsed = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"points: {steps.size:,} (aggregated to {fit.curves[0]['points']})")
    print(
        f"fit time: {elapsed:.2f} s   peak RSS: {peak_mib:.0f} MiB   converged: {fit.converged}"
    )
    print("params:", {k: round(v, 4) for k, v in fit.params.items()})
    within = elapsed <= MAX_SECONDS and peak_mib <= MAX_MIB
    if not within:
        print(f"over the bounds: {MAX_SECONDS:.0f} s, {MAX_MIB:.0f} MiB")
    return within


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
