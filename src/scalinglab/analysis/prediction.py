"""Predictions for planned runs as plain rows: inputs, loss, interval, extrapolation warnings."""

from __future__ import annotations

from typing import Mapping

import numpy as np


def prediction_table(result, inputs: Mapping[str, np.ndarray], *, level: float = 0.95) -> dict:
    """Predicted loss at every combination given (arrays broadcast), with a ``level`` interval when possible.

    The interval is a prediction interval for a new run: bootstrap parameter
    uncertainty plus run-to-run scatter (see ``FitResult.predict_interval``).
    """
    arrays = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float)) for v in inputs.values()))
    flat = {name: a.ravel() for name, a in zip(inputs, arrays)}
    loss = result.predict(**flat)
    interval = result.predict_interval(level, **flat) if result.draws is not None else None
    rows = []
    for i in range(loss.size):
        row = {name: float(values[i]) for name, values in flat.items()}
        row["loss"] = float(loss[i])
        if interval is not None:
            row["ci95" if level == 0.95 else f"ci{round(level * 100)}"] = [
                float(interval[0][i]), float(interval[1][i])]
        rows.append(row)
    return {"rows": rows, "diagnostics": [d.to_dict() for d in result.extrapolation(**flat)]}
