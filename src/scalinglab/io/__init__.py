"""scalinglab.io: file readers and writers (the only place that calls pandas I/O)."""

from .readers import SUPPORTED_FORMATS, RawTable, format_of, read_table, write_table

__all__ = ["SUPPORTED_FORMATS", "RawTable", "format_of", "read_table", "write_table"]
