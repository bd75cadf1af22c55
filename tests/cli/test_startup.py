"""``scalinglab --help`` lists every command without importing the heavy command modules."""

from __future__ import annotations

import inspect
import subprocess
import sys

import typer

from scalinglab.cli import COMMANDS, app
from scalinglab.cli._app import load


def test_the_command_table_matches_the_registered_commands():
    load()
    registered = typer.main.get_group(app).commands
    assert set(COMMANDS) == set(registered)
    for name, (module, summary) in COMMANDS.items():
        command = registered[name]
        paragraph = inspect.cleandoc(command.short_help or command.help or "").split(
            "\n\n"
        )[0]
        assert summary == paragraph, name
        if command.callback is not None:  # groups (curve, plan, hparams) have none
            assert command.callback.__module__ == f"scalinglab.cli.{module}", name


def test_help_imports_no_numerical_library():
    code = (
        "import sys\n"
        "from scalinglab.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        # typer vendors click: the real package would be a second copy to import
        "heavy = {'numpy', 'pandas', 'scipy', 'click', 'scalinglab.cli.core',"
        " 'scalinglab.fit'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "Commands" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_command_loads_its_module_when_it_runs():
    out = subprocess.run(
        [sys.executable, "-m", "scalinglab", "laws"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "chinchilla" in out.stdout


def test_the_fit_function_survives_an_earlier_import_of_its_subpackage():
    code = "import scalinglab.fit.api, scalinglab as sl; print(callable(sl.fit), sl.fit.__module__)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "scalinglab.fit.api"]
