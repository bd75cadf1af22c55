"""Run planned runs with your own training script: ``scalinglab run --command TEMPLATE``.

The template is split like a shell line (``shlex``), then each word is filled
with Python ``str.format`` from the run's fields, so a path with spaces stays one
argument and format specs work::

    scalinglab run plan.json --study runs \\
        --command "python train.py --layers {n_layer} --width {d_model} --lr {lr:.3g} \\
                   --steps {steps} --metrics {metrics_path} --ckpt {checkpoint_path}"

Fields: every field of the planned run (``run_id``, ``N``, ``N_non_embedding``,
``D``, ``C``, ``C_exact``, ``lr``, ``batch_tokens``, ``seq_len``, ``steps``,
``warmup_steps``, ``schedule``, ``seed``, ...), the model shape (``n_layer``,
``d_model``, ``n_head``, ``d_ff``, ``vocab_size``, ``n_ctx``), and
``metrics_path``, ``checkpoint_path``, ``study_dir``, ``threads``.

The command appends one JSON object per line to ``metrics_path``, e.g.
``{"step": 100, "tokens": 409600, "train_loss": 3.1, "eval_loss": 3.2}``. ``step``
is required; ``loss`` is read as ``train_loss``; other keys are kept. The file is
read while the command runs, so progress and durability match the built-in
trainer. The run's final loss is the ``eval_loss`` of its last row that has one. A
non-zero exit status fails the run (its output is in ``DIR/logs/RUN_ID.log``); the
next ``scalinglab run`` starts it again, and the command may resume from
``checkpoint_path`` if it wrote one there.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import string
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import ScalinglabError
from .executors import Task

__all__ = ["external_trial", "render_command", "template_fields", "validate_template", "run_fields"]

_PATH_FIELDS = ("metrics_path", "checkpoint_path", "study_dir", "threads")


def run_fields(spec: Any) -> dict[str, Any]:
    """The run's template fields: its plan fields with the model shape flattened in."""
    fields = dict(spec.to_dict() if hasattr(spec, "to_dict") else spec)
    shape = fields.pop("shape", None)
    if isinstance(shape, dict):
        fields.update(shape)
    return fields


def template_fields(template: str) -> set[str]:
    """Names the template refers to, e.g. ``{"n_layer", "lr"}``."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ScalinglabError(f"--command template {template!r} is malformed: {error}.") from error
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in parsed if name}


def validate_template(template: str, specs: Iterable[Any]) -> None:
    """Raise :class:`ScalinglabError` if any run lacks a field the template uses."""
    if not template.strip():
        raise ScalinglabError("--command is empty; give a command template such as 'python train.py'.")
    names = template_fields(template)
    for spec in specs:
        known = set(run_fields(spec)) | set(_PATH_FIELDS)
        unknown = sorted(names - known)
        if unknown:
            raise ScalinglabError(
                f"--command uses unknown field(s) {unknown}; the available fields are "
                f"{sorted(known)}. Write them as {{name}}, e.g. {{n_layer}}."
            )


def render_command(template: str, fields: dict[str, Any]) -> list[str]:
    """The argument list for one run: split the template, then fill each word."""
    try:
        return [word.format(**fields) for word in shlex.split(template)]
    except (KeyError, IndexError, ValueError) as error:
        raise ScalinglabError(f"cannot fill --command template {template!r}: {error}.") from error


def external_trial(task: Task, emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Trial function that runs ``task.command`` and streams its JSONL metrics."""
    study = Path(task.study_dir or ".")
    metrics_path = study / "external" / f"{task.run_id}.metrics.jsonl"
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    metrics_path.unlink(missing_ok=True)  # rows of an earlier attempt are already stored
    fields = {**run_fields(task.spec), "metrics_path": str(metrics_path),
              "checkpoint_path": task.checkpoint_path or "", "study_dir": str(study),
              "threads": task.threads}
    args = render_command(task.command or "", fields)
    log_path = Path(task.log_path or study / "logs" / f"{task.run_id}.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    reader = _MetricsReader(metrics_path, task.run_id)
    returncode = _run_streaming(args, log_path, reader, emit, task.threads)
    if returncode != 0:
        raise ScalinglabError(
            f"run {task.run_id}: command exited with status {returncode}: {shlex.join(args)}\n"
            f"last output ({log_path}):\n{_tail(log_path)}"
        )
    if reader.count == 0:
        raise ScalinglabError(
            f"run {task.run_id}: the command exited without writing metric rows to "
            f"{{metrics_path}} ({metrics_path}); it must append JSON lines with a 'step' key."
        )
    return {"returncode": 0, "rows": reader.count, "final_eval_loss": reader.last_eval_loss,
            "command": shlex.join(args)}


def _run_streaming(
    args: list[str], log_path: Path, reader: _MetricsReader,
    emit: Callable[[dict[str, Any]], None], threads: int,
) -> int:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    with open(log_path, "ab") as log:
        try:
            process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env=env,
                preexec_fn=_die_with_parent,
            )
        except OSError as error:
            raise ScalinglabError(f"cannot start {shlex.join(args)}: {error}.") from error
        while process.poll() is None:
            reader.emit_new(emit)
            time.sleep(0.1)
    reader.emit_new(emit, final=True)
    return process.returncode


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class _MetricsReader:
    """Reads complete new lines of a growing JSONL file."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.path, self.run_id = path, run_id
        self.offset, self.partial, self.count, self.line = 0, b"", 0, 0
        self.last_eval_loss: float | None = None

    def emit_new(self, emit: Callable[[dict[str, Any]], None], final: bool = False) -> None:
        if not self.path.is_file():
            return
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
        self.offset += len(chunk)
        lines = (self.partial + chunk).split(b"\n")
        self.partial = b"" if final else lines.pop()
        for raw in lines:
            self.line += 1
            if raw.strip():
                emit(self._parse(raw))

    def _parse(self, raw: bytes) -> dict[str, Any]:
        where = f"run {self.run_id}: {self.path} line {self.line}"
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ScalinglabError(f"{where} is not JSON ({error}): {raw[:120]!r}.") from error
        if not isinstance(row, dict) or "step" not in row:
            raise ScalinglabError(f"{where} needs a JSON object with a 'step' key; got {raw[:120]!r}.")
        if "loss" in row and "train_loss" not in row:
            row["train_loss"] = row.pop("loss")
        if row.get("eval_loss") is not None:
            self.last_eval_loss = float(row["eval_loss"])
        self.count += 1
        return row


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no output)"
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"
