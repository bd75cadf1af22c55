"""Compare a plan with the study it resumes: which runs and which fields changed.

A study stores each run's resolved config (the planned run plus what the trainer
adds: schedule details, optimizer settings, the external command). Resuming with
a plan whose runs differ would keep the old finished runs next to new ones and
mix two designs in one table, so :class:`~scalinglab.run.store.Study` refuses it
with :class:`PlanChanged`, which names every differing run and field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ScalinglabError

__all__ = ["PlanChanged", "PlanDiff", "diff_configs", "flatten"]

# Floats that differ by less than this (relative) are one value: a design never
# differs by 1e-9, but a learning rate recomputed by another numpy build might.
FLOAT_RTOL = 1e-9
ABSENT = "(absent)"


@dataclass(frozen=True)
class PlanDiff:
    """How a plan differs from the study it is run into.

    Attributes
    ----------
    changed
        ``{run_id: {field: (stored value, planned value)}}`` for stored runs whose
        config differs; nested fields are dotted (``shape.d_model``,
        ``trainer.weight_decay``) and a missing field reads ``"(absent)"``.
    removed
        Stored runs the plan does not have.
    added
        Planned runs the study does not have yet.
    """

    changed: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)
    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()

    @property
    def compatible(self) -> bool:
        """True when the plan keeps every stored run unchanged (it may add runs)."""
        return not self.changed and not self.removed


class PlanChanged(ScalinglabError):
    """The plan changed runs of an existing study; carries the :class:`PlanDiff`."""

    def __init__(self, study: str, diff: PlanDiff) -> None:
        self.study, self.diff = study, diff
        super().__init__(_message(study, diff))


def diff_configs(
    stored: dict[str, dict[str, Any]], planned: dict[str, dict[str, Any]]
) -> PlanDiff:
    """Compare stored run configs with planned ones, run by run and field by field.

    Parameters
    ----------
    stored, planned
        ``{run_id: config}``; configs are JSON-like nested dicts. Run order is
        kept: ``added`` follows the plan's order.

    Returns
    -------
    PlanDiff
    """
    changed = {}
    for run_id, config in stored.items():
        if run_id in planned:
            fields = _field_changes(flatten(config), flatten(planned[run_id]))
            if fields:
                changed[run_id] = fields
    return PlanDiff(
        changed=changed,
        removed=tuple(r for r in stored if r not in planned),
        added=tuple(r for r in planned if r not in stored),
    )


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one level with dotted keys: ``{"shape": {"d_model": 64}}``
    becomes ``{"shape.d_model": 64}``."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _field_changes(
    old: dict[str, Any], new: dict[str, Any]
) -> dict[str, tuple[Any, Any]]:
    out = {}
    for name in sorted(set(old) | set(new)):
        if name not in old or name not in new or not _same(old[name], new[name]):
            out[name] = (old.get(name, ABSENT), new.get(name, ABSENT))
    return out


def _same(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return math.isclose(a, b, rel_tol=FLOAT_RTOL, abs_tol=0.0)
    return type(a) is type(b) and a == b


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _message(study: str, diff: PlanDiff) -> str:
    head = (
        f"study {study} was run with a different plan; running this one into it "
        "would mix two designs in one table, so nothing was run and nothing in the "
        "study was changed."
    )
    lines = [head]
    if diff.changed:
        lines.append(f"{len(diff.changed)} run(s) differ (stored -> planned):")
        lines += [f"  {run}: {_fields(fields)}" for run, fields in diff.changed.items()]
    if diff.removed:
        lines.append(
            f"{len(diff.removed)} stored run(s) are not in the plan: "
            + ", ".join(diff.removed)
        )
    base = Path(study) if Path(study).name else Path(study).resolve()
    lines.append(
        "To run this plan, give a new --study directory, or pass --new-study to run "
        f"it in the first free {base}-2, {base}-3, ... (this study is kept as it "
        "is). To resume this study, run it with its original plan."
    )
    return "\n".join(lines)


def _fields(fields: dict[str, tuple[Any, Any]]) -> str:
    return "; ".join(f"{k} {_show(a)} -> {_show(b)}" for k, (a, b) in fields.items())


def _show(value: Any) -> str:
    if isinstance(value, str) and value != ABSENT:
        return repr(value)
    return "none" if value is None else str(value)
