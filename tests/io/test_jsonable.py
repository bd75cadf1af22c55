"""One JSON sanitiser (``scalinglab._json.jsonable``) for saved fits, ``--json`` and tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from scalinglab._json import jsonable
from scalinglab.io.readers import read_table, write_table


def test_numpy_scalars_of_every_kind_become_plain_json():
    value = {
        "flag": np.bool_(True),
        "count": np.int32(3),
        "name": np.str_("run-1"),
        "loss": np.float32(2.5),
        "missing": np.float64(np.nan),
        "unbounded": np.inf,
        "grid": np.array([1.0, np.nan]),
    }
    out = jsonable(value)
    assert json.loads(json.dumps(out, allow_nan=False)) == {
        "flag": True,
        "count": 3,
        "name": "run-1",
        "loss": 2.5,
        "missing": None,
        "unbounded": None,
        "grid": [1.0, None],
    }
    assert type(out["flag"]) is bool and type(out["count"]) is int


def test_a_written_jsonl_table_reads_back_with_missing_values_as_null(tmp_path):
    frame = pd.DataFrame(
        {"N": [1e6, 2e6], "loss": [np.nan, 3.0], "done": [True, False]}
    )
    path = write_table(frame, tmp_path / "runs.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [
        {"N": 1e6, "loss": None, "done": True},
        {"N": 2e6, "loss": 3.0, "done": False},
    ]
    back = read_table(path)
    assert back.frame["N"].tolist() == [1e6, 2e6]
