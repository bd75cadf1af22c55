"""read_runs: formats, column mapping, units, derivations, validation, hashing."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglab.data import Conventions, RunTable, read_runs
from scalinglab.errors import InputError, ScalinglabError, ScalinglabWarning
from scalinglab.io import write_table

N = np.array([7.0e7, 1.6e8, 4.1e8, 1.3e9, 1.3e9])
D = np.array([1.4e9, 3.2e9, 8.2e9, 2.6e10, 5.2e10])
LOSS = np.array([3.41, 3.10, 2.85, 2.60, 2.52])
RUN = ["r70m", "r160m", "r410m", "r1b", "r1b"]
HEADER_NOTE = "1-based data rows, header excluded"


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"N": N, "D": D, "loss": LOSS, "run": RUN, "group": list("aabbb")}
    )


def write_csv(tmp_path, text: str, name: str = "runs.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- formats and hashing ---


@pytest.mark.parametrize(
    "suffix", [".csv", ".csv.gz", ".tsv", ".parquet", ".jsonl", ".json"]
)
def test_each_format_reads_the_same_table_and_hash(tmp_path, suffix):
    reference = read_runs(frame())
    path = write_table(frame(), tmp_path / f"runs{suffix}")
    table = read_runs(path)
    assert table.source == str(path)
    assert table.data_hash() == reference.data_hash()
    for name in ("N", "D", "C", "loss"):
        np.testing.assert_array_equal(table.array(name), reference.array(name))
    assert table.frame["run"].tolist() == RUN
    assert table.frame["group"].tolist() == list("aabbb")


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".jsonl", ".json"])
def test_random_floats_hash_identically_in_every_format(tmp_path, suffix):
    rng = np.random.default_rng(0)
    n = 500
    df = pd.DataFrame(
        {
            "N": 10 ** rng.uniform(6, 10, n),
            "D": 10 ** rng.uniform(8, 12, n),
            "loss": rng.uniform(2, 5, n),
            "run": rng.integers(0, 50, n),
        }
    )
    reference = read_runs(df)
    table = read_runs(write_table(df, tmp_path / f"runs{suffix}"))
    assert table.data_hash() == reference.data_hash()
    assert table.runs().tolist() == reference.runs().tolist()


def test_canonical_frame_layout_and_dtypes():
    table = read_runs(frame())
    assert table.frame.columns.tolist() == ["N", "D", "C", "loss", "run", "group"]
    for name in ("N", "D", "C", "loss"):
        assert table.frame[name].dtype == np.float64
    assert all(isinstance(r, str) for r in table.frame["run"])
    assert table.mapping == {"N": "N", "D": "D", "loss": "loss", "run": "run"}
    assert len(table) == 5 and table.n_runs == 4


def test_data_hash_is_pinned_and_sensitive_to_one_ulp():
    table = read_runs(frame())
    # Pinned so that a change to the hashing scheme (which invalidates saved fits'
    # provenance) is a deliberate decision.
    assert table.data_hash() == PINNED_HASH
    bumped = frame()
    bumped.loc[2, "loss"] = np.nextafter(bumped.loc[2, "loss"], 10)
    assert read_runs(bumped).data_hash() != PINNED_HASH


PINNED_HASH = "6189c7f4e3168515022b58f551d976c35b0c6209bcabb78830ec77076621dc10"


def test_hash_ignores_extra_columns_but_not_run_ids():
    extra = frame().assign(note="x")
    assert read_runs(extra).data_hash() == read_runs(frame()).data_hash()
    renamed = frame().assign(run=["a", "b", "c", "d", "d"])
    assert read_runs(renamed).data_hash() != read_runs(frame()).data_hash()


def test_provenance_is_json_safe_and_complete():
    table = read_runs(frame(), N_kind="non_embedding")
    prov = json.loads(json.dumps(table.provenance()))
    assert prov["source"] == "<DataFrame>"
    assert prov["n_rows"] == 5 and prov["n_runs"] == 4
    assert prov["conventions"] == {"N": "non_embedding", "C": "6ND", "loss": "nats"}
    assert prov["mapping"]["N"] == "N"
    assert prov["data_hash"] == table.data_hash()
    assert "C derived as 6 N D for all 5 rows" in prov["notes"]


def test_runtable_is_passed_through():
    table = read_runs(frame())
    assert read_runs(table) is table


# --- column mapping ---


def test_aliases_are_found_case_insensitively_and_noted():
    df = pd.DataFrame({"Params": N, "TOKENS": D, "eval_loss": LOSS, "Run_ID": RUN})
    table = read_runs(df)
    assert table.mapping == {
        "N": "Params",
        "D": "TOKENS",
        "loss": "eval_loss",
        "run": "Run_ID",
    }
    np.testing.assert_array_equal(table.array("N"), N)
    assert "loss read from column 'eval_loss' (recognised alias)" in table.notes
    assert "N read from column 'Params' (recognised alias)" in table.notes


def test_flops_alias_and_spaced_names():
    df = pd.DataFrame({"Model Size": N, "FLOPs": 6 * N * D, "final_loss": LOSS})
    table = read_runs(df)
    assert table.mapping == {"N": "Model Size", "C": "FLOPs", "loss": "final_loss"}
    np.testing.assert_allclose(table.array("D"), D, rtol=1e-15)


def test_canonical_name_wins_over_alias():
    df = pd.DataFrame(
        {"N": N, "params": N * 2, "D": D, "loss": LOSS, "train_loss": LOSS + 1}
    )
    table = read_runs(df)
    assert table.mapping["N"] == "N" and table.mapping["loss"] == "loss"
    assert table.frame["params"].tolist() == (N * 2).tolist()


def test_two_aliases_are_ambiguous_and_the_error_asks_for_the_flag():
    df = pd.DataFrame({"N": N, "D": D, "eval_loss": LOSS, "train_loss": LOSS + 0.1})
    with pytest.raises(InputError) as err:
        read_runs(df)
    message = str(err.value)
    assert "'eval_loss' and 'train_loss' could each be loss" in message
    assert "--loss COLUMN" in message
    table = read_runs(df, loss="train_loss")
    np.testing.assert_array_equal(table.array("loss"), LOSS + 0.1)
    assert "eval_loss" in table.frame.columns


def test_explicit_mapping_and_columns_dict():
    df = pd.DataFrame({"size": N, "toks": D, "xent": LOSS})
    by_keyword = read_runs(df, N="size", D="toks", loss="xent")
    by_dict = read_runs(df, columns={"N": "size", "D": "toks", "loss": "xent"})
    assert (
        by_keyword.mapping
        == by_dict.mapping
        == {"N": "size", "D": "toks", "loss": "xent"}
    )
    assert by_keyword.data_hash() == by_dict.data_hash()


def test_conflicting_keyword_and_columns_dict():
    with pytest.raises(ScalinglabError, match="N is given twice"):
        read_runs(frame(), N="N", columns={"N": "group"})
    with pytest.raises(ScalinglabError, match="unknown name 'params'"):
        read_runs(frame(), columns={"params": "N"})


def test_misspelt_column_names_file_and_suggests(tmp_path):
    path = write_table(frame(), tmp_path / "runs.csv")
    with pytest.raises(InputError) as err:
        read_runs(path, loss="los")
    message = str(err.value)
    assert message.startswith(f"{path}, column 'los': column 'los' given for loss")
    assert "Did you mean 'loss'?" in message
    assert "Available columns: 'N', 'D', 'loss', 'run', 'group'" in message


def test_missing_required_column_lists_columns_and_flag(tmp_path):
    path = write_csv(tmp_path, "size,D,loss\n1e8,2e9,3.1\n")
    with pytest.raises(InputError) as err:
        read_runs(path)
    message = str(err.value)
    assert str(path) in message and "no column for N (parameters)" in message
    assert "Available columns: 'size', 'D', 'loss'" in message
    assert "--N COLUMN" in message


def test_missing_D_and_C_mentions_both_flags():
    with pytest.raises(InputError) as err:
        read_runs(pd.DataFrame({"N": N, "loss": LOSS}))
    assert "no column for D (training tokens)" in str(err.value)
    assert "--C" in str(err.value)


def test_one_column_cannot_serve_two_roles():
    with pytest.raises(InputError, match="named for both N and D"):
        read_runs(frame(), N="N", D="N")


def test_unmapped_column_that_shadows_a_canonical_name_is_renamed_and_noted():
    df = frame().assign(N_non_embedding=N * 0.8)
    table = read_runs(df, N="N_non_embedding", N_kind="non_embedding")
    np.testing.assert_array_equal(table.array("N"), N * 0.8)
    np.testing.assert_array_equal(table.array("N_original"), N)
    assert any("'N' kept as 'N_original'" in note for note in table.notes)


# --- units and derivations ---


def test_unit_suffixes_are_parsed(tmp_path):
    path = write_csv(
        tmp_path,
        "N,D,C,U,loss\n1.3B,300M,,6.7k,2.5\n70M,2e10,,1T,3.0\n",
    )
    with pytest.raises(InputError):  # C present but empty: missing, not derived
        read_runs(path)
    path = write_csv(tmp_path, "N,D,U,loss\n1.3B,300M,6.7k,2.5\n70M,2e10,1T,3.0\n")
    table = read_runs(path)
    np.testing.assert_array_equal(table.array("N"), [1.3e9, 7e7])
    np.testing.assert_array_equal(table.array("D"), [3e8, 2e10])
    np.testing.assert_array_equal(table.array("U"), [6.7e3, 1e12])


def test_unparseable_unit_names_file_column_and_row(tmp_path):
    path = write_csv(
        tmp_path, "params,D,loss\n1.3B,1e9,2.5\n70M,1e9,3\n12 parsecs,1e9,3\n"
    )
    with pytest.raises(InputError) as err:
        read_runs(path)
    message = str(err.value)
    assert message.startswith(f"{path}, column 'params', row 3 ({HEADER_NOTE}):")
    assert "'12 parsecs'" in message and "1.3B" in message
    assert err.value.rows == [3] and err.value.column == "params"


def test_text_in_the_loss_column(tmp_path):
    path = write_csv(
        tmp_path, "N,D,loss\n1e8,1e9,2.5\n2e8,1e9,diverged\n3e8,1e9,oops\n"
    )
    with pytest.raises(InputError) as err:
        read_runs(path)
    assert str(err.value).startswith(
        f"{path}, column 'loss', rows 2, 3 ({HEADER_NOTE}):"
    )
    assert "'diverged', 'oops'" in str(err.value)


def test_row_numbers_match_the_line_in_the_file(tmp_path):
    lines = ["N,D,loss"] + [f"{1e8 * (i + 1)},1e9,3.0" for i in range(6)]
    lines[4] = "4e8,-1e9,3.0"
    path = write_csv(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        read_runs(path)
    (row,) = err.value.rows
    assert path.read_text().splitlines()[row] == "4e8,-1e9,3.0"  # line 0 is the header


def test_D_derived_from_C():
    C = 6 * N * D * 1.0
    table = read_runs(pd.DataFrame({"N": N, "C": C, "loss": LOSS}))
    np.testing.assert_array_equal(table.array("D"), C / (6 * N))
    np.testing.assert_allclose(table.array("D"), D, rtol=1e-15)
    assert table.conventions.C == "6ND"
    assert "D derived as C / (6 N) for all 5 rows" in table.notes


def test_C_derived_from_D_and_back():
    forward = read_runs(frame())
    np.testing.assert_array_equal(forward.array("C"), 6.0 * N * D)
    assert "C derived as 6 N D for all 5 rows" in forward.notes
    back = read_runs(pd.DataFrame({"N": N, "C": forward.array("C"), "loss": LOSS}))
    np.testing.assert_allclose(back.array("D"), D, rtol=1e-15)


def test_both_C_and_D_given_records_the_ratio_range():
    C = 6 * N * D * np.array([1.0, 1.1, 1.2, 1.05, 1.3])
    table = read_runs(pd.DataFrame({"N": N, "D": D, "C": C, "loss": LOSS}))
    np.testing.assert_array_equal(table.array("C"), C)
    assert table.conventions.C == "given"
    assert (
        "C and D both given; C / (6 N D) ranges 1 to 1.3; C used as given"
        in table.notes
    )


def test_both_given_and_consistent_is_recorded_as_6ND():
    table = read_runs(pd.DataFrame({"N": N, "D": D, "C": 6 * N * D, "loss": LOSS}))
    assert table.conventions.C == "6ND"
    assert any("C = 6 N D holds within 1e-06 (checked)" in note for note in table.notes)


def test_C_far_from_6ND_warns_naming_rows():
    C = 6 * N * D * np.array([1.0, 1.0, 1000.0, 1.0, 1.0])
    with pytest.warns(ScalinglabWarning, match=r"more than 3x in 1 rows \(2;"):
        read_runs(pd.DataFrame({"N": N, "D": D, "C": C, "loss": LOSS}))


# --- validation ---


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("0", "N (parameters) must be > 0; got 1 non-positive value (0)"),
        ("-5e8", "N (parameters) must be > 0; got 1 non-positive value (-5e+08)"),
        ("inf", "N (parameters) must be finite; got inf"),
    ],
)
def test_bad_N_values(tmp_path, cell, expected):
    path = write_csv(tmp_path, f"N,D,loss\n1e8,1e9,3\n2e8,1e9,3\n{cell},1e9,3\n")
    with pytest.raises(InputError) as err:
        read_runs(path)
    message = str(err.value)
    assert message.startswith(f"{path}, column 'N', row 3 ({HEADER_NOTE}):")
    assert expected in message


def test_log10_values_get_a_hint(tmp_path):
    path = write_csv(tmp_path, "N,log_tokens,loss\n1e8,9.1,3\n2e8,-0.5,3\n3e8,0,3\n")
    with pytest.raises(InputError) as err:
        read_runs(path, D="log_tokens")
    message = str(err.value)
    assert "column 'log_tokens', rows 2, 3" in message
    assert "If this column holds log10 values, convert them with 10**x" in message


def test_nan_rows_are_errors_unless_dropna(tmp_path):
    path = write_csv(
        tmp_path, "N,D,loss\n1e8,1e9,3\n2e8,1e9,\n3e8,1e9,2.9\n4e8,,2.8\n5e8,1e9,NaN\n"
    )
    with pytest.raises(InputError) as err:
        read_runs(path)
    message = str(err.value)
    assert "column 'D', row 4" in message  # D is checked before loss
    assert "pass dropna=True (--dropna)" in message
    table = read_runs(path, dropna=True)
    assert len(table) == 2
    np.testing.assert_array_equal(table.array("N"), [1e8, 3e8])
    np.testing.assert_array_equal(table.row_numbers, [1, 3])
    assert any(
        note == "dropped 3 of 5 rows with missing values (dropna=True): rows 2, 4, 5 "
        f"({HEADER_NOTE})"
        for note in table.notes
    )


def test_missing_loss_named(tmp_path):
    path = write_csv(tmp_path, "N,D,loss\n1e8,1e9,3\n2e8,1e9,\n3e8,1e9,\n")
    with pytest.raises(InputError) as err:
        read_runs(path)
    assert str(err.value).startswith(
        f"{path}, column 'loss', rows 2, 3 ({HEADER_NOTE}):"
    )
    assert "missing (empty or NaN) in 2 rows" in str(err.value)


def test_infinite_loss(tmp_path):
    path = write_csv(tmp_path, "N,D,loss\n1e8,1e9,inf\n")
    with pytest.raises(InputError, match=r"column 'loss', row 1 .*loss must be finite"):
        read_runs(path)


def test_non_positive_loss_needs_a_signed_unit():
    df = frame().assign(loss=[-0.2, -0.1, 0.0, 0.1, 0.2])
    with pytest.raises(InputError) as err:
        read_runs(df)
    message = str(err.value)
    assert "column 'loss', rows 0, 1, 2 (DataFrame index labels)" in message
    assert "loss_unit='normalized'" in message
    table = read_runs(df, loss_unit="unigram_normalized")
    assert table.conventions.loss == "unigram_normalized"
    np.testing.assert_array_equal(table.array("loss"), [-0.2, -0.1, 0.0, 0.1, 0.2])


def test_bits_per_byte_is_recorded_not_converted():
    table = read_runs(frame(), loss_unit="bits_per_byte")
    assert table.conventions == Conventions(N="unknown", C="6ND", loss="bits_per_byte")
    np.testing.assert_array_equal(table.array("loss"), LOSS)


def test_dataframe_rows_are_named_by_index_label():
    df = frame().set_axis([10, 20, 30, 40, 50])
    df.loc[40, "D"] = 0.0
    with pytest.raises(InputError) as err:
        read_runs(df)
    assert err.value.rows == [40]
    assert "row 40 (DataFrame index labels)" in str(err.value)


def test_dataframe_with_text_index_uses_positions():
    df = frame().set_axis(list("vwxyz"))
    df.loc["y", "N"] = np.nan
    with pytest.raises(
        InputError, match=r"row 4 \(1-based row positions in the DataFrame\)"
    ):
        read_runs(df)


def test_jsonl_rows_are_named_by_line(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text(
        '{"N": 1e8, "D": 1e9, "loss": 3}\n\n{"N": "big", "D": 1e9, "loss": 3}\n'
    )
    with pytest.raises(InputError, match=r"column 'N', row 3 \(1-based line numbers\)"):
        read_runs(path)


def test_header_only_file(tmp_path):
    path = write_csv(tmp_path, "N,D,loss\n")
    with pytest.raises(InputError, match="has a header but no data rows"):
        read_runs(path)


def test_single_row_is_a_valid_table():
    table = read_runs(frame().iloc[:1])
    assert len(table) == 1 and table.runs().tolist() == [0]


def test_duplicate_rows_warn_and_are_kept():
    df = pd.concat([frame(), frame().iloc[[1]]], ignore_index=True)
    with pytest.warns(
        ScalinglabWarning, match=r"2 rows repeat another row's N, D, C and loss"
    ):
        table = read_runs(df)
    assert len(table) == 6
    assert any("rows 1, 5" in note for note in table.notes)


def test_no_warning_on_clean_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_runs(frame())


def test_bool_column_is_rejected():
    with pytest.raises(InputError, match="true/false"):
        read_runs(frame().assign(loss=[True] * 5))


def test_bad_N_kind_lists_choices():
    with pytest.raises(ScalinglabError, match="total, non_embedding, active, unknown"):
        read_runs(frame(), N_kind="embedding")


def test_unsupported_source_type():
    with pytest.raises(ScalinglabError, match="got list"):
        read_runs([1, 2, 3])


# --- runs, subset, query, array ---


def test_runs_index_checkpoints_together():
    df = pd.DataFrame(
        {
            "N": [1e8, 1e8, 2e8, 1e8, 2e8],
            "D": [1e9, 2e9, 1e9, 3e9, 2e9],
            "loss": [3.0, 2.9, 2.8, 2.85, 2.7],
            "run": ["s", "s", "m", "s", "m"],
            "step": [100, 200, 100, 300, 200],
        }
    )
    table = read_runs(df)
    assert table.runs().tolist() == [0, 0, 1, 0, 1]
    assert table.n_runs == 2
    np.testing.assert_array_equal(table.array("step"), [100, 200, 100, 300, 200])


def test_numeric_run_ids_become_clean_strings():
    df = frame().assign(run=[1.0, 2.0, 3.0, 4.0, 4.0])
    assert read_runs(df).frame["run"].tolist() == ["1", "2", "3", "4", "4"]


def test_missing_run_column_makes_each_row_a_run():
    table = read_runs(frame().drop(columns="run"))
    assert table.runs().tolist() == [0, 1, 2, 3, 4]
    assert "no run column: each row is its own run (5 runs)" in table.notes


def test_subset_keeps_metadata_and_rows():
    table = read_runs(frame(), N_kind="total")
    small = table.subset(table.array("N") < 1e9)
    assert len(small) == 3 and small.conventions == table.conventions
    assert small.mapping == table.mapping and small.source == table.source
    np.testing.assert_array_equal(small.row_numbers, [0, 1, 2])
    assert small.notes[-1] == "subset kept 3 of 5 rows"
    assert small.notes[:-1] == table.notes
    assert len(table) == 5  # the original is untouched


def test_subset_rejects_a_bad_mask():
    table = read_runs(frame())
    with pytest.raises(ScalinglabError, match="boolean mask with one entry per row"):
        table.subset([0, 1])
    with pytest.raises(InputError, match="nothing is left"):
        table.subset(np.zeros(5, dtype=bool))


def test_query():
    table = read_runs(frame())
    big = table.query("N >= 1e9 and loss < 2.55")
    assert big.frame["run"].tolist() == ["r1b"]
    np.testing.assert_array_equal(big.row_numbers, [4])
    assert big.notes[-1] == "query 'N >= 1e9 and loss < 2.55' kept 1 of 5 rows"
    with pytest.raises(InputError, match="cannot evaluate the query 'tokens > 1'"):
        table.query("tokens > 1")


def test_array_is_a_copy_and_absent_columns_are_named():
    table = read_runs(frame())
    values = table.array("N")
    values[0] = -1
    assert table.array("N")[0] == N[0]
    assert table.has("group") and not table.has("U")
    with pytest.raises(InputError, match="no column 'U'"):
        table.array("U")
    with pytest.raises(InputError, match="column 'run' is not numeric"):
        table.array("run")


def test_runtable_can_be_built_directly():
    table = RunTable(
        pd.DataFrame({"N": N, "D": D, "C": 6 * N * D, "loss": LOSS, "run": RUN}),
        "<test>",
        {},
        Conventions(),
    )
    np.testing.assert_array_equal(table.row_numbers, [1, 2, 3, 4, 5])
    assert table.data_hash() == read_runs(frame()).data_hash()


# --- real data ---


@pytest.mark.realdata
def test_epoch_chinchilla_reads_with_D_derived(shared_data):
    path = shared_data / "epoch_chinchilla" / "svg_extracted_data.csv"
    table = read_runs(path, N_kind="total")
    assert len(table) == 245 and table.n_runs == 245
    assert table.mapping == {"N": "Model Size", "C": "Training FLOP", "loss": "loss"}
    assert table.conventions == Conventions(N="total", C="6ND", loss="nats")
    assert "D derived as C / (6 N) for all 245 rows" in table.notes
    N_, C_ = table.array("N"), table.array("C")
    np.testing.assert_array_equal(table.array("D"), C_ / (6 * N_))
    # Extremes of the file (N 5.73e7..1.62e10, C 1.40e18..1.30e22, loss 2.077..5.006).
    assert N_.min() == pytest.approx(5.7334e7, rel=1e-4)
    assert N_.max() == pytest.approx(1.61833e10, rel=1e-4)
    assert C_.max() == pytest.approx(1.29560e22, rel=1e-4)
    assert table.array("loss").min() == pytest.approx(2.07739, rel=1e-5)
    explicit = read_runs(
        path, N="Model Size", C="Training FLOP", loss="loss", N_kind="total"
    )
    assert explicit.data_hash() == table.data_hash()


# --- hardening: encodings, nullable types, missing headers, N conventions ---


def test_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text("N,D,loss\n1e8,1e9,3\n", encoding="utf-8-sig")
    assert read_runs(path).mapping == {"N": "N", "D": "D", "loss": "loss"}


def test_nullable_string_column_with_units_and_missing_values():
    df = pd.DataFrame(
        {
            "N": pd.array(["1.3B", None, "70M"], dtype="string"),
            "D": [1e9, 2e9, 3e9],
            "loss": [3.0, 2.0, 1.0],
        }
    )
    with pytest.raises(
        InputError, match=r"column 'N', row 1 \(DataFrame index labels\)"
    ):
        read_runs(df)
    np.testing.assert_array_equal(read_runs(df, dropna=True).array("N"), [1.3e9, 7e7])


def test_integers_beyond_int64_in_jsonl(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"N": 100000000, "C": 12956022673438285000000, "loss": 3.0}\n')
    table = read_runs(path)
    assert table.array("C")[0] == 1.2956022673438285e22
    assert table.array("D")[0] == 1.2956022673438285e22 / 6e8


def test_file_without_header_gets_a_hint(tmp_path):
    path = write_csv(tmp_path, "1e8,1e9,3\n1e8,1e9,3\n")
    with pytest.raises(
        InputError, match="The first line looks like data, not a header"
    ):
        read_runs(path)


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(InputError, match="this is a folder; expected a file of runs"):
        read_runs(tmp_path)


def test_N_kind_is_inferred_from_an_explicit_column_name_and_noted():
    df = pd.DataFrame({"n_nonembed": N, "tokens": D, "loss": LOSS})
    table = read_runs(df)
    assert table.conventions.N == "non_embedding"
    assert any(
        "inferred from the column name 'n_nonembed'" in note for note in table.notes
    )
    assert read_runs(frame()).conventions.N == "unknown"


def test_N_kind_that_contradicts_the_column_name_warns():
    df = pd.DataFrame({"params_nonembed": N, "tokens": D, "loss": LOSS})
    with pytest.warns(
        ScalinglabWarning, match="N_kind='total' was given but the N column"
    ):
        table = read_runs(df, N_kind="total")
    assert (
        table.conventions.N == "total"
    )  # the user's statement is kept, the doubt recorded


def checkpoints() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "N": [1e8, 1e8, 2e8, 1e8, 2e8, 3e8],
            "D": [1e9, 2e9, 1e9, 3e9, 2e9, 5e9],
            "loss": [3.0, 2.9, 2.8, 2.85, 2.7, 2.5],
            "run": ["s", "s", "m", "s", "m", "l"],
        }
    )


def test_final_keeps_the_last_checkpoint_of_each_run():
    table = read_runs(checkpoints())
    last = table.final()
    assert last.frame["run"].tolist() == ["s", "m", "l"]
    np.testing.assert_array_equal(last.array("D"), [3e9, 2e9, 5e9])
    np.testing.assert_array_equal(last.array("loss"), [2.85, 2.7, 2.5])
    np.testing.assert_array_equal(last.row_numbers, [3, 4, 5])
    assert (
        last.notes[-1]
        == "final checkpoint (largest D) of each of 3 runs kept: 3 of 6 rows"
    )
    assert last.final() is last


def test_final_prefers_step_over_D():
    df = checkpoints().assign(D=[5e9, 4e9, 3e9, 2e9, 1e9, 1e9], step=[1, 2, 1, 3, 2, 1])
    last = read_runs(df).final()
    np.testing.assert_array_equal(last.array("D"), [2e9, 1e9, 1e9])


def test_describe():
    info = read_runs(checkpoints(), N_kind="total").describe()
    assert info["n_rows"] == 6 and info["n_runs"] == 3 and info["n_model_sizes"] == 3
    assert info["ranges"]["N"] == [1e8, 3e8]
    assert info["ranges"]["tokens_per_param"] == [5.0, 30.0]
    assert info["conventions"]["N"] == "total"
    json.dumps(info)
