"""Importing Great Expectations without the optional packages it would load for nothing.

Importing Great Expectations takes 3–4 s of CPU on this project's machine, most of it in optional
packages that it, or a package it imports, loads only when installed:

* ``rfc3987_syntax``: ``jsonschema`` (imported through ``altair``) builds this package's Lark grammar
  for its ``iri`` format checker — 1.3 s, a third of the whole import. Nothing here validates IRIs.
* ``pyspark``: Great Expectations builds its Spark data sources (0.6 s). The toolkit validates with Great
  Expectations on pandas only; it runs Spark itself (:mod:`toolkit.spark`).

:func:`import_great_expectations` hides the packages that are not imported yet while Great Expectations
loads (its compatibility layer takes them as not installed), then makes them importable again, so that
later imports (``import pyspark`` by :mod:`toolkit.spark`) work as usual. A package imported before
Great Expectations stays as it is. While Great Expectations loads, another thread importing a hidden package
would get ImportError: the gate imports it in a thread only while DuckDB writes the problem list.
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType

__all__ = ["UNUSED", "import_great_expectations"]

#: Optional packages Great Expectations' import would load and the toolkit never uses through it.
UNUSED = ("rfc3987_syntax", "pyspark")

_LOCK = threading.Lock()  # the gate imports Great Expectations in a thread


def import_great_expectations() -> ModuleType:
    """``great_expectations``, imported (once) with :data:`UNUSED` hidden (see the module docstring)."""
    if "great_expectations" in sys.modules:
        return sys.modules["great_expectations"]
    with _LOCK:
        hidden = [name for name in UNUSED if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
        try:
            return importlib.import_module("great_expectations")
        finally:
            for name in hidden:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]
