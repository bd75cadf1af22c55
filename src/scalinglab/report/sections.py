"""The sections of a report, one function each: what was fitted, how well, how far it can be
trusted, what it predicts and recommends. A section the data does not allow keeps only the
reason (``Section.why``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ScalinglabError
from ._blocks import Notes, Paragraph, Section, figure, fmt, interval, percent, table

LEVEL = 0.95


# -- data ---------------------------------------------------------------------------------


def data_section(runs: Any, warnings: Sequence[str], study: dict | None) -> Section:
    """Runs, ranges of N, D, C, loss, conventions, and what reading the table assumed."""
    from ..plot.fit import data_figure

    info = runs.describe()
    section = Section("data", "Data")
    origin = f"study {study['path']} ({study['plan']})" if study else runs.source
    section.blocks.append(
        Paragraph(
            f"{info['n_runs']} runs ({info['n_rows']} rows, {info['n_model_sizes']} model sizes) "
            f"read from {origin}. Conventions: {_conventions(info['conventions'])}."
        )
    )
    ranges = [(k, lo, hi, fmt(hi / lo) + "x") for k, (lo, hi) in info["ranges"].items()]
    section.blocks.append(table("Ranges", ("quantity", "min", "max", "span"), ranges))
    if runs.notes:
        section.blocks.append(
            Notes(tuple(f"data: {n}" for n in runs.notes), kind="facts")
        )
    if warnings:
        section.blocks.append(Notes(tuple(f"warning: {w}" for w in warnings)))
    section.blocks.append(
        figure(
            data_figure(runs),
            (
                "Loss against training compute, coloured by model size. Look at the spread at equal "
                "compute (different N/D splits) and at runs far from the others: the fit weighs them all."
            ),
        )
    )
    section.blocks.append(_runs_table(runs))
    return section


def _conventions(conventions: dict) -> str:
    parts = []
    for key, value in conventions.items():
        if key == "N":
            parts.append(
                "which parameters N counts is not stated (--N-kind)"
                if value == "unknown"
                else f"N counts {value} parameters"
            )
        elif key == "C":
            parts.append("C = 6 N D" if value == "6ND" else f"C: {value}")
        else:
            parts.append(f"{key} in {value}")
    return "; ".join(parts)


def _runs_table(runs: Any):
    columns = [c for c in ("run", "N", "D", "C", "loss") if runs.has(c)]
    frame = runs.frame[columns].head(1000)
    title = (
        f"All {len(runs)} rows"
        if len(runs) <= 1000
        else f"First 1,000 of {len(runs)} rows"
    )
    return table(
        title,
        ("row", *columns),
        [
            (int(r), *row)
            for r, row in zip(runs.row_numbers, frame.itertuples(index=False))
        ],
    )


# -- fits ---------------------------------------------------------------------------------


def fit_section(result: Any, runs: Any) -> Section:
    """Parameters with intervals, diagnostics in plain words, the surface and residuals."""
    from ..plot.fit import isoloss_figure, residuals_figure

    law = result.law
    ref = f" ({law.reference})" if law.reference else ""
    section = Section(f"fit-{law.name}", f"Fit: {law.name}")
    section.blocks.append(
        Paragraph(
            f"{law.name}{ref}: {_formula(law.formula)}. Fitted to {result.n_points} points from "
            f"{result.n_runs} runs by {result.objective_spec.describe()}; intervals from "
            f"{result.settings.get('bootstrap', 0)} bootstrap resamples of runs."
        )
    )
    section.blocks.append(_params_table(result))
    section.blocks.append(Notes(tuple(fit_facts(result)), kind="facts"))
    section.blocks.append(
        Notes(
            tuple(d.message for d in result.diagnostics)
            or ("No warnings: no parameter at a bound, no outliers.",),
            kind="notes" if result.diagnostics else "facts",
        )
    )
    if set(law.inputs) == {"N", "D"}:
        section.blocks.append(
            figure(
                isoloss_figure(result, runs),
                (
                    "The fitted loss as contours over model size and tokens. Each dot is a run coloured by "
                    "its observed loss on the same scale: a dot whose colour differs from its background "
                    "is a run the law misses. The orange line is the compute-optimal allocation; dotted "
                    "lines are constant compute."
                ),
            )
        )
    section.blocks.append(
        figure(
            residuals_figure(result, runs),
            (
                "Observed over fitted loss, minus 1, against each input. Look for a trend or a curve: it "
                "means the law's shape does not follow the data along that input. Points outside the band "
                "are beyond twice the usual run-to-run scatter."
            ),
        )
    )
    return section


def _params_table(result: Any):
    ci = result.conf_int(1 - LEVEL) if result.draws is not None else {}
    se = result.std_err() if result.draws is not None else {}
    rows = []
    for p in result.law.params:
        low, high = ci.get(p.name, (None, None))
        rows.append(
            (
                p.name,
                result.params[p.name],
                "fixed" if p.fixed else interval(low, high),
                se.get(p.name),
                interval(p.lower, p.upper),
            )
        )
    return table(
        "Parameters (95% bootstrap intervals)",
        ("parameter", "value", "95% interval", "std err", "bounds"),
        rows,
    )


def _formula(text: str) -> str:
    return text if text.replace(" ", "").startswith("L=") else f"L = {text}"


def fit_facts(result: Any) -> list[str]:
    """What the fit's numbers mean, in sentences (its warnings are listed apart)."""
    state = (
        "The optimizer converged"
        if result.converged
        else "The optimizer did NOT converge"
    )
    lines = [f"{state} (largest gradient {result.gradient:.2g})."]
    settings = result.settings
    if settings.get("starts_refined"):
        lines.append(
            f"{settings.get('starts_agreeing', '?')} of {settings['starts_refined']} "
            "refined starts reached the same optimum."
        )
    if result.objective_spec.space == "log":
        lines.append(
            f"Runs scatter about {np.expm1(result.residual_scale):.2%} around the fitted "
            "law (robust residual scale)."
        )
    if result.extrapolation_error is not None:
        e = result.extrapolation_error
        lines.append(
            f"Measured extrapolation error: {e.tau:.2%} of the loss per decade beyond the "
            f"fitted range (rolling-origin refits by {e.by}); prediction intervals "
            "include it."
        )
    return lines


# -- validation and comparison -----------------------------------------------------------


def holdout_split(runs: Any, top: float):
    """The largest scales held out, whole levels at a time: by compute C on an IsoFLOP
    grid (its largest N sit at small budgets, so N is not its scale), else by N."""
    from ..analysis.validation import split_top

    return split_top(runs, top, "C" if is_isoflop_grid(runs) else "N")


def is_isoflop_grid(runs: Any) -> bool:
    """Whether at least three compute budgets have three or more model sizes each."""
    from ..analysis.isoflop import group_budgets

    final = runs.final()
    N, C = final.array("N"), final.array("C")
    labels = group_budgets(C)
    return sum(np.unique(N[labels == b]).size >= 3 for b in np.unique(labels)) >= 3


def validation_section(validations: dict, runs: Any, split: Any) -> Section:
    """Predicted vs actual for the held-out largest runs, with coverage, for each law."""
    from ..plot.validation import validation_figure

    section = Section("validation", "Validation: largest scales held out")
    by = "C" if is_isoflop_grid(runs) else "N"
    x = runs.array(by)
    section.blocks.append(
        Paragraph(
            f"Each law is refitted on the {int(split.train.sum())} rows with {by} up to "
            f"{fmt(x[split.train].max())} and predicts the {int(split.heldout.sum())} held-out rows "
            f"with {by} from {fmt(x[split.heldout].min())}, as if they had not been trained yet "
            f"(95% prediction intervals from {_replicates(validations)} bootstrap resamples)."
        )
    )
    for name, v in validations.items():
        section.blocks.append(Paragraph(f"{name}: {validation_sentence(v)}"))
        if v.notes:
            section.blocks.append(Notes(tuple(v.notes)))
        section.blocks.append(
            figure(
                validation_figure(v, runs),
                (
                    f"{name}. Left: held-out runs (crosses) against their predictions with 95% intervals. "
                    "Right: relative error against how far beyond the fitted range each point lies; red "
                    "points fall outside their interval."
                ),
            )
        )
        section.blocks.append(_heldout_table(v))
    return section


def _replicates(validations: dict) -> int:
    return next(iter(validations.values())).fits[-1].settings.get("bootstrap", 0)


def validation_sentence(v: Any) -> str:
    s = v.summary
    side = "over" if s.bias > 0 else "under"
    return (
        f"median |error| {percent(s.median_abs_rel_error)} (max {percent(s.max_abs_rel_error)}) "
        f"on {s.n_heldout} held-out rows up to {s.max_decades:.2f} decades beyond the fitted "
        f"range; it {side}-predicts by {percent(abs(s.bias))} (median). {s.coverage:.0%} of the "
        f"actual losses fall inside their 95% intervals (p = {s.coverage_p:.2g} if the "
        "intervals were calibrated)."
    )


def _heldout_table(v: Any):
    rows = [
        (
            p.run,
            *p.inputs.values(),
            p.actual,
            p.predicted,
            interval(*p.ci95),
            percent(p.rel_error, signed=True),
            p.in_ci95,
        )
        for p in v.points
    ]
    names = tuple(v.points[0].inputs) if v.points else ()
    return table(
        f"{v.law}: held-out rows",
        ("run", *names, "actual", "predicted", "95% interval", "error", "inside"),
        rows,
    )


def comparison_section(
    scores: Sequence[Any], validations: dict, laws: Sequence[str]
) -> Section:
    """The laws ranked by held-out error under the same split."""
    from ..plot.validation import compare_laws_figure

    section = Section("comparison", "Law comparison")
    if len(laws) < 2:
        section.why = (
            "one law was requested; pass several (e.g. --law chinchilla,overtraining) "
            "to compare them on the same held-out runs."
        )
        return section
    rows = [
        (
            s.law,
            s.rank or "-",
            s.n_params,
            _pct(s.median_abs_rel_error),
            _pct(s.bias, True),
            _pct(s.coverage),
            _pct(s.in_sample_median_abs_rel_error),
            s.error or "",
        )
        for s in scores
    ]
    section.blocks.append(
        table(
            "Ranked by held-out median |error|",
            (
                "law",
                "rank",
                "free params",
                "held-out |error|",
                "bias",
                "coverage",
                "in-sample |error|",
                "error",
            ),
            rows,
        )
    )
    best = scores[0]
    section.blocks.append(
        Paragraph(
            f"{best.law} predicts the held-out runs best ({_pct(best.median_abs_rel_error)} median "
            "|error|). A law with more parameters that wins in-sample but loses held out is "
            "overfitting the small scales."
        )
    )
    if validations:
        section.blocks.append(
            figure(
                compare_laws_figure(validations),
                (
                    "Held-out relative error of each law against extrapolation distance. Look for the law "
                    "whose errors stay near zero furthest out, not only the smallest median."
                ),
            )
        )
    return section


def _pct(value: float, signed: bool = False) -> str:
    return "-" if value is None or not np.isfinite(value) else percent(value, signed)


# -- compute-optimal frontier and targets ---------------------------------------------------


def default_budgets(runs: Any) -> np.ndarray:
    """Whole decades from the largest observed compute to 100x beyond it."""
    top = np.ceil(np.log10(runs.array("C").max()))
    return 10.0 ** np.arange(top, top + 3)


def frontier_section(
    result: Any | None, runs: Any, budgets: np.ndarray, requested: bool
) -> Section:
    """N*, D*, D/N and L* at each budget with intervals, and the frontier figure."""
    from ..plot.fit import frontier_figure

    section = Section("frontier", "Compute-optimal frontier")
    if result is None:
        section.why = (
            "no fitted law is a function of N and D only, so there is no N/D trade-off."
        )
        return section
    try:
        alloc = result.optimal(budgets)
    except ScalinglabError as err:
        section.why = f"{result.law.name} has no compute-optimal allocation here: {err}"
        return section
    which = "requested" if requested else "default (the next decades beyond the data)"
    section.blocks.append(
        Paragraph(
            f"From the {result.law.name} fit, at the {which} budgets, under {alloc.cost_model}. The "
            "loss interval is for a new run and includes the measured extrapolation error."
        )
    )
    section.blocks.append(
        table(
            "Compute-optimal allocation (95% intervals)",
            (
                "C (FLOPs)",
                "N*",
                "N* interval",
                "D*",
                "D* interval",
                "D*/N*",
                "loss",
                "loss interval",
            ),
            _allocation_rows(alloc),
        )
    )
    section.blocks.append(
        figure(
            frontier_figure(result, budgets, runs=runs),
            (
                "Left: the optimal model size and token count as compute grows, with 95% bands. Right: "
                "the loss at the optimum. Dashed lines mark the budgets in the table; the shaded span is "
                "the compute the law was fitted on, and the bands widen beyond it."
            ),
        )
    )
    return section


def _allocation_rows(alloc: Any) -> list[tuple]:
    ci = alloc.ci95 or {}
    rows = []
    for i, C in enumerate(np.atleast_1d(alloc.compute)):
        cells = [C]
        for name in ("N", "D", "tokens_per_param", "loss"):
            cells.append(np.atleast_1d(getattr(alloc, name))[i])
            if name != "tokens_per_param":
                low, high = ci.get(name, ([np.nan], [np.nan]))
                cells.append(interval(np.atleast_1d(low)[i], np.atleast_1d(high)[i]))
        rows.append(tuple(cells))
    return rows


def targets_section(results: dict, targets: Sequence[dict]) -> Section:
    """The predicted loss of each requested run under each law, with its 95% interval."""
    from ..analysis.prediction import prediction_table

    section = Section("targets", "Requested targets")
    if not targets:
        section.why = (
            "no targets were requested (--target N=7e9,D=2e12 predicts a planned run)."
        )
        return section
    rows = []
    for name, result in results.items():
        for target in targets:
            label = ", ".join(f"{k}={fmt(v)}" for k, v in target.items())
            try:
                pred = prediction_table(
                    result, {k: target[k] for k in result.law.inputs}
                )
            except KeyError as missing:
                rows.append(
                    (name, label, "-", "-", f"the law also needs {missing.args[0]}")
                )
                continue
            row = pred["rows"][0]
            ci = row.get("ci95", (None, None))
            warning = " ".join(d["message"] for d in pred["diagnostics"])
            rows.append((name, label, row["loss"], interval(*ci), warning))
    section.blocks.append(
        table(
            "Predicted loss of the requested runs",
            ("law", "target", "loss", "95% interval", "warnings"),
            rows,
        )
    )
    return section


# -- Chinchilla approaches 1 and 2 ----------------------------------------------------------


def isoflop_section(runs: Any, draws: int, seed: int) -> Section:
    """IsoFLOP profiles when at least three budgets each have three model sizes or more."""
    from ..analysis.isoflop import isoflop
    from ..plot.approaches import isoflop_figure

    section = Section("isoflop", "IsoFLOP profiles (Chinchilla approach 2)")
    final = runs.final()
    N, D, C, loss = (final.array(k) for k in ("N", "D", "C", "loss"))
    if not is_isoflop_grid(runs):
        section.why = (
            "the design is not an IsoFLOP grid: fewer than three compute budgets have "
            "three or more model sizes each."
        )
        return section
    try:
        result = isoflop(N, D, C, loss, draws=draws, seed=seed)
    except ScalinglabError as err:
        section.why = f"the IsoFLOP fit failed: {err}"
        return section
    _add_optimum(
        section,
        result,
        f"{sum(bp.used for bp in result.budgets)} budgets fitted with a {result.profile} in log N",
        f"{draws} draws",
        figure(
            isoflop_figure(result, N, loss, C),
            (
                "Left: loss against model size at each budget with the fitted profile and its minimum "
                "(cross). Right: the minima against compute with the fitted power law. Look for profiles "
                "whose minimum sits at the edge of the sizes tried: those budgets bracket the optimum "
                "poorly."
            ),
        ),
    )
    return section


def _add_optimum(section: Section, result: Any, lead: str, spread: str, plot) -> None:
    """Append the exponents of N_opt and D_opt in C with their 95% intervals (``lead``
    says what was fitted, ``spread`` how the intervals were drawn), ``result.notes``
    and the figure ``plot``."""
    a, b = result.a, result.b
    section.blocks.append(
        Paragraph(
            f"{lead}: N_opt ~ C^{a.exponent:.3f} {interval(*a.ci95)}, "
            f"D_opt ~ C^{b.exponent:.3f} {interval(*b.ci95)} (95% intervals, {spread})."
        )
    )
    if result.notes:
        section.blocks.append(Notes(tuple(result.notes)))
    section.blocks.append(plot)


def envelope_section(runs: Any, replicates: int, seed: int) -> Section:
    """The lowest loss at each compute (Chinchilla approach 1) when runs cover a compute range."""
    from ..analysis.envelope import envelope, usable_rows
    from ..plot.approaches import envelope_figure

    section = Section("envelope", "Loss envelope (Chinchilla approach 1)")
    if np.unique(runs.array("N")).size < 3:
        section.why = (
            "fewer than three model sizes: the envelope needs several to trade off."
        )
        return section
    checkpoints = None if len(runs) == runs.n_runs else "final"
    try:
        usable = usable_rows(runs, checkpoints)
        result = envelope(
            *(runs.array(k) for k in ("N", "D", "C", "loss")),
            runs.runs(),
            usable=usable,
            bootstrap=replicates,
            seed=seed,
        )
    except ScalinglabError as err:
        section.why = f"the envelope could not be formed: {err}"
        return section
    _add_optimum(
        section,
        result,
        f"{result.C.size} envelope points from {result.n_runs} runs",
        f"{replicates} replicates",
        figure(
            envelope_figure(result, runs.array("C"), runs.array("loss")),
            (
                "Left: every run (grey) and the lowest loss reached at each compute (the envelope). "
                "Right: the model size and tokens of the envelope runs. Few envelope points, or points "
                "all from one size, make the exponents weak."
            ),
        ),
    )
    return section


# -- other analyses ------------------------------------------------------------------------


def other_section(runs: Any) -> Section:
    """Loss curves, hyperparameter laws and downstream tasks: what the table holds for them."""
    section = Section("other", "Loss curves, hyperparameters, downstream tasks")
    columns = [str(c) for c in runs.frame.columns]
    curves = (
        "the table has checkpoints; each run is a line in the data figure. Fit a curve law "
        "with `scalinglab curve fit`."
        if len(runs) > runs.n_runs
        else "the table has one row per run, so there are no loss curves."
    )
    hparams = (
        "learning-rate and batch columns are present; fit their laws with "
        "`scalinglab hparams fit` (not part of this report)."
        if {"lr", "batch_tokens"} <= set(columns) and _varies(runs, "lr")
        else "no learning-rate sweep at fixed N and D in the table."
    )
    tasks = [c for c in columns if c.startswith(("acc_", "eval/downstream"))]
    downstream = (
        f"{len(tasks)} downstream columns (e.g. {tasks[0]}) are present but not "
        "modelled in this report."
        if tasks
        else "no downstream task columns."
    )
    section.blocks.append(
        Notes(
            (
                f"Loss curves: {curves}",
                f"Hyperparameters: {hparams}",
                f"Downstream: {downstream}",
            ),
            kind="facts",
        )
    )
    return section


def _varies(runs: Any, column: str) -> bool:
    frame = runs.frame
    return bool((frame.groupby(["N", "D"])[column].nunique() > 1).any())


# -- provenance ----------------------------------------------------------------------------


def provenance_section(runs: Any, provenance: dict) -> Section:
    """Versions, data hash, the command that reproduces this page, seed and date."""
    section = Section("provenance", "Provenance")
    rows = [(k, v) for k, v in provenance.items() if k != "commands"]
    rows += [
        ("data hash (SHA-256)", runs.data_hash()),
        ("column mapping", ", ".join(f"{k} <- {v}" for k, v in runs.mapping.items())),
    ]
    section.blocks.append(table("Provenance", ("item", "value"), rows, numeric=False))
    section.blocks.append(Paragraph("To reproduce this report and its fits:"))
    section.blocks.append(Notes(tuple(provenance["commands"]), kind="code"))
    return section
