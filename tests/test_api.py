"""The public API: every name in ``toolkit.__all__`` resolves, and ``import toolkit`` stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import toolkit


@pytest.mark.parametrize("name", toolkit.__all__)
def test_every_public_name_resolves(name):
    assert getattr(toolkit, name) is not None


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        toolkit.no_such_thing  # noqa: B018


def test_import_does_not_load_great_expectations():
    code = "import sys, toolkit, toolkit.cli; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
