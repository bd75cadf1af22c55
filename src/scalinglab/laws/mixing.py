"""Data mixtures: Ye et al. 2024's exponential mixing law of the domain proportions."""

from __future__ import annotations

import inspect
import re

import numpy as np

from ..errors import ScalinglabError
from .base import Law, make_law

DEFAULT_DOMAINS = ("r1", "r2", "r3")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_C_GRID = tuple(np.exp([-1.0, 0.0, 1.0]))
_K_GRID = tuple(np.exp([-2.0, 0.0, 2.0]))
_T_GRID = (-3.0, -1.0, 0.0, 1.0)


def _mixing_function(domains: tuple[str, ...]):
    """L = c + k exp(sum_j t_j r_j) over all domains but the last (its t is 0: with
    proportions summing to 1 a common shift of every t_j is the same as a change of k)."""
    slopes = [f"t_{d}" for d in domains[:-1]]

    def mixing(*proportions, c, k, **t):
        exponent = sum(t[name] * r for name, r in zip(slopes, proportions))
        return c + k * np.exp(exponent)

    positional = [
        inspect.Parameter(d, inspect.Parameter.POSITIONAL_OR_KEYWORD) for d in domains
    ]
    keyword = [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY)
        for n in ("c", "k", *slopes)
    ]
    mixing.__signature__ = inspect.Signature(positional + keyword)
    return mixing, slopes


def mixing_law(domains: tuple[str, ...] | list[str] = DEFAULT_DOMAINS) -> Law:
    """Ye et al.'s mixing law for one target domain: ``L = c + k exp(sum_j t_j r_j)``.

    Parameters
    ----------
    domains : names of the proportion columns (each row's proportions sum to 1),
        at least two. The last is the reference domain: its slope is 0, since a
        common shift of all slopes is absorbed by ``k``. Registered as ``mixing``
        for three columns ``r1, r2, r3``; ``get_law("mixing(a,b,c)")`` names them.

    Returns
    -------
    Law
        Parameters ``c`` (loss floor), ``k`` and ``t_<domain>`` for all but the
        last domain (negative: more of that domain lowers this loss).

    Notes
    -----
    No preset: the slopes depend on the domains and the target, and the shared
    reference gives none of the paper's fitted values.
    """
    domains = tuple(domains)
    bad = [d for d in domains if not _NAME.match(d) or d in ("c", "k")]
    if len(domains) < 2 or len(set(domains)) != len(domains) or bad:
        raise ScalinglabError(
            "mixing_law needs two or more distinct column names (not c or k) for the "
            f"domain proportions, each of letters, digits and _ not starting with a "
            f"digit; got {list(domains)}"
            + (
                f" ({', '.join(map(repr, bad))} not usable: rename the column)."
                if bad
                else "."
            )
        )
    function, slopes = _mixing_function(domains)
    settings = {
        "c": dict(init=1.0, lower=0.0, log=True, grid=_C_GRID),
        "k": dict(init=1.0, lower=0.0, log=True, grid=_K_GRID),
    }
    settings |= {
        s: dict(init=0.0, lower=-30.0, upper=30.0, grid=_T_GRID) for s in slopes
    }
    terms = " + ".join(f"t_{d}*{d}" for d in domains[:-1])
    return make_law(
        function,
        settings,
        name="mixing" if domains == DEFAULT_DOMAINS else f"mixing({','.join(domains)})",
        formula=f"L = c + k*exp({terms})",
        reference="Ye et al. 2024, arXiv 2403.16952 (Data Mixing Laws), eq. 1",
    )
