"""toolkit.console.run_app: the process ends with the command's exit code, after the exit handlers the
command registered, with all output flushed, and without Python's module teardown."""

import subprocess
import sys
import textwrap

import pytest

PROBE = """
import atexit, sys
import typer
from toolkit.console import GuardedGroup, run_app

app = typer.Typer(cls=GuardedGroup)


class Noisy:
    def __del__(self):  # runs only if Python tears the module down
        sys.stderr.write("torn down\\n")


KEEP = Noisy()


@app.command()
def go(code: int, marker: str) -> None:
    atexit.register(lambda: open(marker, "w").write("handler ran"))
    sys.stdout.write("x" * 200_000 + "\\nend\\n")  # buffered: must reach the pipe
    raise typer.Exit(code)


@app.command()
def other() -> None:
    pass


run_app(app)
"""


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_exit_code_output_and_handlers_survive(tmp_path, code):
    script = tmp_path / "probe.py"
    script.write_text(textwrap.dedent(PROBE), encoding="utf-8")
    marker = tmp_path / "marker.txt"
    proc = subprocess.run(
        [sys.executable, str(script), "go", str(code), str(marker)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == code
    assert proc.stdout.endswith("x" * 1000 + "\nend\n")
    assert len(proc.stdout) == 200_000 + 5
    assert marker.read_text() == "handler ran"
    assert "torn down" not in proc.stderr  # module teardown skipped


def test_a_usage_error_keeps_its_exit_code(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(textwrap.dedent(PROBE), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), "go"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Missing argument" in proc.stderr or "缺少" in proc.stderr
