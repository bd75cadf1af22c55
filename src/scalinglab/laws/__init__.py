"""Scaling laws: one small module per family, a registry, and published presets."""

from .base import Law, Param, make_law
from .registry import LAWS, all_laws, get_law

__all__ = ["LAWS", "Law", "Param", "all_laws", "get_law", "make_law"]
