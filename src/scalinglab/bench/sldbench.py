"""SLDBench (Lin et al. 2025, early in-repo tasks): our laws on each task's extrapolation split.

Each task is read from its folder (``../shared/data/sldbench_early``, see its
SOURCE.md), split as the benchmark splits it, and every applicable law is fitted
on the training part with the default objective. We report, on the held-out
part, R^2 (``1 - SSE / SST`` around the held-out mean, pooled over every
held-out point of the task) and the median absolute relative error. ``law`` is
our best law on the split; ``human_r2`` is the task's human-designed law, fitted
the same way (from our registry, or :mod:`scalinglab.laws.lr_bsz` for lr_bsz).

=========================  ==============================  ===================
task                        split (held out)                human law
=========================  ==============================  ===================
data_constrained            ``unique_tokens`` (D, see       data_constrained
                            below) or N at or above its     (Muennighoff 2023)
                            2nd largest value
moe                         the largest dense size (1.3B),  clark2022
                            final checkpoints
domain_mixture              each size's 6 ``eval`` mixtures mixing (Ye 2024), per
                                                            size and domain
rectified                   819,200 examples, per model     rectified (Lin 2024)
lr_bsz                      the largest size (1.07B), runs  steplaw_loss (Step
                            within 10% of their (N, D)      Law's optimum in a
                            cell's best loss                loss bowl)
=========================  ==============================  ===================

data_constrained: the file's ``unique_tokens`` and ``tokens`` columns are
swapped. ``tokens`` never exceeds ``unique_tokens`` (182 of 182 rows), so read
as labelled no run repeats data, the repetition half-life R_D* has no gradient
(it stayed at its first start value, 2.0) and R_N* went to 0: the implausible
fit. Yet runs that differ only in ``unique_tokens`` at equal ``tokens`` have
different losses (4.2B params, ``tokens`` 12B: 2.618 at 36B down to 2.527 at
84B; 14M params, ``tokens`` 100M: 7.28 at 100M down to 4.30 at 900B), which
only fits ``unique_tokens`` being the tokens trained on: more epochs of the
same unique data. Muennighoff's run names agree (``4b284b12b``: 4.2B params,
84B tokens, 12B unique). We read D from ``unique_tokens`` and U from
``tokens``; the split is SLDBench's, by the column named ``unique_tokens``.

lr_bsz: the target is the smoothed final loss (Step Law's metric), the batch
size is counted in tokens (sequences x 2048). Runs above 1.1x their cell's
best loss are left out of training and scoring: they diverged or sit far up
the walls, which a bowl around the optimum does not model (with them, every
law scores R^2 near 0). The 117 rows the SLDBench copy adds to Step Law's
data (1.07B at D = 1e13, no architecture) are left out: their losses are
within 0.05 of the 1.07B model at 56.9B tokens, so D is not what it says
(``sldbench_early/SOURCE.md``). SLDBench's own human law for this task is not
in the shared data; ``steplaw_loss`` (:mod:`scalinglab.laws.lr_bsz`) stands in
for it: Step Law's published optimum, floor and curvatures fitted.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, ScalinglabError
from ..fit.api import fit
from ..laws.lr_bsz import lr_bsz_law, steplaw_loss_law

__all__ = ["TASKS", "TaskScore", "run_sldbench"]

# SLDBench's MoE split uses the final checkpoint of each model (step 249,000).
MOE_FINAL_STEP = 249_000
# lr_bsz: runs above this factor of their cell's best loss diverged (see above).
LR_BSZ_WALL = 1.1
# lr_bsz: the batch size column counts sequences of this many tokens.
LR_BSZ_SEQUENCE = 2048
# One fitting problem: (law inputs and loss for training, inputs and loss held out).
Problem = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]


@dataclass(frozen=True)
class TaskScore:
    """One task's result: our best law and the human-designed law on its split.

    Attributes
    ----------
    task : the task's folder name.
    law : our law with the best R^2 on the held-out split.
    r2, median_rel_error : that law's scores on the held-out split.
    human_law : the task's human-designed law.
    human_r2, human_median_rel_error : its scores, fitted the same way.
    scores : every law tried: name -> {"r2", "median_rel_error"}.
    n_train, n_heldout : points fitted and held out.
    note : what the split pools or leaves out.
    """

    task: str
    law: str
    r2: float
    median_rel_error: float
    human_law: str
    human_r2: float
    human_median_rel_error: float
    scores: dict
    n_train: int
    n_heldout: int
    note: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _groups_data_constrained(folder: Path) -> Iterator[Problem]:
    import pandas as pd

    frame = pd.read_csv(folder / "data_constrained_scaling_law" / "data.csv")
    # The columns are swapped: "unique_tokens" holds the tokens trained on (D) and
    # "tokens" the unique tokens (U); see the module notes. The split is SLDBench's,
    # by the column it names.
    D, N = frame["unique_tokens"].to_numpy(float), frame["params"].to_numpy(float)
    held = (D >= np.unique(D)[-2]) | (N >= np.unique(N)[-2])
    arrays = {"N": N, "D": D, "U": frame["tokens"].to_numpy(float)}
    yield _split(arrays, frame["loss"].to_numpy(float), held)


def _groups_moe(folder: Path) -> Iterator[Problem]:
    import pandas as pd

    frame = pd.read_csv(folder / "moe_scaling_law" / "data.csv")
    final = frame[frame["step"] == MOE_FINAL_STEP]
    N = final["dense_parameter_count"].to_numpy(float)
    arrays = {"N": N, "E": final["num_experts"].to_numpy(float)}
    yield _split(arrays, final["loss_validation"].to_numpy(float), N == N.max())


def _groups_domain_mixture(folder: Path) -> Iterator[Problem]:
    path = folder / "domain_mixture_scaling_law" / "all_models_data.json"
    sizes = json.loads(path.read_text())
    for parts in sizes.values():
        if not parts.get("train") or not parts.get("eval"):
            continue  # the 1B size is empty in this snapshot
        rows = parts["train"] + parts["eval"]
        held = np.arange(len(rows)) >= len(parts["train"])
        proportions = np.array([r["proportions"] for r in rows], dtype=float)
        losses = np.array([r["loss"] for r in rows], dtype=float)
        arrays = {f"r{j + 1}": proportions[:, j] for j in range(proportions.shape[1])}
        for domain in range(losses.shape[1]):
            yield _split(arrays, losses[:, domain], held)


def _groups_rectified(folder: Path) -> Iterator[Problem]:
    import pandas as pd

    for path in sorted((folder / "rectified_scaling_law").glob("*.csv")):
        frame = pd.read_csv(path)
        sizes = np.array([float(c) for c in frame.columns[1:]])
        for _, row in frame.iterrows():
            loss = row.iloc[1:].to_numpy(float)
            keep = np.isfinite(loss) & (sizes > 0)
            yield _split({"D": sizes[keep]}, loss[keep], sizes[keep] == sizes.max())


def _groups_lr_bsz(folder: Path) -> Iterator[Problem]:
    import pandas as pd

    frame = pd.read_csv(folder / "lr_bsz_scaling_law" / "dense_lr_bs_loss_sld.csv")
    frame = frame[frame["h"].notna()]  # the 117 added rows (see the module notes)
    loss = frame["smooth loss"].to_numpy(float)
    best = frame.groupby(["N", "D"])["smooth loss"].transform("min").to_numpy()
    near = loss <= LR_BSZ_WALL * best
    frame, loss = frame[near], loss[near]
    N = frame["N"].to_numpy(float)
    arrays = {
        "N": N,
        "D": frame["D"].to_numpy(float),
        "lr": frame["lr"].to_numpy(float),
        "bs": frame["bs"].to_numpy(float) * LR_BSZ_SEQUENCE,
    }
    yield _split(arrays, loss, N == N.max())


def _split(arrays: dict, loss: np.ndarray, held: np.ndarray) -> Problem:
    train = {k: v[~held] for k, v in arrays.items()} | {"loss": loss[~held]}
    test = {k: v[held] for k, v in arrays.items()} | {"loss": loss[held]}
    return train, test


@dataclass(frozen=True)
class _Task:
    folder: str
    groups: Callable[[Path], Iterator[Problem]]
    laws: tuple[str, ...]
    human: str
    note: str = ""


TASKS = {
    "data_constrained_scaling_law": _Task(
        "data_constrained_scaling_law",
        _groups_data_constrained,
        ("data_constrained", "chinchilla"),
        "data_constrained",
    ),
    "moe_scaling_law": _Task(
        "moe_scaling_law", _groups_moe, ("clark2022", "power(N)"), "clark2022"
    ),
    "domain_mixture_scaling_law": _Task(
        "domain_mixture_scaling_law",
        _groups_domain_mixture,
        ("mixing(r1,r2,r3,r4,r5)",),
        "mixing(r1,r2,r3,r4,r5)",
        "one fit per model size and target domain (4 sizes x 5 domains), pooled",
    ),
    "rectified_scaling_law": _Task(
        "rectified_scaling_law",
        _groups_rectified,
        ("rectified", "power(D)"),
        "rectified",
        "one fit per pre-trained model and task (flan, gigaword, wikiword), pooled",
    ),
    "lr_bsz_scaling_law": _Task(
        "lr_bsz_scaling_law",
        _groups_lr_bsz,
        ("lr_bsz", "steplaw_loss"),
        "steplaw_loss",
        "smoothed loss of runs within 10% of their cell's best; the 117 rows at "
        "D = 1e13 left out",
    ),
}
# Laws of a task that are not in the registry (scalinglab.laws.lr_bsz).
_LOCAL_LAWS = {"lr_bsz": lr_bsz_law, "steplaw_loss": steplaw_loss_law}


def run_sldbench(folder: str | Path) -> list[TaskScore]:
    """Score our laws and each task's human law on every SLDBench task found in ``folder``.

    Raises
    ------
    InputError
        When ``folder`` holds none of the tasks.
    """
    folder = Path(folder)
    present = [t for t in TASKS.values() if (folder / t.folder).is_dir()]
    if not present:
        raise InputError(
            f"the folder holds none of the SLDBench tasks ({', '.join(TASKS)}); "
            "point it at the sldbench_early folder.",
            source=str(folder),
        )
    return [_run_task(folder, task) for task in present]


def _run_task(folder: Path, task: _Task) -> TaskScore:
    problems = list(task.groups(folder))
    scores = {law: _score_law(law, problems) for law in task.laws}
    best = max(scores, key=lambda name: scores[name]["r2"])
    human = scores[task.human]
    return TaskScore(
        task=task.folder,
        law=best,
        r2=scores[best]["r2"],
        median_rel_error=scores[best]["median_rel_error"],
        human_law=task.human,
        human_r2=human["r2"],
        human_median_rel_error=human["median_rel_error"],
        scores=scores,
        n_train=sum(train["loss"].size for train, _ in problems),
        n_heldout=sum(test["loss"].size for _, test in problems),
        note=task.note,
    )


def _score_law(law: str, problems: list[Problem]) -> dict:
    predicted, actual = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # per-fit diagnostics; the scores say enough
        for train, test in problems:
            try:
                spec = _LOCAL_LAWS[law]() if law in _LOCAL_LAWS else law
                result = fit(spec, train, bootstrap=0)
            except ScalinglabError:
                predicted.append(np.full(test["loss"].size, np.nan))
            else:
                inputs = {n: test[n] for n in result.law.inputs}
                predicted.append(result.predict(**inputs))
            actual.append(test["loss"])
    return _scores(np.concatenate(predicted), np.concatenate(actual))


def _scores(predicted: np.ndarray, actual: np.ndarray) -> dict:
    if not np.all(np.isfinite(predicted)):
        return {"r2": -np.inf, "median_rel_error": np.inf}
    sse = np.sum((predicted - actual) ** 2)
    sst = np.sum((actual - actual.mean()) ** 2)
    return {
        "r2": float(1.0 - sse / sst),
        "median_rel_error": float(np.median(np.abs(predicted / actual - 1.0))),
    }
