"""Run the CLI in-process: ``invoke(*args)`` returns (exit code, stdout, stderr)."""

from __future__ import annotations

import json

import pytest

from scalinglab.cli import main


@pytest.fixture
def invoke(capsys):
    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def invoke_json(invoke):
    def run(*args: str) -> dict:
        code, out, err = invoke(*args, "--json")
        assert code == 0, err
        return json.loads(out)

    return run
