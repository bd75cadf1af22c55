"""Routed (mixture-of-experts) language models: Clark et al. 2022, fine-grained
(Krajewski et al. 2024) and joint (Ludziejewski et al. 2025) MoE laws."""

from __future__ import annotations

import numpy as np

from .base import Law, make_law


def saturated_experts(E, E_start, E_max):
    """Clark et al.'s saturating expert count: 1/Ê = 1/(E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max.

    Ê = E_start at E = 1 and tends to E_max for many experts.
    """
    offset = 1.0 / (1.0 / E_start - 1.0 / E_max)
    return 1.0 / (1.0 / (E - 1.0 + offset) + 1.0 / E_max)


def clark2022(N, E, *, a, b, c, d, E_start, E_max):
    """log L = a log N + b log Ê + c log N log Ê + d  (Clark et al. 2022, eq. 7 with Ê)."""
    log_N = np.log(N)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_E = np.log(saturated_experts(E, E_start, E_max))
    return np.exp(a * log_N + b * log_E + c * log_N * log_E + d)


def clark2022_law() -> Law:
    """Clark et al.'s unified law for routed models: dense parameters ``N``, experts ``E``.

    ``N`` is the dense (per-token) parameter count of the base model and ``E``
    the number of experts (1 for the dense model); map the experts column with
    ``--input E=num_experts``. Negative ``b`` means experts help; positive ``c``
    means they help less as the base model grows. ``E_max`` must exceed
    ``E_start`` (otherwise Ê is undefined and the point gives no finite loss).
    The paper's coefficients are not in the shared reference, so there is no preset.
    """
    return make_law(
        clark2022,
        {
            "a": dict(init=-0.08, lower=-2.0, upper=2.0, grid=(-0.15, -0.08, -0.03)),
            "b": dict(init=-0.05, lower=-2.0, upper=2.0, grid=(-0.1, -0.03, 0.0)),
            "c": dict(init=0.0, lower=-1.0, upper=1.0, grid=(-0.005, 0.0, 0.005)),
            "d": dict(init=2.0, lower=-20.0, upper=20.0, grid=(1.0, 2.0, 3.0)),
            "E_start": dict(
                init=2.0, lower=1.0, upper=1e3, log=True, grid=(1.5, 5.0, 20.0)
            ),
            "E_max": dict(
                init=300.0, lower=1.0, upper=1e5, log=True, grid=(100.0, 500.0, 3000.0)
            ),
        },
        name="clark2022",
        formula="log L = a log N + b log Ê + c log N log Ê + d,  "
        "1/Ê = 1/(E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max",
        reference="Clark et al. 2022, arXiv 2202.01169 (Unified Scaling Laws for Routed "
        "Language Models)",
    )


def krajewski2024(N, D, G, *, c, g, gamma, a, alpha, b, beta):
    """L = c + (g/G**gamma + a)/N**alpha + b/D**beta  (Krajewski et al. 2024)."""
    return c + (g * G**-gamma + a) * N**-alpha + b * D**-beta


def _krajewski2024_log_jacobian(N, D, G, *, c, g, gamma, a, alpha, b, beta):
    granule, model, data = G**-gamma, N**-alpha, D**-beta
    amplitude = g * granule + a
    loss = c + amplitude * model + b * data
    return {
        "c": 1.0 / loss,
        "g": granule * model / loss,
        "gamma": -g * granule * model * np.log(G) / loss,
        "a": model / loss,
        "alpha": -amplitude * model * np.log(N) / loss,
        "b": data / loss,
        "beta": -b * data * np.log(D) / loss,
    }


def krajewski2024_law() -> Law:
    """Fine-grained MoE: active parameters ``N``, tokens ``D`` and granularity ``G``.

    ``G`` is the ratio of a dense FFN's size to one expert's (``G = 1``: experts
    as large as the FFN); map it with ``--input G=COLUMN``. The form and the preset
    ``krajewski2024`` are as recalled in reference/formulas.md 12.3 (UNVERIFIED there).
    """
    return make_law(
        krajewski2024,
        {
            "c": dict(init=0.5, lower=0.0, log=True, grid=(0.2, 0.5, 1.5)),
            "g": dict(init=2.0, lower=0.0, log=True, grid=(0.3, 2.0, 10.0)),
            "gamma": dict(init=0.5, lower=0.0, upper=3.0, grid=(0.2, 0.6, 1.2)),
            "a": dict(init=20.0, lower=0.0, log=True, grid=(3.0, 20.0, 150.0)),
            "alpha": dict(init=0.1, lower=0.0, upper=3.0, grid=(0.05, 0.15, 0.35)),
            "b": dict(init=30.0, lower=0.0, log=True, grid=(3.0, 30.0, 300.0)),
            "beta": dict(init=0.15, lower=0.0, upper=3.0, grid=(0.05, 0.15, 0.35)),
        },
        name="krajewski2024",
        formula="L = c + (g/G**gamma + a)/N**alpha + b/D**beta",
        log_jacobian=_krajewski2024_log_jacobian,
        reference="Krajewski et al. 2024, arXiv 2402.07871 (Scaling Laws for "
        "Fine-Grained Mixture of Experts); form recalled in reference/formulas.md "
        "12.3, UNVERIFIED",
    )


def ludziejewski2025(N, D, E_hat, *, a, alpha, gamma, delta, b, beta, zeta, omega, c):
    """L = a Ê**delta N**(alpha + gamma ln Ê) + b Ê**omega D**(beta + zeta ln Ê) + c."""
    log_E = np.log(E_hat)
    model = a * E_hat**delta * N ** (alpha + gamma * log_E)
    return model + b * E_hat**omega * D ** (beta + zeta * log_E) + c


def _ludziejewski2025_log_jacobian(
    N, D, E_hat, *, a, alpha, gamma, delta, b, beta, zeta, omega, c
):
    log_E, log_N, log_D = np.log(E_hat), np.log(N), np.log(D)
    model_shape = E_hat**delta * N ** (alpha + gamma * log_E)
    data_shape = E_hat**omega * D ** (beta + zeta * log_E)
    model, data = a * model_shape, b * data_shape
    loss = model + data + c
    return {
        "a": model_shape / loss,
        "alpha": model * log_N / loss,
        "gamma": model * log_N * log_E / loss,
        "delta": model * log_E / loss,
        "b": data_shape / loss,
        "beta": data * log_D / loss,
        "zeta": data * log_D * log_E / loss,
        "omega": data * log_E / loss,
        "c": 1.0 / loss,
    }


def ludziejewski2025_law() -> Law:
    """Joint MoE law: active parameters ``N``, tokens ``D``, transformed experts ``E_hat``.

    ``E_hat`` is the paper's saturating transform of the expert count, whose exact
    form the reference does not give: compute it and map it with
    ``--input E_hat=COLUMN`` (``E_hat = 1`` is a dense model, where the law is
    Chinchilla with exponents ``alpha``, ``beta`` < 0). The exponents are written as
    in the reference (negative for a falling loss). No preset: the reference has no
    verified coefficients.
    """
    small = dict(init=0.0, lower=-1.0, upper=1.0, grid=(-0.02, 0.02))
    return make_law(
        ludziejewski2025,
        {
            "a": dict(init=400.0, lower=0.0, log=True, grid=(10.0, 400.0, 1e4)),
            "alpha": dict(init=-0.34, lower=-3.0, upper=0.0, grid=(-0.6, -0.34, -0.15)),
            "gamma": dict(small, grid=(0.0,)),
            "delta": small,
            "b": dict(init=400.0, lower=0.0, log=True, grid=(10.0, 400.0, 1e4)),
            "beta": dict(init=-0.28, lower=-3.0, upper=0.0, grid=(-0.6, -0.34, -0.15)),
            "zeta": dict(small, grid=(0.0,)),
            "omega": small,
            "c": dict(init=1.8, lower=0.0, log=True, grid=(0.8, 1.8, 3.0)),
        },
        name="ludziejewski2025",
        log_jacobian=_ludziejewski2025_log_jacobian,
        formula="L = a*E_hat**delta*N**(alpha + gamma*log(E_hat)) "
        "+ b*E_hat**omega*D**(beta + zeta*log(E_hat)) + c",
        reference="Ludziejewski et al. 2025, arXiv 2502.05172 (Joint MoE Scaling "
        "Laws); form from reference/formulas.md 12.4 (TEXT via a summary)",
    )
