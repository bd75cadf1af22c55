"""Precision, sparsity and MoE laws: each fitted through the CLI from its own columns,
the Krajewski preset, what optimal and validate do with them, the average parameter count.

Exact, noisy and interval recovery of every law are in test_common.py (the shared contract).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglab.errors import ScalinglabError
from scalinglab.laws import get_law
from scalinglab.laws.examples import example, simulate
from scalinglab.laws.presets import get_preset
from scalinglab.laws.sparsity import average_param_count

# Each law's inputs read from columns named as a user's table would name them.
COLUMNS = {
    "kumar2024": {"N": "params", "D": "tokens", "P": "train_bits"},
    "kumar2024_ptq": {"N": "params", "D": "tokens", "P_post": "quant_bits"},
    "jin2025": {"N_bar": "avg_params", "D": "tokens"},
    "krajewski2024": {"N": "active_params", "D": "tokens", "G": "granularity"},
    "ludziejewski2025": {"N": "active_params", "D": "tokens", "E_hat": "experts_hat"},
}


def _write(tmp_path, name: str, extra: dict | None = None):
    """The law's exact synthetic example as a CSV with the user's column names."""
    law = get_law(name)
    truth = example(law)
    data = simulate(law, truth.params, truth.inputs)
    names = {**COLUMNS[name], "loss": "loss"}
    frame = pd.DataFrame({names[k]: v for k, v in data.items()}).assign(**(extra or {}))
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path, dict(truth.params)


def _mapping(name: str) -> list[str]:
    """--N/--D for those inputs, --input NAME=COLUMN for the others."""
    args = []
    for input_name, column in COLUMNS[name].items():
        if input_name in ("N", "D"):
            args += [f"--{input_name}", column]
        else:
            args += ["--input", f"{input_name}={column}"]
    return args


@pytest.mark.parametrize("name", list(COLUMNS))
def test_cli_fits_each_law_from_its_own_columns(tmp_path, invoke_json, name):
    path, truth = _write(tmp_path, name)
    fitted = invoke_json(
        "fit", str(path), "--law", name, *_mapping(name), "--bootstrap", "0"
    )
    assert fitted["law"]["inputs"] == list(COLUMNS[name])
    assert fitted["params"] == pytest.approx(truth, rel=1e-6)


def test_effective_params_halve_at_gamma_ln2_bits_and_vanish_at_high_precision():
    law = get_law("kumar2024")
    params = dict(E=1.8, A=480.0, alpha=0.35, B=2000.0, beta=0.37, gamma=2.5)
    chinchilla = get_law("chinchilla")
    dense = {k: v for k, v in params.items() if k != "gamma"}
    N, D = 1e9, 2e10
    at_half = law.predict(params, N=N, D=D, P=2.5 * np.log(2.0))
    assert at_half == pytest.approx(chinchilla.predict(dense, N=N / 2, D=D), rel=1e-12)
    high = law.predict(params, N=N, D=D, P=200.0)
    assert high == pytest.approx(chinchilla.predict(dense, N=N, D=D), rel=1e-12)


def test_ptq_degradation_grows_with_data_and_falls_with_bits():
    law = get_law("kumar2024_ptq")
    p = dict(example(law).params)
    base = get_law("chinchilla").predict(
        {k: p[k] for k in ("E", "A", "B", "alpha", "beta")}, N=1e8, D=[2e9, 2e10]
    )
    delta = law.predict(p, N=1e8, D=[2e9, 2e10], P_post=[4.0, 4.0]) - base
    # C_T D^gamma_D N^-gamma_N exp(-P/gamma_post), by hand: tenfold data, 10^0.5 the loss.
    assert delta[1] / delta[0] == pytest.approx(10 ** p["gamma_D"], rel=1e-9)
    assert delta[0] == pytest.approx(
        p["C_T"] * 2e9 ** p["gamma_D"] * 1e8 ** -p["gamma_N"] * np.exp(-4.0), rel=1e-9
    )


def test_krajewski_preset_optimum_matches_the_closed_form(invoke_json):
    """At fixed G the law is Chinchilla with A' = g G^-gamma + a (Hoffmann eq. 4)."""
    p = get_preset("krajewski2024").params
    found = invoke_json(
        "optimal", "--preset", "krajewski2024", "--compute", "1e21", "--at", "G=8"
    )
    A = p["g"] * 8.0 ** -p["gamma"] + p["a"]
    G = (p["alpha"] * A / (p["beta"] * p["b"])) ** (1 / (p["alpha"] + p["beta"]))
    expected = G * (1e21 / 6) ** (p["beta"] / (p["alpha"] + p["beta"]))
    assert found["N"] == pytest.approx(expected, rel=1e-4)
    assert "UNVERIFIED" in get_preset("krajewski2024").notes


def test_optimal_refuses_a_law_of_the_average_parameter_count(tmp_path, invoke):
    path, _ = _write(tmp_path, "jin2025")
    saved = tmp_path / "fit.json"
    code, _, _ = invoke(
        "fit",
        str(path),
        "--law",
        "jin2025",
        *_mapping("jin2025"),
        "--bootstrap",
        "0",
        "-o",
        str(saved),
    )
    assert code == 0
    code, _, err = invoke("optimal", "--fit", str(saved), "--compute", "1e22")
    assert code == 1
    assert "needs a law of N and D; 'jin2025' takes N_bar, D" in err
    assert "give values" not in err


@pytest.mark.parametrize("name", ["kumar2024", "krajewski2024"])
def test_validate_takes_the_law_inputs(tmp_path, invoke_json, name):
    path, _ = _write(tmp_path, name)
    result = invoke_json(
        "validate",
        str(path),
        "--law",
        name,
        *_mapping(name),
        "--holdout",
        "N >= 1e9",
        "--bootstrap",
        "10",
    )
    assert result["summary"]["n_heldout"] > 0
    assert result["summary"]["median_abs_rel_error"] < 1e-9


def test_validate_jin2025_splits_on_a_parameter_column_beside_N_bar(
    tmp_path, invoke_json
):
    """validate splits on N, D or C, so it needs an N column (here the final size);
    the law itself reads N_bar."""
    law = get_law("jin2025")
    N_bar = example(law).inputs["N_bar"]
    path, _ = _write(tmp_path, "jin2025", extra={"final_params": N_bar * 0.5})
    result = invoke_json(
        "validate",
        str(path),
        "--law",
        "jin2025",
        "--N",
        "final_params",
        "--input",
        "N_bar=avg_params",
        "--D",
        "tokens",
        "--holdout-top",
        "0.2",
        "--by",
        "N",
        "--bootstrap",
        "10",
    )
    assert result["summary"]["median_abs_rel_error"] < 1e-9


def test_average_param_count_of_a_pruning_schedule_matches_the_closed_form():
    """Dense for 30% of training, pruned linearly to 25% over the next 40%, then flat:
    N_bar = 0.3 + 0.4 * (1 + 0.25)/2 + 0.3 * 0.25 = 0.625 of the dense size."""
    step = np.linspace(0.0, 1000.0, 1001)
    fraction = np.interp(step, [0.0, 300.0, 700.0, 1000.0], [1.0, 1.0, 0.25, 0.25])
    assert average_param_count(step, 1e9 * fraction) == pytest.approx(6.25e8, rel=1e-12)


@pytest.mark.parametrize(
    ("step", "params", "match"),
    [
        ([0, 10, 5], [1e9, 1e9, 1e9], "strictly increase"),
        ([0, 10], [1e9, 0.0], "> 0"),
        ([0], [1e9], "at least 2 points"),
    ],
)
def test_average_param_count_refuses_bad_schedules(step, params, match):
    with pytest.raises(ScalinglabError, match=match):
        average_param_count(step, params)
