"""Conventions: allowed values, JSON round trip, which loss units may be negative."""

from __future__ import annotations

import json

import pytest

from scalinglab.data import Conventions
from scalinglab.data.conventions import loss_may_be_negative
from scalinglab.errors import ScalinglabError


def test_defaults():
    assert Conventions().to_dict() == {"N": "unknown", "C": "6ND", "loss": "nats"}


def test_round_trip_through_json():
    conv = Conventions(N="active", C="given", loss="bits_per_byte")
    assert Conventions.from_dict(json.loads(json.dumps(conv.to_dict()))) == conv


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"N": "embedding"},
            "must be one of total, non_embedding, active, unknown; got 'embedding'",
        ),
        ({"C": "6nd"}, "must be one of 6ND, given; got '6nd'"),
        ({"loss": " "}, "loss unit must be a non-empty string"),
    ],
)
def test_invalid_values_say_what_is_allowed(kwargs, message):
    with pytest.raises(ScalinglabError, match=message):
        Conventions(**kwargs)


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(ScalinglabError, match=r"unknown convention keys \['flops'\]"):
        Conventions.from_dict({"N": "total", "flops": "6ND"})


@pytest.mark.parametrize(
    ("unit", "signed"),
    [
        ("nats", False),
        ("bits", False),
        ("bits_per_byte", False),
        ("unigram_normalized", True),
        ("normalised", True),
        ("relative", True),
        ("delta_nats", True),
    ],
)
def test_which_units_allow_negative_losses(unit, signed):
    assert loss_may_be_negative(unit) is signed
