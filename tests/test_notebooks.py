"""Every notebook under ``notebooks/`` and ``training/``: paired, clean, parameterised, and it runs.

For each ``.ipynb``:

* it is paired with a jupytext ``py:percent`` file of identical content (``jupytext --sync``);
* it is saved without outputs or execution counts, for the ``python3`` kernel;
* it has one cell tagged ``parameters`` (papermill style) that sets the data folder;
* its code defines no function or class (``def``/``class``): it only calls toolkit functions (display
  helpers belong in ``toolkit.lessons``, the correction exercise is ``toolkit.corrections``);
* a notebook that checks, scores or labels data names its domain pack in the parameters cell (``DOMAIN``)
  and passes it on: no function below the command line has a default pack;
* the saved file holds no personal data (no citizen ID, credit code or mobile number other than the
  published examples of :data:`EXAMPLE_NUMBERS`);
* it **executes** with nbclient on the venv's ``python3`` kernel, in its own folder, with parameters
  pointing at a small sample generated once per session (``DATA_DIR``; ``WORK_DIR`` a fresh temporary
  folder; ``CHECK_DIR`` the sample's stock checked once; ``HISTORY`` the rule counts of its daily batches,
  counted once, so that the notebooks that score the history do not count it again; ``DOMAIN`` the pack
  ``bdc``), and its outputs
  show no unmasked personal data of that sample.

The sample's three daily batches (2024-11-29, 12-02 and 12-03) span two months, so that trends, rankings
and their changes have a previous period; each notebook's time is printed (``-s``) and recorded as a
property of its test (``--junitxml``).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import re
import time
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from toolkit import generate_sample, load_domain, run_check, validators, write_outputs
from toolkit.history import History

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(
    p
    for p in [*REPO.glob("notebooks/*.ipynb"), *REPO.glob("training/**/*.ipynb")]
    if ".ipynb_checkpoints" not in p.parts
)
IDS = [str(p.relative_to(REPO)) for p in NOTEBOOKS]
#: Per-cell and whole-notebook limits (seconds). One check of the small sample takes ~10 s; a loaded CI
#: machine is much slower, so the limits are generous and can be raised with DQ_NOTEBOOK_TIMEOUT.
CELL_TIMEOUT = int(os.environ.get("DQ_NOTEBOOK_TIMEOUT", "600"))
NOTEBOOK_BUDGET = int(os.environ.get("DQ_NOTEBOOK_BUDGET", "600"))

#: Published example numbers (from GB 11643-1999, GB 32100-2015 and the reference notes) that the course
#: may show in full: they identify nobody. Any other valid ID in a notebook is a leak.
EXAMPLE_NUMBERS = frozenset(
    {
        "11010519491231002X",  # GB 11643-1999 的示例
        "110102199101010078",
        "44011320141005001X",
        "91110000600037341L",
        "91420100000000001Y",  # 第 3 集练习用的虚构代码
        "110102199101010000",  # 第 3 集：110102199101010078 被 Excel 截成 15 位有效数字（碰巧仍合格）
    }
)

_ID_RE = re.compile(r"(?<![0-9A-Za-z])([0-9]{17}[0-9Xx])(?![0-9A-Za-z])")
_CREDIT_RE = re.compile(r"(?<![0-9A-Z])([0-9A-HJ-NPQRTUWXY]{18})(?![0-9A-Z])")
_MOBILE_RE = re.compile(r"(?<![0-9])(1[3-9][0-9]{9})(?![0-9])")


def _leaks(text: str) -> list[str]:
    """Full citizen IDs, credit codes and mobile numbers in ``text`` that are not published examples."""
    found = [m for m in _ID_RE.findall(text) if validators.is_citizen_id(m.upper())]
    found += [m for m in _CREDIT_RE.findall(text) if validators.is_credit_code(m)]
    found += _MOBILE_RE.findall(text)
    return sorted({f for f in found if f not in EXAMPLE_NUMBERS})


def _code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def _parameters_cell(nb):
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    return cells[0]


def _assigned(source: str) -> list[str]:
    return [
        t.id
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    ]


def test_there_are_notebooks_for_every_episode_and_the_analysts():
    names = {p.name for p in NOTEBOOKS}
    analysts = {
        "01_stock_overview.ipynb",
        "02_trend_ranking.ipynb",
        "03_common_errors.ipynb",
        "04_district_deep_dive.ipynb",
        "05_new_rule_overlay.ipynb",
        "06_ledger_loop.ipynb",
    }
    assert analysts <= names
    for ep in sorted(REPO.glob("training/episodes/*/index.md")):
        assert any(p.parent == ep.parent for p in NOTEBOOKS), f"{ep.parent.name} has no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_paired_with_an_identical_percent_script(path):
    py = path.with_suffix(".py")
    assert py.exists(), f"pair it: jupytext --set-formats ipynb,py:percent {path.name}"
    nb = jupytext.read(path)
    assert "py:percent" in nb.metadata.get("jupytext", {}).get("formats", "")
    assert jupytext.writes(nb, fmt="py:percent") == py.read_text(encoding="utf-8"), (
        f"{path.name} and {py.name} differ: jupytext --sync {py.name}"
    )
    from_py = jupytext.read(py)

    def cells(n):
        return [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in n.cells]

    assert cells(from_py) == cells(nb)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_saved_without_outputs_for_the_python3_kernel(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["metadata"]["kernelspec"]["name"] == "python3"
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, (
                "clear the outputs before saving"
            )
        assert "attachments" not in cell
    assert "widgets" not in raw["metadata"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_has_a_parameters_cell_with_the_data_folder(path):
    nb = nbformat.read(path, as_version=4)
    cell = _parameters_cell(nb)
    assert cell.cell_type == "code"
    names = _assigned(cell.source)
    assert {"DATA_DIR", "CHECK_DIR"} & set(names), "the parameters say where the data is"
    code = _code_cells(nb)
    assert code.index(cell) <= 1, "parameters come right after the imports"
    for c in code[code.index(cell) + 1 :]:
        assert not set(_assigned(c.source)) & set(names), "parameters are not reassigned later"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_def_or_class(path):
    nb = nbformat.read(path, as_version=4)
    for cell in _code_cells(nb):
        tree = ast.parse(cell.source)
        defined = [
            n.name
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
        assert not defined, f"move {defined} into toolkit/lessons.py (or toolkit/corrections.py)"


#: Calls that take the domain pack: a notebook passes it (``domain=DOMAIN`` or positionally).
_NEEDS_DOMAIN = {
    "run_check",
    "top_errors",
    "toolkit_labels",
    "indicator_settings",
    "weak_rules",
    "masked_rows",
    "write_sheet",
    "fill_suggestions",
    "plan_corrections",
    "apply_sheet",
    "score_history",
    "run_report",
    "build_bulletin",
    "load_scoring",
    "load_config",
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_domain_pack_is_a_parameter_passed_on(path):
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in _code_cells(nb))
    calls = [
        n
        for n in ast.walk(ast.parse(code))
        if isinstance(n, ast.Call) and getattr(n.func, "attr", getattr(n.func, "id", "")) in _NEEDS_DOMAIN
    ]
    if not calls:
        return
    assert "DOMAIN" in _assigned(_parameters_cell(nb).source), "DOMAIN belongs in the parameters cell"
    for call in calls:
        name = getattr(call.func, "attr", getattr(call.func, "id", ""))
        passed = [kw.value for kw in call.keywords if kw.arg == "domain"] + list(call.args)
        assert any(isinstance(v, ast.Name) and v.id == "DOMAIN" for v in passed), f"{name}: pass DOMAIN"
        assert not any(isinstance(v, ast.Constant) and v.value == "bdc" for v in passed), name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_saved_notebook_holds_no_personal_data(path):
    for p in (path, path.with_suffix(".py")):
        assert _leaks(p.read_text(encoding="utf-8")) == [], p.name


def test_leak_detector():
    assert _leaks("110102199101010078 and 91110000600037341L") == []  # published examples
    made_up = "42010219850612001" + validators.citizen_id_check_digit("42010219850612001")
    assert _leaks(f"x {made_up} y") == [made_up]
    assert _leaks("420102********0013, 138****5678") == []
    assert _leaks("tel 13812345678") == ["13812345678"]
    assert _leaks("12345678901234567890") == []


# ------------------------------------------------------------------------------------------- execution


@pytest.fixture(scope="session")
def notebook_data(tmp_path_factory) -> dict[str, Path]:
    """A small sample (2 districts, 3 days over two months, 200 stock rows), ``dq check`` of its stock
    batch and the counts history of its daily batches."""
    root = tmp_path_factory.mktemp("notebook_data")
    sample = root / "sample"
    generate_sample(
        "bdc", sample, seed=20241231, districts=2, days=3, stock_rows=200, end=dt.date(2024, 12, 3)
    )
    write_outputs(run_check(sample / "stock", domain="bdc", mode="stock"), root / "check_stock")
    History(root / "history.duckdb", domain="bdc").update(sample / "incremental")
    return {"DATA_DIR": sample, "CHECK_DIR": root / "check_stock", "HISTORY": root / "history.duckdb"}


#: Notebooks of another pack than bdc (file name → pack): they run on a small sample of their pack.
NOTEBOOK_PACKS = {
    "07_sgs_departments.ipynb": "sgs",
    "06-sgs-disclosure.ipynb": "sgs",
    "08_gjj_reconcile.ipynb": "gjj",
    "07-gjj-centres.ipynb": "gjj",
}


def test_every_notebook_of_another_pack_is_listed():
    """A notebook whose parameters name another pack than bdc must be listed above (else it would run on
    the bdc sample)."""
    for path in NOTEBOOKS:
        text = path.with_suffix(".py").read_text(encoding="utf-8")
        named = re.search(r'^DOMAIN\s*=\s*"([a-z]+)"', text, flags=re.M)
        if named and named.group(1) != "bdc":
            assert NOTEBOOK_PACKS.get(path.name) == named.group(1), path.name


@pytest.fixture(scope="session")
def gjj_notebook_data(tmp_path_factory) -> dict[str, Path]:
    """A small 住房公积金 sample (4 centres of ~100 members, 4 monthly batches, errors at twice the usual
    rate), its stock checked and the counts history of its monthly batches."""
    root = tmp_path_factory.mktemp("notebook_data_gjj")
    sample = root / "sample"
    generate_sample(
        "gjj",
        sample,
        seed=20241231,
        districts=4,
        months=4,
        persons=100,
        error_scale=2.0,
        end=dt.date(2024, 12, 31),
    )
    write_outputs(run_check(sample / "stock", domain="gjj", mode="stock"), root / "check_stock")
    History(root / "history.duckdb", domain="gjj").update(sample / "incremental")
    return {"DATA_DIR": sample, "CHECK_DIR": root / "check_stock", "HISTORY": root / "history.duckdb"}


@pytest.fixture(scope="session")
def sgs_notebook_data(tmp_path_factory) -> dict[str, Path]:
    """A small 双公示 sample (4 departments, 12 days over two months, 100 stock rows), its stock checked
    and the counts history of its daily batches."""
    root = tmp_path_factory.mktemp("notebook_data_sgs")
    sample = root / "sample"
    generate_sample(
        "sgs", sample, seed=20241231, districts=4, days=12, stock_rows=100, end=dt.date(2024, 12, 10)
    )
    write_outputs(run_check(sample / "stock", domain="sgs", mode="stock"), root / "check_stock")
    History(root / "history.duckdb", domain="sgs").update(sample / "incremental")
    return {"DATA_DIR": sample, "CHECK_DIR": root / "check_stock", "HISTORY": root / "history.duckdb"}


def _personal_values(data_dir: Path, pack: str) -> set[str]:
    pii = load_domain(pack).pii_fields()
    values: set[str] = set()
    for csv_path in data_dir.rglob("*.csv"):
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for col in frame.columns:
            if col in pii:
                values |= {v.strip() for v in frame[col] if len(v.strip()) >= 2}
    assert values
    return values


@pytest.fixture(scope="session")
def sample_personal_values(notebook_data) -> set[str]:
    """Every personal value of the sample (names, ID numbers, phones), as written in its files."""
    pii = load_domain("bdc").pii_fields()
    values: set[str] = set()
    for csv_path in notebook_data["DATA_DIR"].rglob("*.csv"):
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for col in frame.columns:
            if col in pii:
                values |= {v.strip() for v in frame[col] if len(v.strip()) >= 2}
    assert values
    return values


def _output_text(nb) -> str:
    parts = []
    for cell in _code_cells(nb):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            for key in ("text/plain", "text/html", "text/markdown"):
                value = out.get("data", {}).get(key)
                if value:
                    parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_on_a_small_sample(path, request, tmp_path, record_property):
    pack = NOTEBOOK_PACKS.get(path.name, "bdc")
    if pack == "bdc":
        data = request.getfixturevalue("notebook_data")
        sample_personal_values = request.getfixturevalue("sample_personal_values")
    else:
        data = request.getfixturevalue(f"{pack}_notebook_data")
        sample_personal_values = _personal_values(data["DATA_DIR"], pack)
    nb = nbformat.read(path, as_version=4)
    params = _parameters_cell(nb)
    wanted = {**data, "WORK_DIR": tmp_path / "work", "DOMAIN": pack}
    inject = {k: str(v) for k, v in wanted.items() if k in _assigned(params.source)}
    cell = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in inject.items()))
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(nb.cells.index(params) + 1, cell)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        startup_timeout=300,
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    record_property("seconds", round(seconds, 1))
    print(f"{path.relative_to(REPO)}: {seconds:.1f} s")
    assert seconds < NOTEBOOK_BUDGET
    for c in _code_cells(nb):
        for out in c.outputs:
            assert out.output_type != "error"
            if out.output_type == "stream" and out.name == "stderr":
                assert "Traceback" not in out.text
    text = _output_text(nb)
    assert text.strip(), "the notebook shows results"
    assert _leaks(text) == []
    shown = sorted(v for v in sample_personal_values if v in text)
    assert not shown, f"unmasked personal data of the sample in the outputs: {shown[:5]}"
    assert not list(path.parent.glob("*.csv")), "nothing is written next to the notebook"
