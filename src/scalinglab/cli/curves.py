"""CLI commands (see scalinglab.cli)."""

from ._app import app  # noqa: F401
