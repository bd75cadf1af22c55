"""Published presets reproduce the numbers their papers (and reference/formulas.md) derive."""

from __future__ import annotations

import pytest

from scalinglab.errors import ScalinglabError
from scalinglab.laws.presets import PRESETS, get_preset


def test_hoffmann_rounded_gopher_budget():
    """Hoffmann's printed coefficients: N* = 3.22e10, D/N ~ 93, L* = 1.931 at C = 5.76e23."""
    allocation = get_preset("hoffmann2022_rounded").optimal(5.76e23)
    assert allocation.N == pytest.approx(3.22e10, rel=2e-3)
    assert allocation.tokens_per_param == pytest.approx(92.6, rel=2e-3)
    assert allocation.loss == pytest.approx(1.931, abs=5e-4)


def test_hoffmann_unrounded_is_between_40_and_70_billion():
    allocation = get_preset("hoffmann2022").optimal(5.76e23)
    assert allocation.N == pytest.approx(4.04e10, rel=2e-3)
    assert allocation.D == pytest.approx(2.38e12, rel=2e-3)


@pytest.mark.parametrize("compute, ratio", [(5.88e23, 18.4), (1e21, 21.6), (1e25, 17.1)])
def test_besiroglu_tokens_per_parameter(compute, ratio):
    allocation = get_preset("besiroglu2024").optimal(compute)
    assert allocation.tokens_per_param == pytest.approx(ratio, abs=0.05)


def test_muennighoff_worked_example_and_constrained_optimum():
    """datablations README: L(6.34e9, 242e9, U=25e9) = 2.2256; at C=1e22, U=25e9: N ~ 7.0B, D ~ 237B."""
    preset = get_preset("muennighoff2023")
    assert preset.predict(N=6.34e9, D=242e9, U=25e9) == pytest.approx(2.2256, abs=1e-4)
    allocation = preset.optimal(1e22, U=25e9)
    assert allocation.N == pytest.approx(7.0e9, rel=0.01)
    assert allocation.D == pytest.approx(237e9, rel=0.01)


def test_kaplan_preset_predicts_its_own_formula():
    preset = get_preset("kaplan2020")
    N, D = 1e9, 2e10
    expected = ((6.4e13 / N) ** (0.076 / 0.103) + 1.8e13 / D) ** 0.103
    assert preset.predict(N=N, D=D) == pytest.approx(expected, rel=1e-12)


def test_every_preset_cites_its_source_and_conventions():
    for preset in PRESETS.values():
        described = preset.describe()
        assert "arXiv" in described["source"]
        assert "N " in described["conventions"]


def test_unknown_preset_lists_the_choices():
    with pytest.raises(ScalinglabError, match="besiroglu2024"):
        get_preset("chinchila")
