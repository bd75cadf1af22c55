"""Predictions for planned runs as plain rows: inputs, loss, interval, extrapolation warnings."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import ScalinglabError
from ..units import plain


def interval_key(level: float) -> str:
    """The key of a ``level`` interval in rows and JSON: ``ci95``, ``ci90``, ``ci99.5``."""
    return f"ci{100 * level:.10g}"


def level_text(level: float) -> str:
    """``0.9`` -> ``"90%"``, as table titles name an interval."""
    return f"{100 * level:.10g}%"


def check_level(level: float) -> float:
    """An interval level must lie strictly between 0 and 1 (e.g. 0.9 or 0.95)."""
    if not 0 < level < 1:
        raise ScalinglabError(
            f"level must be between 0 and 1 (e.g. 0.9); got {plain(level)}."
        )
    return float(level)


def check_inputs(inputs: Mapping[str, object]) -> dict[str, np.ndarray]:
    """The law inputs of a planned run as float arrays; each must be finite and > 0.

    Raises
    ------
    ScalinglabError
        Naming the input and its bad values (parameters, tokens, FLOPs and the
        like are positive counts).
    """
    arrays = {}
    for name, values in inputs.items():
        try:
            array = np.atleast_1d(np.asarray(values, dtype=float))
        except (TypeError, ValueError):
            raise ScalinglabError(
                f"{name} must be numbers such as 7e9; got {values!r}."
            ) from None
        bad = array[~(np.isfinite(array) & (array > 0))]
        if bad.size:
            raise ScalinglabError(
                f"{name} must be a finite number > 0 (a count such as parameters, tokens or "
                f"FLOPs); got {plain(bad)}."
            )
        arrays[name] = array
    return arrays


def prediction_table(
    result, inputs: Mapping[str, np.ndarray], *, level: float = 0.95
) -> dict:
    """Predicted loss at every combination given (arrays broadcast), with a ``level`` interval when possible.

    The interval is a prediction interval for a new run: bootstrap parameter
    uncertainty plus run-to-run scatter (see ``FitResult.predict_interval``).
    Rows hold it under :func:`interval_key` (``ci95`` at the default level).

    Raises
    ------
    ScalinglabError
        If an input is not a finite positive number or ``level`` is not in (0, 1).
    """
    level = check_level(level)
    arrays = np.broadcast_arrays(*check_inputs(inputs).values())
    flat = {name: a.ravel() for name, a in zip(inputs, arrays)}
    loss = result.predict(**flat)
    interval = (
        result.predict_interval(level, **flat) if result.draws is not None else None
    )
    rows = []
    for i in range(loss.size):
        row = {name: float(values[i]) for name, values in flat.items()}
        row["loss"] = float(loss[i])
        if interval is not None:
            row[interval_key(level)] = [float(interval[0][i]), float(interval[1][i])]
        rows.append(row)
    found = result.extrapolation(**flat)
    if interval is not None:
        found += _interval_misses(loss, interval)
    return {"rows": rows, "diagnostics": [d.to_dict() for d in found]}


def _interval_misses(loss: np.ndarray, interval) -> list:
    """A diagnostic for rows whose interval does not contain their predicted loss."""
    from ..fit.diagnostics import interval_excludes_estimate

    names = (
        ["loss"]
        if loss.size == 1
        else [f"loss (row {i + 1})" for i in range(loss.size)]
    )
    estimates = dict(zip(names, loss.tolist()))
    bounds = dict(zip(names, zip(interval[0].tolist(), interval[1].tolist())))
    return interval_excludes_estimate(estimates, bounds, "prediction")
