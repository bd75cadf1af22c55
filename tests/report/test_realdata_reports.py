"""Reports for the shared data sets with N, D and loss, each opened in headless Chromium
(skipped when ../shared/data or Chromium is absent). Screenshots go to build/test-artifacts/."""

from __future__ import annotations

import pytest

from ._browser import chromium, open_page
from ._html import count_svg, remote_resources, section

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

# data set -> (file, column and filter options, sections that must be present)
CASES = {
    "epoch_chinchilla": (
        "epoch_chinchilla/svg_extracted_data.csv",
        ["--N", "Model Size", "--C", "Training FLOP", "--loss", "loss"],
        ["fit-chinchilla", "validation", "frontier"],
    ),
    "olmo_ladder": (
        "olmo_ladder/ladder_final_summary.csv",
        ["--N", "n_nonembed", "--D", "tokens", "--loss", "loss_c4_en", "--run", "run"],
        ["fit-chinchilla", "validation", "frontier"],
    ),
    "gadre_overtraining": (
        "gadre_overtraining/gadre_models.csv",
        [
            "--N",
            "params",
            "--D",
            "tokens",
            "--loss",
            "loss_c4_val",
            "--run",
            "name",
            "--where",
            "dataset == 'rpj'",
        ],
        ["fit-chinchilla", "validation", "frontier"],
    ),
    "loss_to_loss": (
        "loss_to_loss/sweep.csv",
        [
            "--N",
            "params",
            "--D",
            "tokens",
            "--C",
            "iso_flop",
            "--loss",
            "val_loss",
            "--run",
            "name",
            "--where",
            "data == 'fineweb-edu-100b'",
        ],
        ["fit-chinchilla", "validation", "isoflop"],
    ),
    "porian_resolving": (
        "porian_resolving/isoflop_points.csv",
        [
            "--N",
            "n",
            "--D",
            "tokens",
            "--C",
            "flops",
            "--loss",
            "loss",
            "--where",
            (
                "dataset == 'rw' and hparams == 'tuned' and warmup == 'short' and "
                "param_count == 'standard'"
            ),
        ],
        ["fit-chinchilla", "validation", "isoflop"],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_shared_data_report_opens_cleanly(name, shared_data, invoke, tmp_path):
    chromium()
    path, options, present = CASES[name]
    out = tmp_path / f"{name}.html"
    code, _, err = invoke(
        "report",
        str(shared_data / path),
        *options,
        "--law",
        "chinchilla,overtraining",
        "--target",
        "N=7e9,D=2e12",
        "--bootstrap",
        "200",
        "-o",
        str(out),
    )
    assert code == 0, err
    html = out.read_text(encoding="utf-8")
    assert remote_resources(html) == []
    for key in present:
        assert "Omitted:" not in section(html, key), key
    check = open_page(out, tmp_path / "profile", name)
    assert check.errors == []
    assert len(check.figure_sizes) == count_svg(html) >= 8
    assert all(w > 100 and h > 100 for w, h in check.figure_sizes), check.figure_sizes
