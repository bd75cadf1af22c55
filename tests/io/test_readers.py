"""File readers: every format round-trips, and unreadable files get clear errors."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from scalinglab.errors import InputError
from scalinglab.io import SUPPORTED_FORMATS, read_table, write_table

FRAME = pd.DataFrame(
    {
        "N": [7.0e7, 1.6e8, 4.1e8, 1.3e9],
        "D": [1.4e9, 3.2e9, 8.2e9, 2.6e10],
        "loss": [3.412345678901234, 3.1, 2.85, 2.6000000000000001],
        "run": ["a", "b", "c", "d"],
    }
)
SUFFIXES = [
    ".csv",
    ".csv.gz",
    ".tsv",
    ".tab",
    ".parquet",
    ".pq",
    ".jsonl",
    ".ndjson",
    ".jsonl.gz",
    ".json",
]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_format_round_trips_bit_identically(tmp_path, suffix):
    path = write_table(FRAME, tmp_path / f"runs{suffix}")
    raw = read_table(path)
    pd.testing.assert_frame_equal(raw.frame, FRAME, check_exact=True)
    np.testing.assert_array_equal(raw.row_numbers, [1, 2, 3, 4])
    assert raw.source == str(path)


def test_unknown_suffix_lists_the_formats(tmp_path):
    path = tmp_path / "runs.xlsx"
    path.write_text("x")
    with pytest.raises(InputError) as err:
        read_table(path)
    message = str(err.value)
    assert str(path) in message and "'.xlsx'" in message
    for suffix in SUPPORTED_FORMATS:
        assert suffix in message


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match=r"runs\.csv: file not found"):
        read_table(tmp_path / "runs.csv")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json", ".parquet"])
def test_empty_file_is_an_error(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="the file is empty"):
        read_table(path)


def test_blank_csv_lines_only_is_an_error(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n")
    with pytest.raises(InputError, match="empty"):
        read_table(path)


def test_jsonl_rows_are_line_numbers_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"N": 1, "loss": 2}\n\n{"N": 3, "loss": 4}\n')
    raw = read_table(path)
    assert raw.frame["N"].tolist() == [1, 3]
    np.testing.assert_array_equal(raw.row_numbers, [1, 3])
    assert raw.row_convention == "1-based line numbers"


def test_bad_jsonl_line_is_named(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"N": 1, "loss": 2}\n{"N": 3, "loss": \n')
    with pytest.raises(InputError) as err:
        read_table(path)
    assert err.value.rows == [2]
    assert "line 2 is not valid JSON" in str(err.value)
    assert str(path) in str(err.value)


def test_jsonl_line_that_is_not_an_object(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"N": 1}\n[1, 2]\n')
    with pytest.raises(
        InputError, match="line 2 holds a JSON list, expected an object"
    ):
        read_table(path)


def test_gzipped_jsonl_reads(tmp_path):
    path = tmp_path / "runs.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write('{"N": 1e8, "loss": 3.0}\n')
    assert read_table(path).frame["N"].tolist() == [1e8]


def test_json_must_be_a_list_of_records(tmp_path):
    path = tmp_path / "runs.json"
    path.write_text('{"N": [1, 2]}')
    with pytest.raises(InputError, match="expected a non-empty JSON array of objects"):
        read_table(path)


def test_json_that_does_not_parse_suggests_jsonl(tmp_path):
    path = tmp_path / "runs.json"
    path.write_text('{"N": 1}\n{"N": 2}\n')
    with pytest.raises(InputError, match=r"should be named \.jsonl"):
        read_table(path)


def test_corrupt_parquet_is_named(tmp_path):
    path = tmp_path / "runs.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="could not read the file as Parquet"):
        read_table(path)


def test_tsv_with_tabs(tmp_path):
    path = tmp_path / "runs.tsv"
    path.write_text("N\tloss\n1.3B\t2.5\n")
    raw = read_table(path)
    assert raw.frame.columns.tolist() == ["N", "loss"]
    assert raw.frame["N"].tolist() == ["1.3B"]


@pytest.mark.parametrize(
    "text, note",
    [
        ("N;D;loss\n1e8;2e9;3,125\n2e8;4e9;2,875\n", "split on ';'"),
        ("N;D;loss\n1e8;2e9;3.125\n2e8;4e9;2.875\n", "split on ';'"),
        ("N\tD\tloss\n1e8\t2e9\t3.125\n2e8\t4e9\t2.875\n", "split on '\\t'"),
    ],
)
def test_csv_with_another_delimiter_is_sniffed_and_said(tmp_path, text, note):
    path = tmp_path / "runs.csv"
    path.write_text(text)
    raw = read_table(path)
    assert list(raw.frame.columns) == ["N", "D", "loss"]
    assert raw.frame["loss"].tolist() == [3.125, 2.875]
    assert raw.frame["N"].tolist() == [1e8, 2e8]
    assert len(raw.notes) == 1 and note in raw.notes[0]
    assert ("decimal commas" in raw.notes[0]) == ("3,125" in text)


def test_one_column_header_hints_the_delimiter():
    from scalinglab.data import read_runs

    with pytest.raises(InputError, match="split by semicolons"):
        read_runs(pd.DataFrame({"N;D;loss": ["1e8;2e9;3.1"]}))


def test_tsv_that_is_comma_separated_is_sniffed(tmp_path):
    path = tmp_path / "runs.tsv"
    path.write_text("N,D,loss\n1e8,2e9,3.1\n")
    raw = read_table(path)
    assert (
        list(raw.frame.columns) == ["N", "D", "loss"] and "split on ','" in raw.notes[0]
    )


def test_the_delimiter_note_reaches_the_run_table(tmp_path):
    from scalinglab.data import read_runs

    path = tmp_path / "runs.csv"
    path.write_text("N;D;loss\n1e8;2e9;3,1\n2e8;4e9;2,9\n")
    runs = read_runs(path)
    assert runs.array("loss").tolist() == [3.1, 2.9]
    assert any("split on ';'" in note for note in runs.notes)
