"""Files ``dq check`` writes (see shared/spec/cli-and-outputs.md).

CSV files are UTF-8 *with BOM* so that Excel and WPS open them correctly. ``summary.json`` is plain
UTF-8 JSON (RFC 8259 forbids a BOM in JSON; every JSON reader would choke on it).
"""

from __future__ import annotations

import datetime as dt
import json
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # only for annotations: importing toolkit.check loads Great Expectations (slow)
    from toolkit.check import CheckResult

CSV_ENCODING = "utf-8-sig"


def _version(pkg: str) -> str | None:
    try:
        return version(pkg)
    except PackageNotFoundError:
        return None


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, encoding=CSV_ENCODING)


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
    rows_checked = {code: len(result.frames[code]) for code in batch.tables}
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
        "problems": len(result.problems),
        "districts": sorted(
            result.counts[result.domain.config.get("district_column", "QXDM")].unique().tolist()
        ),
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
    }
    write_csv(result.counts, paths["counts"])
    write_csv(result.problems, paths["problems"])
    paths["summary"].write_text(
        json.dumps(summary(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return paths
