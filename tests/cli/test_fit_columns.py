"""``fit`` for laws without N: ``--domains`` (mixing), laws of D alone, negative losses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglab.laws import get_law

DOMAINS = "code,web,books"
MIXING_TRUTH = {"c": 2.0, "k": 1.5, "t_code": -1.2, "t_web": 0.8}
RECTIFIED_TRUTH = {"B": 300.0, "D_l": 40.0, "beta": 0.6, "E": 1.2}
TAO_TRUTH = {
    "E": 5.5,
    "A1": 200.0,
    "alpha1": 0.35,
    "A2": 30.0,
    "alpha2": 0.3,
    "B": 5000.0,
    "beta": 0.35,
}


def _mixes(path) -> None:
    shares = np.random.default_rng(0).dirichlet(np.ones(3), size=40)
    frame = pd.DataFrame(shares, columns=DOMAINS.split(","))
    law = get_law(f"mixing({DOMAINS})")
    frame["loss"] = law.predict(MIXING_TRUTH, **{c: frame[c] for c in frame})
    frame.to_csv(path, index=False)


def test_domains_name_the_proportion_columns_of_the_mixing_law(tmp_path, invoke_json):
    _mixes(tmp_path / "mixes.csv")
    fitted = invoke_json(
        "fit", str(tmp_path / "mixes.csv"), "--law", "mixing", "--domains", DOMAINS,
        "--bootstrap", "0",
    )  # fmt: skip
    assert fitted["law"]["inputs"] == DOMAINS.split(",")
    assert fitted["params"] == pytest.approx(MIXING_TRUTH, rel=1e-5)


def test_domains_errors_exit_1_naming_the_column(tmp_path, invoke):
    _mixes(tmp_path / "mixes.csv")
    data = str(tmp_path / "mixes.csv")
    code, _, err = invoke("fit", data, "--law", "mixing", "--domains", "code,wbe,books")
    assert code == 1 and "no column 'wbe'" in err
    code, _, err = invoke(
        "fit", data, "--law", "mixing", "--domains", "code,w-eb,books"
    )
    assert code == 1 and "'w-eb' not usable: rename the column" in err
    code, _, err = invoke("fit", data, "--law", "chinchilla", "--domains", DOMAINS)
    assert code == 1 and "--domains names the proportion columns" in err


def test_rectified_law_of_D_alone_from_a_table_without_N(tmp_path, invoke_json):
    examples = np.array([200.0 * 2**k for k in range(12)])
    loss = get_law("rectified").predict(RECTIFIED_TRUTH, D=examples)
    pd.DataFrame({"examples": examples, "loss": loss}).to_csv(
        tmp_path / "sft.csv", index=False
    )
    fitted = invoke_json(
        "fit", str(tmp_path / "sft.csv"), "--law", "rectified", "--D", "examples",
        "--bootstrap", "0",
    )  # fmt: skip
    assert fitted["params"] == pytest.approx(RECTIFIED_TRUTH, rel=1e-4)
    assert any("no N column" in note for note in fitted["provenance"]["notes"])


def test_a_law_of_N_still_needs_N(tmp_path, invoke):
    pd.DataFrame({"tokens": [1e9, 2e9, 4e9], "loss": [3.0, 2.9, 2.8]}).to_csv(
        tmp_path / "runs.csv", index=False
    )
    code, _, err = invoke("fit", str(tmp_path / "runs.csv"), "--law", "chinchilla")
    assert code == 1 and "no column for N" in err


def _vocab_runs(path) -> None:
    grid = np.array(np.meshgrid([3e7, 1e8, 3e8], [2e6, 8e6, 3e7], [1e9, 1e10, 1e11]))
    N, N_v, H = grid.reshape(3, -1)
    loss = get_law("tao2024").predict(TAO_TRUTH, N=N, N_v=N_v, H=H)
    frame = pd.DataFrame({"N": N, "vocab_params": N_v, "chars": H, "Lossu": loss})
    frame.assign(FLOPs=6 * N * H / 4).to_csv(path, index=False)


def test_tao2024_negative_losses_with_their_unit_named(tmp_path, invoke, invoke_json):
    _vocab_runs(tmp_path / "vocab.csv")
    args = [
        "fit", str(tmp_path / "vocab.csv"), "--law", "tao2024", "--loss", "Lossu",
        "--input", "N_v=vocab_params", "--input", "H=chars", "--bootstrap", "0",
    ]  # fmt: skip
    code, _, err = invoke(*args)
    assert code == 1 and "--loss-unit normalized" in err
    fitted = invoke_json(*args, "--loss-unit", "unigram_normalized")
    assert fitted["params"] == pytest.approx(TAO_TRUTH, rel=1e-3)


def _regmix_files(folder, n: int, seed: int) -> None:
    """RegMix's layout: mixtures and losses in two files joined on ``index``."""
    shares = np.random.default_rng(seed).dirichlet(np.ones(3), size=n)
    names = [f"train_{d}" for d in DOMAINS.split(",")]
    mixtures = pd.DataFrame(shares, columns=names).assign(index=np.arange(n))
    loss = shares @ np.array([3.2, 2.5, 4.0])
    mixtures.to_csv(folder / f"mix{seed}.csv", index=False)
    pd.DataFrame({"index": np.arange(n)[::-1], "target": loss[::-1]}).to_csv(
        folder / f"loss{seed}.csv", index=False
    )


def test_mix_fit_regmix_then_optimize_under_bounds(tmp_path, invoke, invoke_json):
    for seed in (0, 1):
        _regmix_files(tmp_path, 30, seed)
    fitted = invoke_json(
        "mix", "fit", str(tmp_path / "mix0.csv"), "--losses", str(tmp_path / "loss0.csv"),
        "--domains", "train_*", "--loss", "target", "--test", str(tmp_path / "mix1.csv"),
        "--test-losses", str(tmp_path / "loss1.csv"), "-o", str(tmp_path / "rm.json"),
    )  # fmt: skip
    assert fitted["coef"] == pytest.approx([3.2, 2.5, 4.0], rel=1e-9)
    assert fitted["rank_correlation"] == pytest.approx(1.0)
    best = invoke_json(
        "mix", "optimize", "--fit", str(tmp_path / "rm.json"),
        "--bound", "train_web=0,0.4",
    )  # fmt: skip
    assert best["proportions"] == pytest.approx(
        {"train_code": 0.6, "train_web": 0.4, "train_books": 0.0}, abs=1e-6
    )
    code, _, err = invoke(
        "mix", "fit", str(tmp_path / "mix0.csv"), "--losses", str(tmp_path / "loss0.csv"),
        "--domains", "train_*", "--loss", "nope",
    )  # fmt: skip
    assert code == 1 and "no column 'nope'" in err and "loss0.csv" in err
