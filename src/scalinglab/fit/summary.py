"""Readable summaries of a fit: lmfit's parameter columns with statsmodels' numbered notes."""

from __future__ import annotations

import numpy as np


def _fmt(value: float) -> str:
    if value is not None and np.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.4e}"


class Summary:
    """Summary of a :class:`~scalinglab.fit.result.FitResult`: ``as_text()``, ``as_markdown()``, ``to_dict()``, rich."""

    def __init__(self, result) -> None:
        self.result = result

    def header(self) -> str:
        r = self.result
        ref = f" ({r.law.reference})" if r.law.reference else ""
        return (
            f"{r.law.name}{ref}   {r.objective_spec.describe()}   points={r.n_points}   runs={r.n_runs}   "
            f"starts={r.settings.get('starts_screened', '?')}   bootstrap={r.settings.get('bootstrap', 0)}"
        )

    def rows(self) -> list[dict]:
        r = self.result
        ci = r.conf_int() if r.draws is not None else {}
        se = r.std_err() if r.draws is not None else {}
        rows = []
        for p in r.law.params:
            low, high = ci.get(p.name, (np.nan, np.nan))
            rows.append({
                "param": p.name, "value": r.params[p.name], "std_err": se.get(p.name, np.nan),
                "ci95": [low, high], "init": p.init, "bounds": [p.lower, p.upper], "fixed": p.fixed,
            })
        return rows

    def notes(self) -> list[str]:
        r = self.result
        notes = [d.message for d in r.diagnostics]
        if not notes:
            notes = ["no warnings: converged, no parameter at a bound, no outliers"]
        return notes

    def footer(self) -> str:
        r = self.result
        state = "converged" if r.converged else "NOT converged"
        line = f"objective {r.objective:.8g} ({state}, scaled gradient {r.gradient:.2g})"
        if r.extrapolation_error is not None:
            line += (f"; extrapolation error {r.extrapolation_error.tau:.2%} of the loss per decade beyond "
                     f"the fitted range (rolling origin by {r.extrapolation_error.by}, "
                     f"{r.extrapolation_error.n} predictions), added to prediction intervals")
        return line

    def _table(self) -> list[list[str]]:
        table = []
        for row in self.rows():
            ci = "fixed" if row["fixed"] else f"[{_fmt(row['ci95'][0])}, {_fmt(row['ci95'][1])}]"
            table.append([row["param"], _fmt(row["value"]), _fmt(row["std_err"]), ci,
                          _fmt(row["init"]), f"[{_fmt(row['bounds'][0])}, {_fmt(row['bounds'][1])}]"])
        return table

    def as_text(self) -> str:
        columns = ["param", "value", "std err", "95% CI", "init", "bounds"]
        table = [columns] + self._table()
        widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
        lines = [self.header()]
        lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
        lines.append(self.footer())
        lines += [f"{'Notes:' if i == 0 else '      '} [{i + 1}] {n}" for i, n in enumerate(self.notes())]
        return "\n".join(lines)

    def as_markdown(self) -> str:
        columns = ["param", "value", "std err", "95% CI", "init", "bounds"]
        lines = [f"**{self.header()}**", "", "| " + " | ".join(columns) + " |",
                 "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(row) + " |" for row in self._table()]
        lines += ["", self.footer(), ""] + [f"{i + 1}. {n}" for i, n in enumerate(self.notes())]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"header": self.header(), "params": self.rows(), "footer": self.footer(), "notes": self.notes()}

    def __str__(self) -> str:
        return self.as_text()

    def __rich__(self):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table(title=self.header(), title_justify="left")
        for column in ["param", "value", "std err", "95% CI", "init", "bounds"]:
            table.add_column(column, justify="left" if column == "param" else "right")
        for row in self._table():
            table.add_row(*row)
        notes = [Text(f"[{i + 1}] {n}", style="yellow" if "no warnings" not in n else "green")
                 for i, n in enumerate(self.notes())]
        return Group(table, Text(self.footer()), *notes)
