"""Build the one-page HTML report: fit each law, validate with the largest scales held out,
compare, find the compute-optimal frontier, render every section through one template."""

from __future__ import annotations

import datetime
import platform
import re
import shlex
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import ScalinglabError
from . import sections as s
from ._blocks import Section, fmt

__all__ = ["Report", "build_report", "load_runs", "write_report"]

# Bootstrap replicates of the IsoFLOP and envelope exponents (as `scalinglab envelope`).
APPROACH_REPLICATES = 200
#: The report's steps, in the order ``build_report`` reports them to ``progress``.
STEPS = ("fitting", "fit figures", "validating", "frontier", "approaches")
_NUMBER = re.compile(r"[-+0-9.,e%x\[\] ]+|inf|-inf|yes|no")


@dataclass(frozen=True)
class Report:
    """A built report: its title, summary lines and sections; ``path`` once written."""

    title: str
    glance: tuple[str, ...]
    sections: tuple[Section, ...]
    path: Path | None = None

    def html(self) -> str:
        """The self-contained HTML page."""
        return render(self.title, self.glance, self.sections)

    def to_dict(self) -> dict:
        """JSON-safe outline: where it was written, the summary, each section or why not."""
        return {
            "path": None if self.path is None else str(self.path),
            "title": self.title,
            "glance": list(self.glance),
            "sections": [
                {"key": s.key, "title": s.title, "omitted": s.why}
                for s in self.sections
            ],
        }


def load_runs(data: str | Path, **columns: Any) -> tuple[Any, list[str], dict | None]:
    """The run table of a file or a study folder, the warnings reading it raised, and the study.

    Parameters
    ----------
    data : str or pathlib.Path
        A run table (CSV, TSV, Parquet, JSONL, JSON) or a study directory (plan + runs).
    **columns
        Column options passed to :func:`scalinglab.read_runs` (``N``, ``D``, ``loss``, ...).
    """
    from ..data import read_runs

    path = Path(data)
    study = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if path.is_dir():
            source, study = _study_frame(path)
        else:
            source = path
        runs = read_runs(source, **columns)
    if study is not None:
        runs = replace(runs, source=str(path))
    return runs, [str(w.message) for w in caught], study


def _study_frame(path: Path):
    from ..run.export import run_table
    from ..run.store import DB_NAME, Study

    if not (path / DB_NAME).is_file():
        raise ScalinglabError(
            f"{path} is a folder but not a study (no {DB_NAME}); pass a run table file or a "
            "folder made by `scalinglab run`."
        )
    frame = run_table(path)
    if frame.empty:
        raise ScalinglabError(
            f"study {path} has no finished runs yet; see `scalinglab status {path}`."
        )
    with Study.open(path) as study:
        plan = study.plan()
    name = plan.get("name") or plan.get("kind") or f"{len(frame)} finished runs"
    return frame, {"path": str(path), "plan": str(name)}


def build_report(
    runs: Any,
    *,
    laws: Sequence[str] = ("chinchilla",),
    compute: Sequence[float] = (),
    targets: Sequence[dict] = (),
    bootstrap: int = 1000,
    validation_bootstrap: int = 200,
    seed: int = 0,
    holdout: float = 0.2,
    read_warnings: Sequence[str] = (),
    study: dict | None = None,
    command: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Fit, validate and compare ``laws`` on ``runs`` and lay out the report's sections.

    Parameters
    ----------
    runs : RunTable
    laws : law names or formulas; each is fitted, validated and compared.
    compute : budgets (FLOPs) for the compute-optimal table; default: the next decades.
    targets : planned runs, e.g. ``[{"N": 7e9, "D": 2e12}]``, predicted by every law.
    bootstrap, seed : bootstrap replicates and seed of every fit.
    validation_bootstrap : replicates of the refits without the largest runs (validation
        and comparison; ``compare-laws`` uses the same default).
    holdout : share of rows held out in validation, the largest first, whole levels at a time
        (by C on an IsoFLOP grid, by N otherwise).
    read_warnings : warnings raised while reading the table (shown in the data section).
    study : ``{"path", "plan"}`` when the runs come from a study folder.
    command : the command line that made the report (for provenance).
    progress : called with the name of each step (:data:`STEPS`, in order) as it starts.

    Returns
    -------
    Report
        Its ``html()`` is the self-contained page.
    """
    step = progress or (lambda name: None)
    if bootstrap < 1:
        raise ScalinglabError(
            "the report needs bootstrap draws for its intervals; use --bootstrap >= 1."
        )
    laws = list(dict.fromkeys(laws))
    step("fitting")
    fits = _fit_all(laws, runs, bootstrap, seed)
    step("fit figures")
    body = [s.data_section(runs, read_warnings, study)]
    body += [s.fit_section(r, runs) for r in fits.values()]
    step("validating")
    body += _validation_sections(laws, runs, validation_bootstrap, seed, holdout)
    step("frontier")
    body += _frontier_sections(fits, runs, compute, targets)
    step("approaches")
    body += [
        s.isoflop_section(runs, APPROACH_REPLICATES, seed),
        s.envelope_section(runs, APPROACH_REPLICATES, seed),
        s.other_section(runs),
    ]
    provenance = _provenance(
        runs,
        laws,
        (bootstrap, validation_bootstrap),
        seed,
        holdout,
        compute,
        targets,
        command,
    )
    body.append(s.provenance_section(runs, provenance))
    return Report(_title(runs, study), tuple(_glance(runs, fits, body)), tuple(body))


def _fit_all(laws: Sequence[str], runs: Any, bootstrap: int, seed: int) -> dict:
    from ..fit import fit

    return {
        r.law.name: r
        for r in (fit(law, runs, bootstrap=bootstrap, seed=seed) for law in laws)
    }


def _validation_sections(
    laws, runs, bootstrap: int, seed: int, holdout: float
) -> list[Section]:
    from ..analysis.validation import compare_laws

    try:
        split = s.holdout_split(runs, holdout)
        scores, validations = compare_laws(
            laws, runs, split, bootstrap=bootstrap, seed=seed
        )
    except ScalinglabError as err:
        why = f"the largest scales could not be held out: {err}"
        return [
            Section("validation", "Validation: largest scales held out", why=why),
            Section("comparison", "Law comparison", why=why),
        ]
    failed = [f"{x.law}: {x.error}" for x in scores if x.error]
    validation = (
        s.validation_section(validations, runs, split)
        if validations
        else Section(
            "validation",
            "Validation: largest scales held out",
            why="no law could be refitted without the largest runs: "
            + "; ".join(failed),
        )
    )
    return [validation, s.comparison_section(scores, validations, laws)]


def _frontier_sections(fits: dict, runs: Any, compute, targets) -> list[Section]:
    nd = [r for r in fits.values() if set(r.law.inputs) == {"N", "D"}]
    budgets = np.asarray(compute, float) if len(compute) else s.default_budgets(runs)
    return [
        s.frontier_section(nd[0] if nd else None, runs, budgets, bool(len(compute))),
        s.targets_section(fits, targets),
    ]


def _provenance(
    runs, laws, replicates, seed, holdout, compute, targets, command
) -> dict:
    bootstrap, validation_bootstrap = replicates
    import matplotlib
    import scipy

    columns = " ".join(
        f"--{k} {shlex.quote(v)}"
        for k, v in runs.mapping.items()
        if k in ("N", "D", "C", "loss", "run")
    )
    fit_cmds = [
        f"scalinglab fit {shlex.quote(runs.source)} --law {shlex.quote(law)} {columns} "
        f"--bootstrap {bootstrap} --seed {seed}"
        for law in laws
    ]
    if any(note.startswith(("query ", "subset ")) for note in runs.notes):
        # `scalinglab fit` reads the whole table; its commands would fit other rows.
        fit_cmds = [
            (
                "# the fits used only the rows the query kept (see Data), so the "
                "`scalinglab fit` commands for them are not listed"
            )
        ]
    return {
        "scalinglab": __version__,
        "python / numpy / scipy / matplotlib": (
            f"{platform.python_version()} / {np.__version__} / "
            f"{scipy.__version__} / {matplotlib.__version__}"
        ),
        "data": runs.source,
        "seed": str(seed),
        "bootstrap replicates": f"{bootstrap} per fit, {validation_bootstrap} per "
        f"validation refit, {APPROACH_REPLICATES} for IsoFLOP and envelope exponents",
        "held out in validation": f"top {holdout:.0%} of rows by "
        f"{'C (an IsoFLOP grid)' if s.is_isoflop_grid(runs) else 'N'}, whole levels",
        "compute budgets": ", ".join(fmt(c) for c in compute) or "default",
        "targets": "; ".join(
            ", ".join(f"{k}={fmt(v)}" for k, v in t.items()) for t in targets
        )
        or "none",
        "date (UTC)": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "commands": [
            command or "(built from Python: scalinglab.report.build_report)",
            *fit_cmds,
        ],
    }


def _title(runs: Any, study: dict | None) -> str:
    name = Path(study["path"]).name if study else Path(runs.source).name
    return f"Scaling-law report: {name}"


def _glance(runs: Any, fits: dict, body: list[Section]) -> list[str]:
    """The few lines a reader needs first: data, best law, how well it held out, what it says."""
    info = runs.describe()
    lines = [
        (
            f"{info['n_runs']} runs, N {fmt(info['ranges']['N'][0])} to "
            f"{fmt(info['ranges']['N'][1])}, C {fmt(info['ranges']['C'][0])} to "
            f"{fmt(info['ranges']['C'][1])} FLOPs."
        )
    ]
    for name, r in fits.items():
        warn = sum(d.severity == "warning" for d in r.diagnostics)
        lines.append(
            f"{name}: "
            + ", ".join(f"{k} = {fmt(v)}" for k, v in r.params.items())
            + (f" ({warn} warning{'s' * (warn != 1)})" if warn else " (no warnings)")
        )
    for section in body:
        if section.key == "validation" and section.why is None:
            lines += [b.text for b in section.blocks[1:] if b.kind == "paragraph"]
    return lines


def render(title: str, glance: Sequence[str], body: Sequence[Section]) -> str:
    """Fill the page template (Jinja2, autoescaped; figures are trusted SVG)."""
    import jinja2

    from ._template import TEMPLATE

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["align"] = _align
    return env.from_string(TEMPLATE).render(title=title, glance=glance, sections=body)


def _align(cell: str) -> str:
    """CSS class of a table cell: numbers and intervals right-aligned, long text wrapped."""
    if _NUMBER.fullmatch(cell):
        return "num"
    return "long" if len(cell) > 40 else "text"


def write_report(path: str | Path, runs: Any, **options: Any) -> Report:
    """Build the report (see :func:`build_report`) and write its page to ``path`` (.html)."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ScalinglabError(
            f"the report is an HTML file; give -o a name ending in .html, not {path.name!r}."
        )
    report = build_report(runs, **options)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.html(), encoding="utf-8")
    return replace(report, path=path)
