"""Figures for decisions: pass@k versus k, and the lifetime frontier.

matplotlib is imported lazily; each function returns a Figure.
"""

from __future__ import annotations

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def testtime_figure(fits):
    """pass@k against k (log axis) per model: observed with intervals, the power law, the Beta forecast.

    Parameters
    ----------
    fits : list of (model name or None, :class:`~scalinglab.decide.testtime.TestTimeFit`).
    """
    from ..decide.testtime import beta_pass_at_k

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for i, (name, fit) in enumerate(fits):
        color = f"C{i}"
        top = max(r["k"] for r in fit.pass_at_k)
        k = np.geomspace(1, max(top, fit.samples_per_problem), 200)
        label = f"{name}: " if name else ""
        ax.plot(
            k,
            np.exp(-fit.params["a"] * k ** -fit.params["b"]),
            "-",
            color=color,
            label=f"{label}law -log pass@k = a k^-b",
        )
        ax.plot(
            k,
            beta_pass_at_k(fit.beta["alpha"], fit.beta["beta"], k),
            "--",
            color=color,
            label=f"{label}Beta forecast",
        )
        seen = [r for r in fit.pass_at_k if r["observed"] is not None]
        if seen:
            y = np.array([r["observed"] for r in seen])
            ci = np.array([r["observed_ci95"] or [r["observed"]] * 2 for r in seen])
            ax.errorbar(
                [r["k"] for r in seen],
                y,
                yerr=[y - ci[:, 0], ci[:, 1] - y],
                fmt="o",
                color=color,
                ms=4,
                capsize=2,
                label=f"{label}observed (unbiased)",
            )
    ax.set_xscale("log")
    ax.set_xlabel("samples per problem k")
    ax.set_ylabel("pass@k")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
