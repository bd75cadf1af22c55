"""Map a user's column names onto the canonical N, D, C, loss, run, U, step."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence

from ..errors import InputError

CANONICAL = ("N", "D", "C", "loss", "run", "U", "step")

MEANING = {
    "N": "parameters",
    "D": "training tokens",
    "C": "training FLOPs",
    "loss": "loss",
    "run": "run id",
    "U": "unique tokens",
    "step": "training step",
}

# Normalised spellings (lower case, spaces/dashes/dots as "_") recognised when
# the user names no column. Order does not matter: two hits are an ambiguity.
ALIASES: dict[str, tuple[str, ...]] = {
    "N": (
        "params",
        "parameters",
        "n_params",
        "num_params",
        "model_size",
        "nparams",
        "n_parameters",
        "num_parameters",
        "param_count",
        "parameter_count",
        "total_params",
        "params_total",
        "n_nonembed",
        "params_nonembed",
        "non_embedding_params",
        "nonembedding_params",
        "active_params",
        "n_active_params",
    ),
    "D": (
        "tokens",
        "n_tokens",
        "data",
        "train_tokens",
        "num_tokens",
        "training_tokens",
        "total_tokens",
        "tokens_seen",
    ),
    "C": (
        "flops",
        "compute",
        "flop",
        "training_flop",
        "training_flops",
        "train_flops",
        "total_flops",
        "model_flops",
        "training_compute",
    ),
    "loss": (
        "final_loss",
        "eval_loss",
        "val_loss",
        "train_loss",
        "validation_loss",
        "valid_loss",
    ),
    "run": ("run_id", "name", "model", "run_name"),
    "U": ("unique_tokens", "n_unique", "unique_data", "unique_tokens_count"),
    "step": ("global_step", "iteration"),
}


def describe(canonical: str) -> str:
    """``"N"`` -> ``"N (parameters)"``; ``"loss"`` stays ``"loss"``."""
    meaning = MEANING[canonical]
    return canonical if meaning == canonical else f"{canonical} ({meaning})"


def normalise(name: object) -> str:
    """``"Model Size"`` -> ``"model_size"``: lower case, separators as underscores."""
    return re.sub(r"[\s\-./]+", "_", str(name).strip().lower()).strip("_")


def flag_hint(canonical: str) -> str:
    """How to name a column for ``canonical`` from the CLI and from Python."""
    return f"pass --{canonical} COLUMN (Python: read_runs(..., {canonical}='COLUMN'))"


def resolve_columns(
    columns: Sequence[object],
    explicit: Mapping[str, str | None],
    *,
    source: str,
) -> tuple[dict[str, str], list[str]]:
    """Find the user's column for each canonical name.

    Parameters
    ----------
    columns : sequence
        The column names of the table.
    explicit : mapping
        Canonical name -> the user's column name, or None to search for the
        canonical name and then its aliases.
    source : str
        File name for error messages.

    Returns
    -------
    mapping : dict
        Canonical name -> original column, only for the columns found.
    notes : list of str
        Which aliases were used.

    Raises
    ------
    InputError
        A named column is absent, two columns could serve one role, or one
        column is named for two roles.
    """
    mapping: dict[str, str] = {}
    for canonical in CANONICAL:
        if explicit.get(canonical) is not None:
            mapping[canonical] = _find_named(
                columns, canonical, explicit[canonical], source
            )
    _reject_shared(mapping, source)
    notes = []
    claimed = set(mapping.values())
    for canonical in CANONICAL:
        if canonical in mapping:
            continue
        found, alias_used = _find_default(columns, canonical, claimed, source)
        if found is not None:
            mapping[canonical] = found
            claimed.add(found)
            if alias_used:
                notes.append(
                    f"{canonical} read from column {found!r} (recognised alias)"
                )
    return mapping, notes


def _find_named(
    columns: Sequence[object], canonical: str, name: str, source: str
) -> str:
    if name in columns:
        return name
    loose = [c for c in columns if normalise(c) == normalise(name)]
    if len(loose) == 1:
        return loose[0]
    raise InputError(
        f"column {name!r} given for {describe(canonical)} is not in the table. "
        f"{_available(columns, name)} Check the spelling of --{canonical}.",
        source=source,
        column=name,
    )


def _find_default(
    columns: Sequence[object], canonical: str, claimed: set, source: str
) -> tuple[str | None, bool]:
    free = [c for c in columns if c not in claimed]
    exact = [c for c in free if normalise(c) == normalise(canonical)]
    if exact:
        return _only(exact, canonical, source), False
    aliases = [c for c in free if normalise(c) in ALIASES[canonical]]
    if aliases:
        return _only(aliases, canonical, source), True
    return None, False


def _only(candidates: list, canonical: str, source: str) -> str:
    if len(candidates) == 1:
        return candidates[0]
    names = " and ".join(repr(c) for c in candidates)
    raise InputError(
        f"columns {names} could each be {describe(canonical)}; "
        f"say which one to use: {flag_hint(canonical)}.",
        source=source,
    )


def _reject_shared(mapping: dict[str, str], source: str) -> None:
    seen: dict[str, str] = {}
    for canonical, original in mapping.items():
        if original in seen:
            raise InputError(
                f"column {original!r} is named for both {seen[original]} and "
                f"{canonical}; "
                "each role needs its own column.",
                source=source,
                column=original,
            )
        seen[original] = canonical


def missing_column_error(
    columns: Sequence[object], canonical: str, source: str
) -> InputError:
    """The error for a required canonical column that was not found."""
    looked = ", ".join([canonical, *ALIASES[canonical]])
    return InputError(
        f"no column for {describe(canonical)}: looked for {looked} "
        f"(case-insensitive). {_available(columns, canonical)}{_header_hint(columns)}"
        f"{_delimiter_hint(columns)} "
        f"P{flag_hint(canonical)[1:]}.",
        source=source,
    )


def _delimiter_hint(columns: Sequence[object]) -> str:
    """A hint when the whole header is one column holding another delimiter (``N;D;loss``)."""
    if len(columns) != 1:
        return ""
    header = str(columns[0])
    found = [
        name
        for char, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars"))
        if char in header
    ]
    if not found:
        return ""
    return (
        f" The header is a single column split by {found[0]}: the table uses another "
        "delimiter than its reader expects; save it comma-separated as .csv (or "
        "tab-separated as .tsv)."
    )


def _header_hint(columns: Sequence[object]) -> str:
    """A hint when the 'column names' are numbers: the file probably lacks a header."""

    def numeric(name: object) -> bool:
        # pandas renames a repeated header "1e8" to "1e8.1"
        try:
            float(re.sub(r"\.\d+$", "", str(name).strip()))
        except ValueError:
            return False
        return True

    if columns and all(numeric(c) for c in columns):
        return (
            " The first line looks like data, not a header: add a header line "
            "naming the columns (e.g. N,D,loss)."
        )
    return ""


def _available(columns: Sequence[object], wanted: str) -> str:
    names = [str(c) for c in columns]
    shown = ", ".join(repr(c) for c in names[:30])
    more = f" and {len(names) - 30} more" if len(names) > 30 else ""
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)
    if not close:
        lowered = {n.lower(): n for n in names}
        close = [
            lowered[m]
            for m in difflib.get_close_matches(wanted.lower(), list(lowered), n=3)
        ]
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"Available columns: {shown}{more}.{hint}"
