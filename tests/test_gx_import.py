"""toolkit.gx_import: Great Expectations loads without the optional packages the toolkit never uses
through it, and those packages stay importable afterwards."""

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow


def _run(tmp_path, code: str) -> str:
    """Run ``code`` in a fresh interpreter (a script file: Great Expectations is imported once per process)."""
    script = tmp_path / "probe.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_unused_packages_are_skipped_and_importable_afterwards(tmp_path):
    out = _run(
        tmp_path,
        """
        import sys
        import toolkit.gx_run  # imports Great Expectations through toolkit.gx_import
        from great_expectations.compatibility import pyspark as compat
        print("loaded", sorted(n for n in ("rfc3987_syntax", "pyspark") if n in sys.modules))
        print("gx sees pyspark", not type(compat.pyspark).__name__ == "NotImported")
        import pyspark, rfc3987_syntax  # importable again, as if Great Expectations had not run
        print("later", pyspark.__name__, rfc3987_syntax.__name__)
        """,
    )
    assert "loaded []" in out
    assert "gx sees pyspark False" in out
    assert "later pyspark rfc3987_syntax" in out


def test_a_package_imported_before_is_left_alone(tmp_path):
    out = _run(
        tmp_path,
        """
        import pyspark
        from toolkit.gx_import import import_great_expectations
        gx = import_great_expectations()
        from great_expectations.compatibility import pyspark as compat
        print("same", compat.pyspark is pyspark)
        print("again", import_great_expectations() is gx)
        """,
    )
    assert "same True" in out
    assert "again True" in out
