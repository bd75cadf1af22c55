"""Read training curves (step, learning rate, loss) from logs and tracker exports.

Formats, chosen by suffix or by what a folder holds:

========================  ===========================================================
input                     how it is read
========================  ===========================================================
``.csv``/``.tsv``/...     a table in long form: one row per logged step, optional run
                          column (any format :func:`scalinglab.io.read_table` reads)
``.jsonl``                one JSON object per logged step (same columns)
W&B CSV export            the wide "Export panel data" CSV: ``Step`` plus columns
                          ``<run> - <metric>`` (``__MIN``/``__MAX`` ignored); recognised
                          by its ``" - "`` headers, turned into long form
TensorBoard               ``events.out.tfevents.*`` files, or a folder holding them
                          (one run per sub-folder, named by its relative path)
a folder of tables        every table file is one curve, named by its file stem
========================  ===========================================================

Column mapping. ``step``, ``lr`` and ``loss`` name the columns (or TensorBoard tags,
or W&B metrics); when not given the first present alias is used:

* step: ``step``, ``Step``, ``_step``, ``global_step``, ``iteration``, ``iter``,
  ``trainer/global_step``
* lr: ``lr``, ``learning_rate``, ``train/lr``, ``lr-AdamW``, ``optimizer/lr``,
  ``train/learning_rate``
* loss: ``loss``, ``train/loss``, ``train_loss``, ``loss/train``, ``smooth loss``
* run: ``run``, ``run_name``, ``name``, ``exp_name`` (only when the file mixes curves)

TensorBoard reader. Event files are TFRecord streams: each record is
``uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)``
and ``data`` is an ``Event`` protobuf (``step`` field 2; ``summary`` field 5 whose
``value`` entries carry ``tag`` (1) and ``simple_value`` (2) or a scalar ``tensor``
(8)). This module parses that subset itself (no tensorboard or TensorFlow
dependency). The length checksum of every record is verified; a bad one raises
:class:`~scalinglab.errors.InputError` naming the file and byte offset. When a
tag is logged twice at one step (a restarted run) the last value wins.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..schedules import FAMILIES, Schedule, from_points, parse_spec
from .readers import SUPPORTED_FORMATS, read_table

__all__ = [
    "ALIASES",
    "CurveLog",
    "parse_schedule",
    "read_curves",
    "read_schedule",
    "read_tensorboard",
]

ALIASES: dict[str, tuple[str, ...]] = {
    "step": (
        "step",
        "Step",
        "_step",
        "global_step",
        "iteration",
        "iter",
        "trainer/global_step",
    ),
    "lr": (
        "lr",
        "learning_rate",
        "train/lr",
        "lr-AdamW",
        "optimizer/lr",
        "train/learning_rate",
    ),
    "loss": ("loss", "train/loss", "train_loss", "loss/train", "smooth loss"),
    "run": ("run", "run_name", "name", "exp_name"),
}
_WANDB = re.compile(r"^(?P<run>.+?) - (?P<metric>.+?)(?P<agg>__MIN|__MAX)?$")


@dataclass(frozen=True, eq=False)
class CurveLog:
    """One logged training curve: steps with their learning rate and loss.

    Attributes
    ----------
    name : str
        Run name (file stem, run column value, W&B run or TensorBoard folder).
    steps : numpy.ndarray
        Logged optimizer steps, strictly increasing integers.
    lr : numpy.ndarray
        Learning rate at each logged step.
    loss : numpy.ndarray
        Loss at each logged step.
    source : str
        Where it was read from.
    rows : numpy.ndarray or None
        1-based data row of each point in ``source`` (header excluded), for messages;
        None where points are not rows of the file (TensorBoard, W&B exports).
    """

    name: str
    steps: np.ndarray
    lr: np.ndarray
    loss: np.ndarray
    source: str
    rows: np.ndarray | None = None


def read_curves(
    path: str | Path,
    *,
    step: str | None = None,
    lr: str | None = None,
    loss: str | None = None,
    run: str | None = None,
) -> list[CurveLog]:
    """Read one or several training curves from a file or folder.

    Parameters
    ----------
    path : str or Path
        A table (CSV, TSV, Parquet, JSONL, JSON), a W&B CSV export, a TensorBoard
        event file, or a folder of either.
    step, lr, loss : str, optional
        Column names (TensorBoard tags, W&B metrics); aliases are tried otherwise.
    run : str, optional
        Column telling curves apart in a long table.

    Returns
    -------
    list of CurveLog
        Sorted by step; rows with a missing loss or LR are dropped.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder.", source=str(path))
    if path.is_dir():
        return _read_folder(path, step=step, lr=lr, loss=loss, run=run)
    if _is_event_file(path):
        return read_tensorboard(path, step_tag=None, lr=lr, loss=loss)
    frame = read_table(path).frame
    if _is_wandb(frame):
        curves = _curves_from_frame(
            _wandb_long(frame, str(path)),
            str(path),
            path.stem,
            step=step,
            lr=lr,
            loss=loss,
            run="run",
        )
        return [CurveLog(c.name, c.steps, c.lr, c.loss, c.source) for c in curves]
    return _curves_from_frame(
        frame, str(path), path.stem, step=step, lr=lr, loss=loss, run=run
    )


def read_schedule(
    path: str | Path, *, step: str | None = None, lr: str | None = None
) -> Schedule:
    """A :class:`~scalinglab.schedules.Schedule` from a table of ``step``, ``lr``.

    Steps between logged ones are interpolated linearly; before the first logged
    step the LR rises linearly from 0 (a warmup) unless the file starts at step 0.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(
            "no such schedule file; give a CSV with step and lr columns or a "
            "spec such as 'wsd:steps=72000,peak=3e-4,decay=0.2'.",
            source=str(path),
        )
    frame = read_table(path).frame
    steps = _column(frame, step, "step", str(path))
    values = _column(frame, lr, "lr", str(path))
    _check_finite(values, "lr", str(path))
    return from_points(_integer_steps(steps, str(path)), values, name=path.stem)


def parse_schedule(
    spec_or_path: str | Schedule, *, defaults: dict | None = None
) -> Schedule:
    """A schedule from a spec string (:func:`~scalinglab.schedules.parse_spec`, with
    ``defaults`` for keys it does not set) or from a CSV file with ``step`` and ``lr``."""
    if isinstance(spec_or_path, Schedule):
        return spec_or_path
    text = str(spec_or_path).strip()
    if text.partition(":")[0].lower() in FAMILIES and ":" in text:
        return parse_spec(text, defaults=defaults)
    return read_schedule(text)


# -- tables -------------------------------------------------------------------


def _read_folder(path: Path, **columns) -> list[CurveLog]:
    events = sorted(p for p in path.rglob("*") if p.is_file() and _is_event_file(p))
    if events:
        return _tensorboard_folder(path, events, columns["lr"], columns["loss"])
    tables = sorted(p for p in path.iterdir() if p.is_file() and _table_suffix(p))
    if not tables:
        raise InputError(
            "the folder holds no curve tables or TensorBoard event files.",
            source=str(path),
        )
    curves = []
    for file in tables:
        curves += read_curves(file, **columns)
    return curves


def _table_suffix(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in SUPPORTED_FORMATS


def _pick(frame: pd.DataFrame, given: str | None, role: str, source: str) -> str:
    if given is not None:
        if given not in frame.columns:
            raise InputError(
                f"no column {given!r} for the {role}; the columns are "
                f"{', '.join(map(str, frame.columns))}.",
                source=source,
            )
        return given
    for alias in ALIASES[role]:
        if alias in frame.columns:
            return alias
    raise InputError(
        f"no {role} column found (tried {', '.join(ALIASES[role])}); the columns are "
        f"{', '.join(map(str, frame.columns))}. Name it with --{role} COLUMN.",
        source=source,
    )


def _column(frame, given, role, source) -> np.ndarray:
    name = _pick(frame, given, role, source)
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(frame[name].notna().to_numpy() & np.isnan(values))
    if bad.size:
        raise InputError(
            "holds values that are not numbers.",
            source=source,
            column=name,
            rows=(bad + 1).tolist(),
        )
    return values


def _check_finite(values, name, source) -> None:
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        raise InputError(
            "must be finite and >= 0.",
            source=source,
            column=name,
            rows=(bad + 1).tolist(),
        )


def _integer_steps(steps: np.ndarray, source: str) -> np.ndarray:
    bad = np.flatnonzero(~np.isfinite(steps) | (steps < 0) | (steps != np.round(steps)))
    if bad.size:
        raise InputError(
            "steps must be non-negative integers.",
            source=source,
            column="step",
            rows=(bad + 1).tolist(),
        )
    return steps.astype(np.int64)


def _curves_from_frame(frame, source, default_name, *, step, lr, loss, run):
    steps = _column(frame, step, "step", source)
    rates = _column(frame, lr, "lr", source)
    losses = _column(frame, loss, "loss", source)
    names = (
        frame[_pick(frame, run, "run", source)].astype(str).to_numpy()
        if run is not None
        else np.full(len(frame), default_name, dtype=object)
    )
    keep = np.isfinite(steps) & np.isfinite(rates) & np.isfinite(losses)
    curves = []
    for name in dict.fromkeys(names[keep]):
        rows = np.flatnonzero(keep & (names == name))
        curves.append(
            _make_curve(str(name), steps[rows], rates[rows], losses[rows], rows, source)
        )
    if not curves:
        raise InputError(
            "no row has a step, a learning rate and a loss.", source=source
        )
    return curves


def _make_curve(name, steps, lr, loss, rows, source) -> CurveLog:
    steps = _integer_steps(steps, source)
    order = np.argsort(steps, kind="stable")
    steps, lr, loss, rows = steps[order], lr[order], loss[order], rows[order]
    repeated = np.flatnonzero(np.diff(steps) == 0)
    if repeated.size:
        raise InputError(
            f"curve {name!r} logs step {steps[repeated[0]]} more than once; give --run "
            "COLUMN if the file holds several curves.",
            source=source,
            rows=(rows[repeated] + 1).tolist(),
        )
    _check_finite(lr, "lr", source)
    bad = np.flatnonzero(~(loss > 0))
    if bad.size:
        raise InputError(
            f"curve {name!r}: losses must be > 0.",
            source=source,
            column="loss",
            rows=(rows[bad] + 1).tolist(),
        )
    return CurveLog(name, steps, lr, loss, source, rows + 1)


def _is_wandb(frame: pd.DataFrame) -> bool:
    matched = [c for c in frame.columns if _WANDB.match(str(c))]
    return "Step" in frame.columns and len(matched) == len(frame.columns) - 1


def _wandb_long(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """W&B panel export (``Step``, ``<run> - <metric>``) to long form (run, Step, metrics)."""
    parts = []
    for column in frame.columns:
        match = _WANDB.match(str(column))
        if match is None or match["agg"]:
            continue
        part = pd.DataFrame(
            {
                "Step": frame["Step"],
                "run": match["run"],
                "metric": match["metric"],
                "value": frame[column],
            }
        )
        parts.append(part.dropna(subset=["value"]))
    if not parts:
        raise InputError(
            "looks like a W&B export but has no '<run> - <metric>' columns.",
            source=source,
        )
    long = pd.concat(parts, ignore_index=True)
    wide = long.pivot_table(
        index=["run", "Step"],
        columns="metric",
        values="value",
        aggfunc="last",
        sort=False,
    )
    return wide.reset_index()


# -- TensorBoard ----------------------------------------------------------------


def _is_event_file(path: Path) -> bool:
    return "tfevents" in path.name


def _tensorboard_folder(root: Path, events: list[Path], lr, loss) -> list[CurveLog]:
    by_run: dict[str, list[Path]] = {}
    for file in events:
        rel = file.parent.relative_to(root)
        by_run.setdefault(str(rel) if str(rel) != "." else root.name, []).append(file)
    curves = []
    for name, files in by_run.items():
        scalars = _merge([_read_scalars(f) for f in files])
        curves.append(_tensorboard_curve(scalars, name, lr, loss, str(root / name)))
    return curves


def read_tensorboard(
    path: str | Path, *, step_tag=None, lr=None, loss=None
) -> list[CurveLog]:
    """Curves from one TensorBoard event file (``lr``/``loss`` name the scalar tags)."""
    path = Path(path)
    scalars = _read_scalars(path)
    return [
        _tensorboard_curve(scalars, path.parent.name or path.stem, lr, loss, str(path))
    ]


def _tensorboard_curve(scalars: dict, name: str, lr, loss, source: str) -> CurveLog:
    present = pd.DataFrame(columns=list(scalars))  # tags as columns, for the aliases
    tags = {
        role: _pick(present, given, role, source)
        for role, given in (("lr", lr), ("loss", loss))
    }
    loss_steps = np.array(sorted(scalars[tags["loss"]]), dtype=np.int64)
    lr_by_step = scalars[tags["lr"]]
    lr_steps = np.array(sorted(lr_by_step), dtype=float)
    lr_values = np.array([lr_by_step[s] for s in sorted(lr_by_step)])
    # LR and loss are often logged at different steps: read the LR at the loss steps.
    rates = np.interp(loss_steps, lr_steps, lr_values)
    losses = np.array([scalars[tags["loss"]][s] for s in loss_steps])
    curve = _make_curve(
        name,
        loss_steps.astype(float),
        rates,
        losses,
        np.arange(loss_steps.size),
        source,
    )
    return CurveLog(curve.name, curve.steps, curve.lr, curve.loss, source)


def _merge(parts: list[dict]) -> dict:
    merged: dict[str, dict[int, float]] = {}
    for part in parts:
        for tag, values in part.items():
            merged.setdefault(tag, {}).update(values)
    return merged


def _read_scalars(path: Path) -> dict[str, dict[int, float]]:
    """{tag: {step: value}} from one event file."""
    data = path.read_bytes()
    scalars: dict[str, dict[int, float]] = {}
    offset = 0
    while offset < len(data):
        if offset + 12 > len(data):
            raise InputError(
                f"truncated record header at byte {offset}.", source=str(path)
            )
        header = data[offset : offset + 8]
        (length,) = struct.unpack("<Q", header)
        (crc,) = struct.unpack("<I", data[offset + 8 : offset + 12])
        if crc != masked_crc32c(header):
            raise InputError(
                f"bad record checksum at byte {offset}; not a TensorBoard "
                "event file or a corrupted one.",
                source=str(path),
            )
        start = offset + 12
        if start + length + 4 > len(data):
            break  # a run still writing: the last record is incomplete
        _event_scalars(data[start : start + length], scalars)
        offset = start + length + 4
    return scalars


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        result |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes):
    """Yield (field number, wire type, value) of a protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _event_scalars(event: bytes, out: dict) -> None:
    step, summary = 0, None
    for number, _, value in _fields(event):
        if number == 2:
            step = value - (1 << 64) if value >= 1 << 63 else value
        elif number == 5:
            summary = value
    if summary is None:
        return
    for number, _, value in _fields(summary):
        if number == 1:
            tag, scalar = _summary_value(value)
            if tag is not None and scalar is not None:
                out.setdefault(tag, {})[int(step)] = scalar


def _summary_value(buf: bytes) -> tuple[str | None, float | None]:
    tag = scalar = None
    for number, wire, value in _fields(buf):
        if number == 1:
            tag = value.decode("utf-8", "replace")
        elif number == 2 and wire == 5:
            scalar = struct.unpack("<f", value)[0]
        elif number == 8:
            scalar = _tensor_scalar(value)
    return tag, scalar


def _tensor_scalar(buf: bytes) -> float | None:
    """A scalar TensorProto: float_val (5), double_val (6) or 4/8-byte tensor_content (4)."""
    dtype = 1
    for number, wire, value in _fields(buf):
        if number == 1:
            dtype = value
        elif number == 5:
            return (
                struct.unpack("<f", value[:4])[0]
                if wire == 2
                else struct.unpack("<f", value)[0]
            )
        elif number == 6:
            return struct.unpack("<d", value[:8])[0]
        elif number == 4 and len(value) in (4, 8):
            return struct.unpack("<d" if dtype == 2 else "<f", value)[0]
    return None


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as TFRecord uses; ``crc32c(b"123456789") == 0xE3069283``."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked checksum: rotate right by 15 and add 0xA282EAD8."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
