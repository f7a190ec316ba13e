"""Files ``dq check`` writes (see shared/spec/cli-and-outputs.md).

CSV files are UTF-8 *with BOM* so that Excel and WPS open them correctly; they are written by
:mod:`toolkit.sheets` (no formula from the data reaches a cell, no control character reaches the file).
``summary.json`` is plain UTF-8 JSON (RFC 8259 forbids a BOM in JSON; every JSON reader would choke on it).
"""

from __future__ import annotations

import datetime as dt
import json
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.sheets import CSV_ENCODING, write_csv

if TYPE_CHECKING:  # only for annotations: importing toolkit.check loads Great Expectations (slow)
    from toolkit.check import CheckResult

__all__ = ["CSV_ENCODING", "discard_outputs", "prepare_out_dir", "summary", "write_csv", "write_outputs"]


def _version(pkg: str) -> str | None:
    try:
        return version(pkg)
    except PackageNotFoundError:
        return None


def summary(result: CheckResult) -> dict[str, Any]:
    batch = result.batch
    files = [
        {
            "table": t.table,
            "file": t.path.name,
            "format": t.format,
            "encoding": t.encoding,
            "rows": t.rows,
            "blank_rows": t.blank_rows,
            "extra_columns": t.extra_columns,
            "renamed_columns": t.renamed_columns,
        }
        for t in batch.tables.values()
    ]
    rows_checked = result.rows_checked or {code: len(result.frames[code]) for code in batch.tables}
    evaluated = [r for r in result.rules if r.rule_id not in result.not_evaluated]
    failed = sorted(rid for rid, r in result.results.items() if not r.success and not r.error)
    return {
        "domain": result.domain.name,
        "mode": result.mode,
        "batch": str(batch.folder),
        "as_of": result.as_of.isoformat(sep=" ") if result.as_of else None,
        "as_of_source": result.as_of_source,
        "overlay": result.domain.overlay,
        "input_files": files,
        "unknown_files": batch.unknown_files,
        "absent_tables": [t for t in result.domain.mode_tables(result.mode) if t not in batch.tables],
        "rows_read": batch.rows_read,
        "rows_checked": sum(rows_checked.values()),
        "rows_checked_by_table": rows_checked,
        "rules": {
            "total": len(result.rules),
            "evaluated": len(evaluated),
            "not_evaluated": len(result.not_evaluated),
            "failed": len(failed),
            "critical_failed": len(result.critical_failures),
        },
        "failed_rules": failed,
        "critical_failed_rules": result.critical_failures,
        "not_evaluated_rules": [{"rule_id": k, "reason": v} for k, v in sorted(result.not_evaluated.items())],
        "problems": result.n_problems,
        "engine": result.engine,
        "gx_rules": dict(getattr(result, "gx_rules", {}) or {}),
        "warnings": list(result.warnings),
        "unit": {"column": result.domain.unit.column, "label_zh": result.domain.unit.label_zh},
        "units": sorted(result.counts["unit_code"].unique().tolist()),
        "success": result.exit_code == 0,
        "exit_code": result.exit_code,
        "started": result.started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "wall_seconds": round(result.seconds, 3),
        "versions": {
            "toolkit": _version("dq-toolkit"),
            "great_expectations": _version("great-expectations"),
            "pandas": _version("pandas"),
            "duckdb": _version("duckdb"),
            "python": platform.python_version(),
        },
    }


def write_outputs(result: CheckResult, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "counts": out_dir / "counts.csv",
        "problems": out_dir / "problems.csv",
        "summary": out_dir / "summary.json",
        "data_docs": out_dir / "data_docs",
        "report": out_dir / "report.html",
    }
    write_csv(result.domain.with_legacy(result.counts), paths["counts"])
    streamed = (
        result.problems_path is not None
        and Path(result.problems_path).resolve() == paths["problems"].resolve()
    )
    if not streamed:  # the engine streams the list to problems.csv during the run
        write_csv(result.domain.with_legacy(result.problems), paths["problems"])
    from toolkit.checkreport import write_check_report

    write_check_report(result, paths["report"])
    paths["summary"].write_text(
        json.dumps(summary(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    from toolkit.lists import write_lists  # the pack's lists (lists: in domain.yaml), e.g. dormant.csv

    paths.update(write_lists(result, out_dir))
    return paths


# ------------------------------------------------------------------------------------------ the out folder

#: Files of one ``dq check`` run (besides ``data_docs/``): removed before a run and after a failed one, so
#: that nothing left behind can pass for a result.
RUN_FILES = ("counts.csv", "problems.csv", "summary.json", "report.html")
DOCS = "data_docs"
#: Written into ``data_docs/`` by the toolkit; a folder without it (and not shaped like Data Docs) holds
#: someone else's files and is never deleted.
DOCS_MARKER = ".dq-data-docs"
_GX_DOCS_ENTRIES = {"index.html", "static", "validations", "expectations", DOCS_MARKER}


def prepare_out_dir(out_dir: Path, *, docs: bool) -> None:
    """Make ``out_dir`` ready for a run: refuse a path that is a file, a ``data_docs`` that is a link or
    holds files the toolkit did not write; remove the previous run's outputs; create ``data_docs/``
    with its marker. Raises :class:`~toolkit.errors.InputError` (exit 2)."""
    from toolkit.errors import InputError

    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(
            "输出路径已存在，但不是文件夹。",
            "the output path exists and is not a folder.",
            path=out_dir,
            fix_zh="请用 --out 指定一个文件夹（不存在时会自动创建）。",
            fix_en="give --out a folder (it is created if missing).",
        )
    docs_dir = out_dir / DOCS
    if docs_dir.is_symlink() or (docs_dir.exists() and not docs_dir.is_dir()):
        raise InputError(
            "输出文件夹中的 data_docs 是链接或文件，工具不会写入或删除它。",
            "data_docs in the output folder is a link or a file; the toolkit will not write into or delete it.",
            path=docs_dir,
            fix_zh="请删除或移走它，或换一个输出文件夹。",
            fix_en="remove or move it, or choose another output folder.",
        )
    if docs_dir.is_dir():
        entries = {p.name for p in docs_dir.iterdir()}
        if entries and not (DOCS_MARKER in entries or entries <= _GX_DOCS_ENTRIES):
            raise InputError(
                "输出文件夹中的 data_docs 含有不是本工具生成的文件，工具不会删除它们。",
                "data_docs in the output folder holds files the toolkit did not write; they are not deleted.",
                path=docs_dir,
                fix_zh="请移走这些文件，或换一个输出文件夹。",
                fix_en="move those files away, or choose another output folder.",
            )
    discard_outputs(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if docs:
        docs_dir.mkdir()
        (docs_dir / DOCS_MARKER).write_text("written by dq check (dq-toolkit)\n", encoding="utf-8")


def discard_outputs(out_dir: Path) -> None:
    """Remove a run's outputs (the files of :data:`RUN_FILES` and the toolkit's ``data_docs/``)."""
    import shutil

    for name in RUN_FILES:
        p = out_dir / name
        if p.is_symlink() or p.is_file():
            p.unlink()
    docs_dir = out_dir / DOCS
    if docs_dir.is_dir() and not docs_dir.is_symlink():
        entries = {p.name for p in docs_dir.iterdir()}
        if DOCS_MARKER in entries or entries <= _GX_DOCS_ENTRIES:
            shutil.rmtree(docs_dir)
