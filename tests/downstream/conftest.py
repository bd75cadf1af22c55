"""The CLI fixtures (``invoke``, ``invoke_json``) for the downstream commands."""

from tests.cli.conftest import invoke, invoke_json  # noqa: F401
