"""Plan files: JSON or YAML, chosen by the file name's suffix."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import ScalinglabError
from .design import Plan

__all__ = ["save_plan", "load_plan"]

_JSON = (".json",)
_YAML = (".yaml", ".yml")


def save_plan(plan: Plan, path: str | os.PathLike) -> Path:
    """Write ``plan`` to ``path`` (``.json``, ``.yaml`` or ``.yml``); return the path."""
    path = Path(path)
    suffix = _suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = plan.to_dict()
    if suffix in _JSON:
        text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    else:
        import yaml

        text = yaml.safe_dump(data, sort_keys=False)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_plan(path: str | os.PathLike) -> Plan:
    """Read a plan written by :func:`save_plan` (or by hand in the same layout)."""
    path = Path(path)
    suffix = _suffix(path)
    if not path.is_file():
        raise ScalinglabError(
            f"plan file {path} does not exist; make one with `scalinglab plan ladder ... -o {path}`."
        )
    text = path.read_text(encoding="utf-8")
    import yaml

    try:
        data = json.loads(text) if suffix in _JSON else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise ScalinglabError(
            f"plan file {path} is not valid {suffix[1:].upper()}: {error}"
        ) from error
    try:
        return Plan.from_dict(data)
    except (TypeError, ScalinglabError) as error:
        raise ScalinglabError(f"plan file {path}: {error}") from error


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _JSON + _YAML:
        raise ScalinglabError(
            f"plan file {path} must end in .json, .yaml or .yml; got {suffix or 'no suffix'!r}."
        )
    return suffix
