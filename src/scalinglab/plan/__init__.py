"""scalinglab.plan: ladder and IsoFLOP designs with exact parameter and FLOP counts."""

from .counts import (
    FlopCount,
    ParamCount,
    count_params,
    forward_flops_per_token,
    train_flops,
)
from .design import CONVENTIONS, Plan, PlannedRun, isoflop_grid, ladder
from .io import load_plan, save_plan
from .shapes import ModelShape, shape_for_params
from .sweep import Grid, parse_grid, sweep

__all__ = [
    "CONVENTIONS",
    "FlopCount",
    "Grid",
    "ModelShape",
    "ParamCount",
    "Plan",
    "PlannedRun",
    "count_params",
    "forward_flops_per_token",
    "isoflop_grid",
    "ladder",
    "parse_grid",
    "load_plan",
    "save_plan",
    "shape_for_params",
    "sweep",
    "train_flops",
]
