"""Every command's ``--help``: flags are shown bare, typer's own ``--help`` included."""

from __future__ import annotations

import typer

from scalinglab.cli import app
from scalinglab.cli._app import load


def _command_paths() -> list[tuple[str, ...]]:
    """The root, every command and every subcommand, as argument tuples."""
    load()

    def walk(command, path):
        yield path
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, (*path, name))

    return list(walk(typer.main.get_group(app), ()))


def test_no_help_page_shows_a_bool_value_type(invoke):
    paths = _command_paths()
    assert len(paths) > 40 and ("task", "fit") in paths
    for path in paths:
        code, out, _ = invoke(*path, "--help")
        assert code == 0 and "--help" in out, path
        assert "<bool>" not in out, (path, out)
