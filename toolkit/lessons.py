"""培训课程与分析笔记本的辅助函数 / helpers for the training lessons and the analyst notebooks.

Notebooks under ``training/`` and ``notebooks/`` contain no ``def`` or ``class``: whatever they need beyond
the toolkit's public API lives here, is documented and is tested (``tests/test_lessons.py``).

Data
    :func:`sample_dir`, :func:`day_batches`, :func:`working_copy`, :func:`load_check_output`,
    :func:`masked_rows`.
The ten most common errors
    :func:`top_errors`, :func:`examples`.
The correction exercise (改正表 → 改正 → 复查)
    :func:`fix_sheet` writes a correction sheet (UTF-8 with BOM, opens in Excel/WPS) listing problems;
    learners fill its column ``改为``; :func:`apply_fix_sheet` writes the corrections into the batch's CSV
    files (keeping a backup and a log, as a traceable batch clean-up should); :func:`compare_problems`
    and :func:`closure_summary` compare the problem lists before and after the re-check.
    :func:`fill_suggestions` is the trainer's answer key: it fills ``改为`` for the errors that can be
    corrected at the desk (format, spaces, check digits), using :func:`suggest_fix`.
Scores, rankings and bulletins
    :func:`explain_table` (one district's indicators: numerator, denominator, points, level, with Chinese
    headings, from :func:`toolkit.scoring.explain`), :func:`weak_rules` (the rules behind its weakest
    indicators, with ``message_zh`` / ``fix_zh``), :func:`ranking_table` (a period's ranking with the
    change against the period before), :func:`level_css` (优/良/差 in the bulletin's colours).
Check digits by hand
    :func:`check_digit_worksheet`, :func:`unit_number_parts`.
Course material
    :func:`toolkit_labels` (the toolkit's own Chinese labels), :func:`load_glossary`,
    :func:`glossary_problems`, :func:`render_glossary`, :func:`read_episode`, :func:`build_handout`;
    ``python -m toolkit.lessons build`` regenerates ``training/glossary.md`` and ``training/handout.html``,
    ``python -m toolkit.lessons check`` verifies that they are up to date.

Personal data: functions that return values of a batch mask them by the dictionary's ``pii`` classes
(:mod:`toolkit.masking`); only the correction sheet's ``改为`` column, which the learner types, holds
full values, and it stays in the learner's working folder.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
import shutil
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import validators
from toolkit.domain import DIMENSIONS, Domain, Rule, domain_path, load_domain
from toolkit.errors import DQError
from toolkit.masking import mask_value
from toolkit.sheets import read_csv
from toolkit.yamlfile import load_yaml, load_yaml_text

__all__ = [
    "DEFAULT_DIMENSION_LABELS",
    "DEFAULT_SEVERITY_LABELS",
    "EXAMPLE_NUMBERS",
    "EXPLAIN_COLUMNS",
    "FIX_SHEET_COLUMNS",
    "LEVEL_FILLS",
    "NOT_SCORED",
    "RANKING_COLUMNS",
    "WEAK_RULE_COLUMNS",
    "Episode",
    "LessonError",
    "apply_fix_sheet",
    "build_handout",
    "check_digit_worksheet",
    "closure_summary",
    "compare_problems",
    "day_batches",
    "examples",
    "explain_table",
    "fill_generated_blocks",
    "fill_suggestions",
    "fix_sheet",
    "glossary_problems",
    "indicator_settings",
    "indicator_table",
    "level_css",
    "load_check_output",
    "load_glossary",
    "main",
    "masked_rows",
    "ranking_table",
    "read_episode",
    "read_fix_sheet",
    "render_glossary",
    "sample_dir",
    "suggest_fix",
    "toolkit_labels",
    "top_errors",
    "unit_number_parts",
    "weak_rules",
    "working_copy",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
TRAINING_DIR = REPO_ROOT / "training"

#: Published example numbers (from GB 11643-1999, GB 32100-2015 and the reference notes) that the
#: course may show in full: they identify nobody. Any other valid ID in course material is a leak.
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

#: Chinese labels of the rule dimensions and severities, used when the domain pack does not give its
#: own (``domain.yaml``: ``labels: {dimensions: …, severities: …}``). The dimension labels are those of
#: the section headings of ``scoring.yaml``; ``tests/test_training.py`` checks that they agree.
DEFAULT_DIMENSION_LABELS = {
    "completeness": "完整性",
    "validity": "有效性",
    "uniqueness": "唯一性",
    "consistency": "一致性",
    "timeliness": "及时性",
    "coverage": "汇交",
    "closed_loop": "闭环",
}
DEFAULT_SEVERITY_LABELS = {"critical": "严重", "warning": "警告"}

#: Columns of the correction sheet (改正表), in order.
FIX_SHEET_COLUMNS = (
    "序号",
    "规则编号",
    "区县代码",
    "业务号",
    "文件",
    "行号",
    "字段",
    "字段名称",
    "当前值（已脱敏）",
    "问题说明",
    "整改办法",
    "改为",
    "备注",
)
#: Typed in ``改为`` to empty a cell (an empty ``改为`` means "not corrected").
EMPTY_MARK = "（空）"

_UTF8_BOM = b"\xef\xbb\xbf"


class LessonError(DQError):
    """A lesson cannot go on: data missing, a correction sheet that does not fit the batch, …"""


# ================================================================================================ data


def sample_dir(data_dir: str | Path) -> Path:
    """The sample data folder of the lessons (``make demo`` writes it to ``demo_out/sample``).

    ``data_dir`` is resolved against the current directory (a notebook's own folder in JupyterLab).
    Raises :class:`LessonError`, saying how to create the data, if it has no ``stock`` batch.
    """
    path = Path(data_dir).expanduser().resolve()
    if not (path / "stock").is_dir():
        raise LessonError(
            f"找不到示例数据（{path} 下没有 stock 文件夹）。",
            f"no sample data ({path} has no stock folder).",
            path=path,
            fix_zh="在项目根目录运行 make demo（会生成 demo_out/sample），或把笔记本参数 DATA_DIR 改为示例数据所在的文件夹。",
            fix_en="run `make demo` at the top of the repository (it writes demo_out/sample), or set the "
            "notebook parameter DATA_DIR to the folder of the sample data.",
        )
    return path


def day_batches(data_dir: str | Path) -> list[Path]:
    """The incremental batches (one folder per day, ``incremental/YYYY-MM-DD``), oldest first."""
    inc = sample_dir(data_dir) / "incremental"
    days = (
        sorted(p for p in inc.iterdir() if p.is_dir() and validators.is_date(p.name)) if inc.is_dir() else []
    )
    if not days:
        raise LessonError(
            f"{inc} 下没有增量批次。",
            f"no incremental batch under {inc}.",
            path=inc,
            fix_zh="重新运行 make demo 生成增量数据。",
            fix_en="run `make demo` again to write the incremental batches.",
        )
    return days


def working_copy(batch_dir: str | Path, work_dir: str | Path, *, name: str | None = None) -> Path:
    """Copy a batch into ``work_dir/name`` (default: the batch folder's name), replacing an old copy.

    Exercises edit the copy, never the shared sample. Only the batch's files are copied.
    """
    src = Path(batch_dir)
    if not src.is_dir():
        raise LessonError(f"批次文件夹 {src} 不存在。", f"batch folder {src} does not exist.", path=src)
    dst = Path(work_dir) / (name or src.name)
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for f in sorted(src.iterdir()):
        if f.is_file():
            shutil.copy2(f, dst / f.name)
    return dst


def load_check_output(out_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Read what ``dq check`` wrote into ``out_dir``: ``(counts, problems, summary)``.

    Codes stay text (``QXDM`` ``420102`` is not a number); counts are integers, ``evaluated`` a bool,
    ``row`` an integer.
    """
    out = Path(out_dir)
    missing = [n for n in ("counts.csv", "problems.csv") if not (out / n).exists()]
    if missing:
        raise LessonError(
            f"{out} 下缺少 {', '.join(missing)}（不是 dq check 的输出文件夹）。",
            f"{out} lacks {', '.join(missing)} (not an output folder of dq check).",
            path=out,
            fix_zh="先运行 make demo，或用 dq check --out 指定的文件夹。",
            fix_en="run `make demo` first, or give the folder passed to `dq check --out`.",
        )
    counts = read_csv(out / "counts.csv", keep_default_na=False)
    for col in ("element_count", "unexpected_count"):
        counts[col] = counts[col].astype(int)
    counts["evaluated"] = counts["evaluated"].str.lower().eq("true")
    problems = read_csv(out / "problems.csv", keep_default_na=False)
    problems["row"] = problems["row"].astype(int)
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
    return counts, problems, summary


def masked_rows(frame: pd.DataFrame, domain: str | Domain = "bdc") -> pd.DataFrame:
    """A copy of ``frame`` (rows of a batch table) with every personal-data column masked."""
    dom = domain if isinstance(domain, Domain) else load_domain(domain)
    pii = dom.pii_fields()
    out = frame.copy()
    for col in out.columns:
        if col in pii:
            out[col] = [mask_value(col, v, pii) for v in out[col]]
    return out


# ================================================================================================ labels


def _dimension_headings(domain_dir: Path) -> dict[str, str]:
    """``{dimension: 中文}`` from the section headings of ``scoring.yaml`` (``# --- 完整性 completeness``)."""
    path = domain_dir / "scoring.yaml"
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*#\s*-{3,}\s*(\S+)\s+([a-z][a-z ]*[a-z])", line)
        if m and m.group(2).replace(" ", "_") in DIMENSIONS:
            out[m.group(2).replace(" ", "_")] = m.group(1)
    return out


def _scoring_data(domain_dir: Path) -> dict[str, Any]:
    path = domain_dir / "scoring.yaml"
    if not path.exists():
        return {}
    return load_yaml(path) or {}


def indicator_settings(indicator: str, domain: str | Path = "bdc") -> dict[str, Any]:
    """The configuration of one indicator of the scoring model (``scoring.yaml``): label, weight, target,
    floor, direction, rules…; raises :class:`LessonError` if the domain has no such indicator."""
    data = _scoring_data(domain_path(domain))
    spec = (data.get("indicators") or {}).get(indicator)
    if spec is None:
        raise LessonError(
            f"评分模型中没有指标 {indicator}。",
            f"the scoring model has no indicator {indicator}.",
            path=domain_path(domain) / "scoring.yaml",
        )
    return {"id": indicator, **spec}


def toolkit_labels(domain: str | Path = "bdc") -> dict[str, dict[str, str]]:
    """The toolkit's own Chinese labels, by kind, read from the domain pack (and the ledger's states).

    Kinds: ``field`` (dictionary field code → label; a code used by several tables has one label),
    ``table``, ``code`` (``"DJLX:100"`` → 首次登记), ``mode``, ``dimension``, ``severity``,
    ``indicator``, ``grade`` and ``level`` (scoring model), ``state`` (problem ledger, if installed).
    """
    dom = load_domain(domain)
    labels: dict[str, dict[str, str]] = {k: {} for k in ("field", "table", "code", "mode")}
    for tcode, table in dom.tables.items():
        labels["table"][tcode] = table["label_zh"]
        for fcode, spec in table["fields"].items():
            labels["field"].setdefault(fcode, spec["label_zh"])
    for list_name, codes in dom.code_lists.items():
        for code, text in codes.items():
            labels["code"][f"{list_name}:{code}"] = text
    for mode, spec in (dom.config.get("modes") or {}).items():
        labels["mode"][mode] = spec.get("label_zh", mode)
    own = dom.config.get("labels") or {}
    labels["dimension"] = dict(own.get("dimensions") or DEFAULT_DIMENSION_LABELS)
    labels["severity"] = dict(own.get("severities") or DEFAULT_SEVERITY_LABELS)
    scoring = _scoring_data(dom.path)
    labels["indicator"] = {k: v["label_zh"] for k, v in (scoring.get("indicators") or {}).items()}
    labels["grade"] = {g["grade"]: g["grade"] for g in scoring.get("grades") or []}
    labels["level"] = {lv["level"]: lv["level"] for lv in scoring.get("levels") or []}
    try:
        from toolkit import ledger

        labels["state"] = {alias: s for alias, s in ledger.STATE_ALIASES.items() if s in ledger.STATES}
    except (ImportError, AttributeError):  # the ledger is optional
        labels["state"] = {}
    return labels


def _dim_label(dimension: str, labels: Mapping[str, str] | None = None) -> str:
    return (labels or DEFAULT_DIMENSION_LABELS).get(dimension, dimension)


# ================================================================================================ common errors


def top_errors(problems: pd.DataFrame, n: int = 10, *, domain: str | Domain = "bdc") -> pd.DataFrame:
    """The ``n`` rules with the most problem rows (ties: by rule id), with what to tell the clerks.

    Columns: 排名, 规则编号, 问题说明, 整改办法, 维度, 严重程度, 问题数, 占比（%）, 涉及区县数, 文件.
    """
    cols = [
        "排名",
        "规则编号",
        "问题说明",
        "整改办法",
        "维度",
        "严重程度",
        "问题数",
        "占比（%）",
        "涉及区县数",
        "文件",
    ]
    if problems.empty:
        return pd.DataFrame(columns=cols)
    labels = toolkit_labels(domain.path if isinstance(domain, Domain) else domain)
    grouped = (
        problems.assign(_d=problems["QXDM"].fillna(""))
        .groupby("rule_id", sort=True)
        .agg(
            问题说明=("message_zh", "first"),
            整改办法=("fix_zh", "first"),
            维度=("dimension", "first"),
            严重程度=("severity", "first"),
            问题数=("rule_id", "size"),
            涉及区县数=("_d", "nunique"),
            文件=("file", "first"),
        )
        .reset_index()
        .rename(columns={"rule_id": "规则编号"})
    )
    grouped = grouped.sort_values(["问题数", "规则编号"], ascending=[False, True], kind="stable").head(n)
    grouped["占比（%）"] = (grouped["问题数"] / len(problems) * 100).round(1)
    grouped["维度"] = grouped["维度"].map(lambda d: labels["dimension"].get(d, d))
    grouped["严重程度"] = grouped["严重程度"].map(lambda s: labels["severity"].get(s, s))
    grouped.insert(0, "排名", range(1, len(grouped) + 1))
    return grouped[cols].reset_index(drop=True)


def examples(problems: pd.DataFrame, rule_id: str, n: int = 3) -> pd.DataFrame:
    """Up to ``n`` problem rows of one rule, as a clerk would look them up (values already masked)."""
    rows = problems[problems["rule_id"] == rule_id].head(n)
    out = pd.DataFrame(
        {
            "区县代码": rows["QXDM"],
            "业务号": rows["YWH"],
            "文件": rows["file"],
            "行号": rows["row"],
            "字段": rows["field"],
            "问题值（已脱敏）": rows["value_masked"],
            "具体原因": rows.get("detail_zh", pd.Series("", index=rows.index)),
        }
    )
    return out.fillna("").reset_index(drop=True)


# ================================================================================================ corrections


def fix_sheet(
    problems: pd.DataFrame,
    path: str | Path,
    *,
    rules: Iterable[str] | None = None,
    domain: str | Domain = "bdc",
) -> pd.DataFrame:
    """Write a correction sheet (改正表) for ``problems`` (optionally only of ``rules``) and return it.

    One row per problem; the learner fills ``改为`` with the correct value (``（空）`` empties the
    cell) and may write a note in ``备注``. The current value is masked (it may be personal data).
    The format follows the file name: ``.xlsx`` (recommended: every value cell is formatted as text, so
    that Excel/WPS keep an 18-digit ID number as typed instead of turning it into 1.10102E+17) or ``.csv``
    (UTF-8 with BOM, so that Excel and WPS open it).
    """
    dom = domain if isinstance(domain, Domain) else load_domain(domain)
    sel = problems if rules is None else problems[problems["rule_id"].isin(list(rules))]
    sel = sel.sort_values(["file", "row", "rule_id"], key=_natural_key, kind="stable")
    sheet = pd.DataFrame(
        {
            "序号": range(1, len(sel) + 1),
            "规则编号": sel["rule_id"].to_numpy(),
            "区县代码": sel["QXDM"].fillna("").to_numpy(),
            "业务号": sel["YWH"].fillna("").to_numpy(),
            "文件": sel["file"].to_numpy(),
            "行号": sel["row"].astype(int).to_numpy(),
            "字段": sel["field"].to_numpy(),
            "字段名称": [dom.field_label(t, f) for t, f in zip(sel["table"], sel["field"], strict=True)],
            "当前值（已脱敏）": sel["value_masked"].fillna("").to_numpy(),
            "问题说明": sel["message_zh"].to_numpy(),
            "整改办法": sel["fix_zh"].to_numpy(),
            "改为": "",
            "备注": "",
        },
        columns=list(FIX_SHEET_COLUMNS),
    )
    _write_sheet(sheet, Path(path))
    return sheet


_NUMBER_COLUMNS = ("序号", "行号")
_WIDTHS = {"规则编号": 28, "问题说明": 40, "整改办法": 40, "当前值（已脱敏）": 30, "改为": 30, "备注": 30}


def _write_sheet(sheet: pd.DataFrame, path: Path) -> None:
    from toolkit.sheets import safe_text, save_workbook, write_csv

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() != ".xlsx":
        write_csv(sheet, path)
        return
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "改正表"
    ws.append(list(sheet.columns))
    for record in sheet.itertuples(index=False):
        ws.append(
            [
                int(v)
                if col in _NUMBER_COLUMNS and str(v).strip().isdigit()
                else ("" if pd.isna(v) else safe_text(str(v)))
                for col, v in zip(sheet.columns, record, strict=True)
            ]
        )
    for j, col in enumerate(sheet.columns, start=1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = _WIDTHS.get(col, 14)
        head = ws.cell(row=1, column=j)
        head.font = Font(bold=True)
        if col in ("改为", "备注"):
            head.fill = PatternFill("solid", fgColor="FFF2CC")
        if col not in _NUMBER_COLUMNS:
            for i in range(2, len(sheet) + 2):
                ws.cell(row=i, column=j).number_format = "@"  # text: 18-digit numbers stay as typed
    ws.freeze_panes = "A2"
    save_workbook(wb, path)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _natural_key(col: pd.Series) -> pd.Series:
    return col.astype(int) if col.name == "row" else col


def read_fix_sheet(path: str | Path) -> pd.DataFrame:
    """Read a correction sheet back: ``.xlsx``, or CSV in whatever encoding Excel/WPS saved it."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
        header = [_cell_text(h).strip() for h in rows[0]] if rows else []
        body = [[_cell_text(v) for v in r] for r in rows[1:] if any(_cell_text(v).strip() for v in r)]
        sheet = pd.DataFrame(body, columns=header, dtype=str)
    else:
        text, _ = _decode(path.read_bytes(), path)
        sheet = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    missing = [c for c in ("文件", "行号", "字段", "改为") if c not in sheet.columns]
    if missing:
        raise LessonError(
            f"改正表缺少列：{', '.join(missing)}。",
            f"the correction sheet lacks columns: {', '.join(missing)}.",
            path=path,
            fix_zh="请用 fix_sheet 重新生成改正表，只在“改为”“备注”两列填写。",
            fix_en="write the sheet again with fix_sheet and only fill the columns 改为 and 备注.",
        )
    return sheet


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    if data.startswith(_UTF8_BOM):
        return data.decode("utf-8-sig"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as exc:
            raise LessonError(
                "文件既不是 UTF-8 也不是 GB18030 编码。",
                "the file is neither UTF-8 nor GB18030.",
                path=path,
                fix_zh="在 Excel/WPS 中另存为“CSV UTF-8”。",
                fix_en="save it as 'CSV UTF-8' from Excel/WPS.",
            ) from exc


@dataclass
class _CsvFile:
    path: Path
    encoding: str
    newline: str
    records: list[list[str]]

    @classmethod
    def read(cls, path: Path) -> _CsvFile:
        data = path.read_bytes()
        text, encoding = _decode(data, path)
        first_break = text.find("\n")
        newline = "\r\n" if first_break > 0 and text[first_break - 1] == "\r" else "\n"
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        return cls(path, encoding, newline, records)

    def column(self, field_code: str) -> int:
        header = [h.strip().upper() for h in self.records[0]] if self.records else []
        try:
            return header.index(field_code.strip().upper())
        except ValueError:
            raise LessonError(
                f"文件 {self.path.name} 没有字段 {field_code}。",
                f"file {self.path.name} has no field {field_code}.",
                path=self.path,
            ) from None

    def cell(self, row: int, col: int) -> str:
        if not 2 <= row <= len(self.records):
            raise LessonError(
                f"文件 {self.path.name} 没有第 {row} 行（数据在第 2–{len(self.records)} 行）。",
                f"file {self.path.name} has no row {row} (data rows 2–{len(self.records)}).",
                path=self.path,
            )
        record = self.records[row - 1]
        return record[col] if col < len(record) else ""

    def set(self, row: int, col: int, value: str) -> None:
        self.cell(row, col)
        record = self.records[row - 1]
        record.extend([""] * (col + 1 - len(record)))
        record[col] = value

    def write(self) -> None:
        buf = io.StringIO(newline="")
        csv.writer(buf, lineterminator=self.newline).writerows(self.records)
        self.path.write_bytes(buf.getvalue().encode(self.encoding))


def _batch_file(batch_dir: Path, name: str) -> Path:
    path = batch_dir / name
    if path.suffix.lower() != ".csv":
        raise LessonError(
            f"只能在改正表中改 CSV 文件，{name} 不是 CSV。",
            f"the correction sheet only edits CSV files; {name} is not one.",
            path=path,
            fix_zh="Excel 文件请直接在 Excel/WPS 中按行号修改后保存。",
            fix_en="edit an Excel file directly in Excel/WPS at the given row.",
        )
    if not path.exists():
        raise LessonError(f"批次中没有文件 {name}。", f"the batch has no file {name}.", path=path)
    return path


def apply_fix_sheet(
    sheet_path: str | Path,
    batch_dir: str | Path,
    *,
    domain: str | Domain = "bdc",
    backup_dir: str | Path | None = None,
    log_path: str | Path | None = None,
) -> pd.DataFrame:
    """Write the filled-in corrections of a sheet into the batch's CSV files; return what was changed.

    Rows whose ``改为`` is empty are skipped; ``（空）`` empties the cell. Before the first change a
    file is copied to ``backup_dir`` (default: ``<batch>_备份`` beside the batch; an existing backup is
    kept, so it always holds the original), and every change is appended to ``log_path`` (default:
    ``改正记录.csv`` beside the sheet) with the time, file, row, field and the masked old and new values.
    Encoding and line endings of each file are kept. Raises :class:`LessonError` for a row or field that
    does not exist, and changes nothing in that case.
    """
    dom = domain if isinstance(domain, Domain) else load_domain(domain)
    pii = dom.pii_fields()
    sheet_path, batch = Path(sheet_path), Path(batch_dir)
    sheet = read_fix_sheet(sheet_path)
    todo = sheet[sheet["改为"].str.strip() != ""]
    files: dict[str, _CsvFile] = {}
    changes = []
    for _, r in todo.iterrows():
        name = r["文件"].strip()
        if name not in files:
            files[name] = _CsvFile.read(_batch_file(batch, name))
        f = files[name]
        try:
            row = int(str(r["行号"]).strip())
        except ValueError:
            raise LessonError(
                f"改正表第 {r.get('序号', '?')} 条的行号“{r['行号']}”不是整数。",
                f"sheet entry {r.get('序号', '?')}: row {r['行号']!r} is not an integer.",
                path=sheet_path,
            ) from None
        field_code = r["字段"].strip()
        col = f.column(field_code)
        new = r["改为"].strip()
        new = "" if new == EMPTY_MARK else new
        old = f.cell(row, col)
        changes.append((f, row, col, field_code, old, new, r.get("规则编号", "")))
    stamp = dt.datetime.now().isoformat(sep=" ", timespec="seconds")
    bdir = Path(backup_dir) if backup_dir is not None else batch.parent / f"{batch.name}_备份"
    for name, f in files.items():
        if not (bdir / name).exists():
            bdir.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f.path, bdir / name)
    for f, row, col, _fc, _old, new, _rid in changes:
        f.set(row, col, new)
    for f in files.values():
        f.write()
    log = pd.DataFrame(
        [
            {
                "时间": stamp,
                "规则编号": rid,
                "文件": f.path.name,
                "行号": row,
                "字段": fc,
                "原值（已脱敏）": mask_value(fc, old, pii),
                "新值（已脱敏）": mask_value(fc, new, pii),
            }
            for f, row, _col, fc, old, new, rid in changes
        ],
        columns=["时间", "规则编号", "文件", "行号", "字段", "原值（已脱敏）", "新值（已脱敏）"],
    )
    if changes:
        lpath = Path(log_path) if log_path is not None else sheet_path.parent / "改正记录.csv"
        from toolkit.sheets import append_csv

        append_csv(log, lpath)
    return log.drop(columns=["时间"])


# ------------------------------------------------------------------------------------------------ answer key

_DT_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y%m%d %H%M%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y-%m-%d",
)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _clean_text(value: str) -> str:
    kept = "".join(
        ch
        for ch in value
        if ch != "\ufffd"
        and (ch in "\t\n\r" or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Zl", "Zp"})
    )

    def space(m: re.Match[str]) -> str:
        before = kept[m.start() - 1] if m.start() > 0 else ""
        after = kept[m.end()] if m.end() < len(kept) else ""
        if "\u3000" in m.group(0) or (_is_cjk(before) and _is_cjk(after)):
            return ""
        return " "

    return re.sub(r"\s+", space, kept).strip()


def suggest_fix(rule: Rule, value: str | None) -> str | None:
    """The correction a clerk could make at the desk without the source documents, or ``None``.

    Covers formats (dates and times, numbers with a unit or a ``%``, certificate-number brackets and
    padding, phone separators), invisible characters and spaces, a lower-case ``x`` in an ID, and the check
    character of citizen IDs and credit codes. A recomputed check character makes a number *valid*, not
    *right*: in real work the number is compared with the ID card or business licence first (the answer
    key marks these). Empty cells, codes, unit numbers and anything else need the registration files.
    """
    if value is None or value == "":
        return None
    t, kw = rule.type, rule.kwargs
    out: str | None = None
    if t == "expect_column_values_to_be_clean_text":
        out = _clean_text(value)
    elif t == "expect_column_values_to_be_valid_datetime_text":
        text = _clean_text(value)
        for fmt in _DT_FORMATS:
            try:
                parsed = dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
            out = parsed.strftime("%Y-%m-%d" if kw.get("date_only") else "%Y-%m-%d %H:%M:%S")
            break
        else:  # 2024-3-5 9:05:00 style (no zero padding)
            m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?: (\d{1,2}):(\d{1,2}):(\d{1,2}))?", text)
            if m:
                try:
                    parsed = dt.datetime(*(int(g) for g in m.groups() if g is not None))
                except ValueError:
                    parsed = None
                if parsed is not None:
                    out = parsed.strftime("%Y-%m-%d" if kw.get("date_only") else "%Y-%m-%d %H:%M:%S")
    elif t in ("expect_column_values_to_be_decimal_in_range", "expect_column_values_to_be_integer_text"):
        text = re.sub(r"(㎡|平方米|m²|m2|万元|元|%|％|,|，)", "", value).strip()
        if t == "expect_column_values_to_be_integer_text" and re.fullmatch(r"-?[0-9]+\.0+", text):
            text = text.split(".")[0]
        out = text
    elif t == "expect_column_values_to_match_regex":
        text = _clean_text(value).replace("（", "(").replace("）", ")")
        if kw.get("column") == "BDCQZH":
            text = re.sub(r"第([0-9]{1,6})号$", lambda m: f"第{int(m.group(1)):07d}号", text)
        elif kw.get("column") == "DH":
            digits = re.sub(r"[\s-]", "", text)
            if re.fullmatch(r"1[3-9][0-9]{9}", digits):
                text = digits
        out = text
    elif t == "expect_column_values_to_be_valid_citizen_id":
        text = value.strip().upper()
        if len(text) == 18 and text[:17].isascii() and text[:17].isdigit():
            candidate = text[:17] + validators.citizen_id_check_digit(text[:17])
            out = candidate if validators.is_citizen_id(candidate) else None
    elif t == "expect_column_values_to_be_valid_credit_code":
        text = value.strip().upper()
        if len(text) == 18 and all(c in validators.CREDIT_CODE_CHARSET for c in text[:17]):
            out = text[:17] + validators.credit_code_check_char(text[:17])
    if out is None or out == value:
        return None
    return out


def _needs_documents_note(rule: Rule) -> str:
    if rule.type in (
        "expect_column_values_to_be_valid_citizen_id",
        "expect_column_values_to_be_valid_credit_code",
    ):
        return "示例答案：按校验码重算；实际工作中须先对照证件原件"
    return "示例答案：格式整理"


def fill_suggestions(
    sheet_path: str | Path, batch_dir: str | Path, *, domain: str | Domain = "bdc"
) -> pd.DataFrame:
    """The trainer's answer key: fill the empty ``改为`` cells of a sheet that :func:`suggest_fix` can
    correct (reading the unmasked value from the batch), write the sheet back, return it.

    Problems that need the registration files stay empty; ``备注`` says so.
    """
    dom = domain if isinstance(domain, Domain) else load_domain(domain)
    sheet_path, batch = Path(sheet_path), Path(batch_dir)
    sheet = read_fix_sheet(sheet_path)
    files: dict[str, _CsvFile] = {}
    rules = {r.rule_id: r for r in dom.rules}
    for i, r in sheet.iterrows():
        if r["改为"].strip():
            continue
        rule = rules.get(r["规则编号"])
        name = r["文件"].strip()
        if rule is None or not name.lower().endswith(".csv") or not (batch / name).exists():
            continue
        if name not in files:
            files[name] = _CsvFile.read(batch / name)
        f = files[name]
        raw = f.cell(int(r["行号"]), f.column(r["字段"]))
        fix = suggest_fix(rule, raw)
        if fix is not None:
            sheet.loc[i, "改为"] = fix
            sheet.loc[i, "备注"] = _needs_documents_note(rule)
        elif not r["备注"].strip():
            sheet.loc[i, "备注"] = "需查阅登记档案/权籍调查成果后改正"
    _write_sheet(sheet, sheet_path)
    return sheet


# ------------------------------------------------------------------------------------------------ re-check

_PROBLEM_KEY = ["rule_id", "table", "file", "row", "field"]
CLOSED, OPEN, NEW = "已消除", "仍存在", "新出现"


def compare_problems(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Each problem of ``before`` and ``after`` (two problem lists of the same batch) with its 状态:
    已消除 (only before), 仍存在 (both) or 新出现 (only after). A problem is identified by rule, table,
    file, row and field: corrections edit rows in place, so row numbers stay put."""
    cols = ["状态", "rule_id", "QXDM", "YWH", "file", "row", "field", "value_masked", "message_zh"]

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        f = frame.copy()
        f["row"] = f["row"].astype(int)
        return f.drop_duplicates(_PROBLEM_KEY).set_index(_PROBLEM_KEY)

    b, a = keyed(before), keyed(after)
    closed = b.loc[b.index.difference(a.index)].assign(状态=CLOSED)
    still = a.loc[a.index.intersection(b.index)].assign(状态=OPEN)
    new = a.loc[a.index.difference(b.index)].assign(状态=NEW)
    out = pd.concat([closed, still, new]).reset_index()
    order = {CLOSED: 0, OPEN: 1, NEW: 2}
    out = out.sort_values(
        ["状态", "rule_id", "file", "row"],
        key=lambda c: c.map(order) if c.name == "状态" else c,
        kind="stable",
    )
    return out.reindex(columns=cols).fillna("").reset_index(drop=True)


def closure_summary(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per rule: problems before, 已消除, 仍存在, 新出现, and a 合计 row."""
    cmp = compare_problems(before, after)
    cols = ["原有", CLOSED, OPEN, NEW]
    if cmp.empty:
        return pd.DataFrame(columns=["规则编号", *cols])
    table = pd.crosstab(cmp["rule_id"], cmp["状态"]).reindex(columns=[CLOSED, OPEN, NEW], fill_value=0)
    table.insert(0, "原有", table[CLOSED] + table[OPEN])
    table = table.rename_axis(None, axis=1).reset_index().rename(columns={"rule_id": "规则编号"})
    total = pd.DataFrame([{"规则编号": "合计", **{c: int(table[c].sum()) for c in cols}}])
    return pd.concat([table, total], ignore_index=True)


# ================================================================================================ scores

NOT_SCORED = "不参评"

#: Columns of :func:`explain_table`, in order.
EXPLAIN_COLUMNS = (
    "指标",
    "代码",
    "方向",
    "分子",
    "分母",
    "比率（%）",
    "目标值（%）",
    "底线（%）",
    "单项得分",
    "单项等级",
    "权重",
    "实际权重",
    "贡献",
    "失分",
)
#: Columns of :func:`weak_rules`, in order.
WEAK_RULE_COLUMNS = (
    "指标",
    "单项得分",
    "单项等级",
    "规则编号",
    "适用行数",
    "问题行数",
    "问题说明",
    "整改办法",
)
#: Columns of :func:`ranking_table`, in order.
RANKING_COLUMNS = (
    "名次",
    "区县代码",
    "区县",
    "得分",
    "等级",
    "上期得分",
    "得分变化",
    "上期名次",
    "名次变化",
)


#: Points lost below this are binary noise of the weights (an indicator at 100 points lost nothing).
_NOISE = 1e-9

#: Background colours of the indicator levels in tables (those of the bulletins).
LEVEL_FILLS = {"优": "#c7e9c0", "良": "#ffe8a8", "差": "#f8b4b0"}


def level_css(value: Any) -> str:
    """CSS of a table cell that shows an indicator level: the bulletin's colour for 优, 良 and 差, none
    for anything else. Use it as ``frame.style.map(lessons.level_css)``."""
    fill = LEVEL_FILLS.get(value) if isinstance(value, str) else None
    return f"background-color: {fill}" if fill else ""


def explain_table(explanation: Any) -> pd.DataFrame:
    """Every indicator of one district and period (a :class:`toolkit.scoring.Explanation`) as a table
    with Chinese headings: numerator, denominator, rate, target and floor (rates in percent), points,
    level (``不参评`` when the denominator is 0), weight, the weight after spreading the weights of the
    indicators not scored (实际权重), contribution to the score and points lost (失分).

    Σ 贡献 is the score before rounding; Σ 失分 = 100 − Σ 贡献.
    """
    ind = explanation.indicators
    scored = ind["scored"].astype(bool)
    lost = ind["lost"].astype(float)

    def pct(col: str) -> pd.Series:
        return (ind[col].astype(float) * 100).round(4)

    table = pd.DataFrame(
        {
            "指标": ind["label_zh"],
            "代码": ind["indicator"],
            "方向": ["↑" if d == "up" else "↓" for d in ind["direction"]],
            "分子": ind["numerator"].astype("Int64"),
            "分母": ind["denominator"].astype("Int64"),
            "比率（%）": pct("rate").where(scored),
            "目标值（%）": pct("target"),
            "底线（%）": pct("floor"),
            "单项得分": ind["points"].astype(float).round(1).where(scored),
            "单项等级": [lv if ok else NOT_SCORED for lv, ok in zip(ind["level"], scored, strict=True)],
            "权重": ind["weight"].astype(float),
            "实际权重": ind["effective_weight"].astype(float).round(2).where(scored, 0.0),
            "贡献": ind["contribution"].astype(float).round(2).where(scored, 0.0),
            "失分": lost.round(2).where(scored & (lost > _NOISE), 0.0),
        },
        columns=list(EXPLAIN_COLUMNS),
    )
    return table.reset_index(drop=True)


def weak_rules(explanation: Any, n: int = 3, *, domain: str | Domain = "bdc") -> pd.DataFrame:
    """The rules behind the ``n`` indicators that lost most points (``explanation.weakest(n)``), each
    with its counts in that district and period and what to tell the clerks (the rule's ``message_zh``
    and ``fix_zh``); indicators that lost nothing are skipped. Only rules with problem rows are listed, most problems first within an indicator.
    An indicator with no such rule (one counted from the registration log or the problem ledger) is
    listed with its other sources (a table's rows, the log, the ledger) and its description as 问题说明.
    """
    dom = domain if isinstance(domain, Domain) else load_domain(domain)
    rules = {r.rule_id: r for r in dom.rules}
    scoring_spec = _scoring_data(dom.path).get("indicators") or {}
    src = explanation.sources
    records = []
    for w in explanation.weakest(n).itertuples(index=False):
        if w.lost <= _NOISE:  # 100 points: nothing lost but binary noise
            continue
        mine = src[src["indicator"] == w.indicator]
        failing = mine[mine["unexpected_count"] > 0]
        by_rule = failing[failing["source"].isin(rules)]
        mine = by_rule if len(by_rule) else failing if len(failing) else mine.head(1)
        mine = mine.sort_values(["unexpected_count", "source"], ascending=[False, True], kind="stable")
        for s in mine.itertuples(index=False):
            rule = rules.get(s.source)
            about = " ".join(str(scoring_spec.get(w.indicator, {}).get("description_zh", "")).split())
            records.append(
                {
                    "指标": w.label_zh,
                    "单项得分": round(float(w.points), 1),
                    "单项等级": w.level,
                    "规则编号": s.source,
                    "适用行数": int(s.element_count),
                    "问题行数": int(s.unexpected_count),
                    "问题说明": rule.meta.get("message_zh", "") if rule else about,
                    "整改办法": rule.meta.get("fix_zh", "") if rule else "",
                }
            )
    return pd.DataFrame.from_records(records, columns=list(WEAK_RULE_COLUMNS))


def ranking_table(scores: pd.DataFrame, period: str | None = None) -> pd.DataFrame:
    """The ranking of one period (default: the latest) from a ``scores.csv`` frame (``QXDM, QXMC,
    period, score, grade, rank``), best first, with the change against the period before.

    名次变化 reads ``↑2`` (two places up), ``↓1``, ``—`` (same place) or ``新`` (no score in the previous
    period); 得分变化 is the difference of the published scores. Districts not scored come last.
    """
    s = scores.copy()
    s["period"] = s["period"].astype(str)
    periods = sorted(s["period"].unique())
    if not periods:
        return pd.DataFrame(columns=list(RANKING_COLUMNS))
    current = str(period) if period is not None else periods[-1]
    if current not in periods:
        raise LessonError(
            f"得分中没有统计期 {current}（有 {periods[0]} 至 {periods[-1]}）。",
            f"no scores for period {current} (there are {periods[0]} to {periods[-1]}).",
        )
    earlier = [p for p in periods if p < current]
    cur = s[s["period"] == current]
    prev = s[s["period"] == earlier[-1]].set_index("QXDM") if earlier else s.iloc[0:0].set_index("QXDM")
    prev_score = cur["QXDM"].map(prev["score"]).astype(float)
    prev_rank = cur["QXDM"].map(prev["rank"]).astype(float)
    rank = cur["rank"].astype(float)
    moves = []
    for r, p in zip(rank, prev_rank, strict=True):
        if pd.isna(p) or pd.isna(r):
            moves.append("新" if pd.isna(p) and not pd.isna(r) else "")
        elif r < p:
            moves.append(f"↑{int(p - r)}")
        elif r > p:
            moves.append(f"↓{int(r - p)}")
        else:
            moves.append("—")
    table = pd.DataFrame(
        {
            "名次": cur["rank"].astype("Int64"),
            "区县代码": cur["QXDM"],
            "区县": cur["QXMC"],
            "得分": cur["score"].astype(float),
            "等级": cur["grade"],
            "上期得分": prev_score,
            "得分变化": (cur["score"].astype(float) - prev_score).round(1),
            "上期名次": prev_rank.astype("Int64"),
            "名次变化": moves,
        },
        columns=list(RANKING_COLUMNS),
    )
    table = table.sort_values(["名次", "区县代码"], na_position="last", kind="stable")
    return table.reset_index(drop=True)


# ================================================================================================ check digits by hand

_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_digit_worksheet(first17: str, kind: str = "citizen_id") -> pd.DataFrame:
    """The hand calculation of a check character, one row per position, then the sum, the remainder and
    the check character — the worksheet of episode 3.

    ``kind``: ``citizen_id`` (公民身份号码, GB 11643: Σ digit × weight, mod 11, ``10X98765432``) or
    ``credit_code`` (统一社会信用代码, GB 32100: Σ value × weight, mod 31, ``(31 − r) mod 31``). The result is
    the same as :func:`toolkit.validators.citizen_id_check_digit` / ``credit_code_check_char``.
    """
    if kind == "citizen_id":
        allowed, what = "0123456789", "数字"
    elif kind == "credit_code":
        allowed, what = validators.CREDIT_CODE_CHARSET, "数字或大写字母（不含 I、O、Z、S、V）"
    else:
        raise ValueError(f"kind must be citizen_id or credit_code, not {kind!r}")
    bad = [c for c in first17 if c not in allowed]
    if len(first17) != 17 or bad:
        raise ValueError(
            f"校验码由前 17 位算出：应为 17 个{what}，实际为 {len(first17)} 位"
            + (f"，含不允许的字符 {''.join(dict.fromkeys(bad))}" if bad else "")
            + f" / expected 17 characters of {allowed!r}, got {first17!r}"
        )
    if kind == "citizen_id":
        values, weights = [int(c) for c in first17], _RIC_WEIGHTS
    else:
        values, weights = [validators.CREDIT_CODE_CHARSET.index(c) for c in first17], _USCC_WEIGHTS
    rows: list[dict[str, Any]] = [
        {"位置": str(i + 1), "字符": c, "数值": v, "权重": w, "乘积": v * w}
        for i, (c, v, w) in enumerate(zip(first17, values, weights, strict=True))
    ]
    total = sum(r["乘积"] for r in rows)
    if kind == "citizen_id":
        rem = total % 11
        check = "10X98765432"[rem]
        steps = [
            ("合计", total),
            ("合计 ÷ 11 的余数", rem),
            ("校验码 = “10X98765432”的第（余数+1）个字符", check),
        ]
    else:
        rem = total % 31
        check = validators.CREDIT_CODE_CHARSET[(31 - rem) % 31]
        steps = [
            ("合计", total),
            ("合计 ÷ 31 的余数", rem),
            ("31 − 余数（等于 31 时取 0）", (31 - rem) % 31),
            ("校验码 = 字符表中该数值对应的字符", check),
        ]
    rows += [{"位置": label, "字符": "", "数值": "", "权重": "", "乘积": value} for label, value in steps]
    return pd.DataFrame(rows, columns=["位置", "字符", "数值", "权重", "乘积"])


_PARCEL_OWNER = {"G": "国家土地所有权", "J": "集体土地所有权", "Z": "土地所有权未确定或有争议"}
_PARCEL_TYPE = {
    "A": "集体土地所有权宗地",
    "B": "建设用地使用权宗地（地表）",
    "S": "建设用地使用权宗地（地上）",
    "X": "建设用地使用权宗地（地下）",
    "C": "宅基地使用权宗地",
    "D": "土地承包经营权宗地（耕地）",
    "E": "林地使用权宗地（承包经营以外的）或土地承包经营权宗地（林地）",
    "F": "土地承包经营权宗地（草地）",
    "H": "海域使用权宗海",
    "G": "无居民海岛使用权海岛",
    "W": "使用权未确定或有争议的土地",
    "Y": "其他使用权宗地",
    "L": "林地使用权宗地（部分系统）",
    "N": "农用地使用权宗地（部分系统）",
}
_FIXTURE = {"F": "房屋等建筑物、构筑物", "L": "森林或林木", "Q": "其他定着物", "W": "无定着物"}


def unit_number_parts(value: str) -> pd.DataFrame:
    """The seven parts of a 不动产单元号 (GB/T 37346): positions, value, meaning and whether it is right.

    The last column says, for the first wrong part, what :func:`toolkit.validators.unit_number_problem`
    says; a value of the wrong length is cut into the parts it would have.
    """
    v = str(value)
    parts = [
        ("1–6", "县级行政区划代码", v[0:6]),
        ("7–9", "地籍区", v[6:9]),
        ("10–12", "地籍子区", v[9:12]),
        ("13–14", "宗地（宗海）特征码", v[12:14]),
        ("15–19", "宗地（宗海）顺序号", v[14:19]),
        ("20", "定着物特征码", v[19:20]),
        ("21–28", "定着物单元编号", v[20:28]),
    ]
    problem = validators.unit_number_problem(v)
    rows = []
    for pos, name, text in parts:
        meaning = ""
        if name.startswith("宗地（宗海）特征码") and len(text) == 2:
            meaning = f"{_PARCEL_OWNER.get(text[0], '？')} + {_PARCEL_TYPE.get(text[1], '？')}"
        elif name == "定着物特征码":
            meaning = _FIXTURE.get(text, "？")
        elif name == "县级行政区划代码":
            meaning = "应与区县代码 QXDM 相同"
        verdict = "✗ " + problem if problem and problem.startswith(f"第{pos}位") else ""
        rows.append({"位置": pos, "名称": name, "值": text, "含义": meaning, "检查": verdict})
    table = pd.DataFrame(rows)
    if problem and not (table["检查"] != "").any():
        table.loc[0, "检查"] = "✗ " + problem
    return table


# ================================================================================================ course material


def load_glossary(path: str | Path = TRAINING_DIR / "glossary.yaml") -> list[dict[str, Any]]:
    """The glossary (术语表): a list of terms with ``term``, ``en``, ``kind``, ``code`` and ``definition``."""
    data = load_yaml(path) or {}
    return list(data.get("terms") or [])


def glossary_problems(
    terms: Sequence[Mapping[str, Any]], labels: Mapping[str, Mapping[str, str]]
) -> list[str]:
    """What is wrong with a glossary: missing keys, duplicates, and terms whose kind has a toolkit label
    (dimension, severity, indicator, field, table, code, mode, grade, level, state) that differ from it."""
    out = []
    seen: set[str] = set()
    for t in terms:
        name = t.get("term", "?")
        for key in ("term", "en", "kind", "definition"):
            if not t.get(key):
                out.append(f"{name}: 缺少 {key}")
        if name in seen:
            out.append(f"{name}: 重复")
        seen.add(name)
        kind = t.get("kind")
        if kind in labels and kind != "concept":
            code = str(t.get("code", ""))
            known = labels[kind]
            if not known:
                continue  # e.g. the ledger is not installed
            if code not in known:
                out.append(f"{name}: {kind} 中没有代码 {code!r}")
            elif known[code] != name:
                out.append(f"{name}: 工具包中 {kind} {code} 的名称是“{known[code]}”")
    return out


_KIND_ZH = {
    "dimension": "维度",
    "severity": "严重程度",
    "indicator": "指标",
    "grade": "等级",
    "level": "单项等级",
    "state": "台账状态",
    "field": "字段",
    "table": "数据表",
    "code": "代码值",
    "mode": "检查模式",
    "concept": "概念",
}


def render_glossary(terms: Sequence[Mapping[str, Any]]) -> str:
    """``glossary.md``: one table per kind, in the order of the YAML file."""
    lines = [
        "# 术语表 Glossary",
        "",
        "<!-- 本文件由 glossary.yaml 生成，请勿手改：python -m toolkit.lessons build -->",
        "",
        "术语的中文名称与工具包自己的标签一致（维度、严重程度、指标、字段名等取自 `expectations/bdc/`）。",
        "Terms use the toolkit's own labels; the code column is the identifier used in files and rules.",
        "",
    ]
    kinds = list(dict.fromkeys(t["kind"] for t in terms))
    for kind in kinds:
        lines += [
            f"## {_KIND_ZH.get(kind, kind)} {kind}",
            "",
            "| 术语 | English | 代码 | 释义 |",
            "|---|---|---|---|",
        ]
        for t in terms:
            if t["kind"] != kind:
                continue
            code = f"`{t['code']}`" if t.get("code") else ""
            definition = " ".join(str(t["definition"]).split()).replace("|", "\\|")
            lines.append(f"| **{t['term']}** | {t['en']} | {code} | {definition} |")
        lines.append("")
    return "\n".join(lines)


@dataclass
class Episode:
    """One episode of the lesson: its folder, front matter and ``## `` sections."""

    path: Path
    meta: dict[str, Any]
    sections: dict[str, str]
    body: str
    headings: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.meta.get("title", self.path.parent.name))

    def section(self, word: str) -> str:
        """The text of the section whose heading starts with ``word`` (e.g. ``目标``), or ``""``."""
        for heading, text in self.sections.items():
            if heading.split()[0] == word:
                return text
        return ""


def read_episode(path: str | Path) -> Episode:
    """Parse an episode's ``index.md``: YAML front matter between ``---`` lines, then ``## `` sections."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    meta: dict[str, Any] = {}
    body = text
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if m:
        meta = load_yaml_text(m.group(1)) or {}
        body = text[m.end() :]
    sections: dict[str, str] = {}
    headings: list[str] = []
    current = None
    buf: list[str] = []
    for line in body.splitlines():
        if line.startswith("## "):
            if current is not None:
                sections[current] = "\n".join(buf).strip()
            current = line[3:].strip()
            headings.append(current)
            buf = []
        elif current is not None:
            buf.append(line)
    if current is not None:
        sections[current] = "\n".join(buf).strip()
    return Episode(path=path, meta=meta, sections=sections, body=body, headings=headings)


def episodes(training_dir: str | Path = TRAINING_DIR) -> list[Episode]:
    """All episodes of the lesson, in order (``episodes/NN-name/index.md``)."""
    return [read_episode(p) for p in sorted(Path(training_dir).glob("episodes/*/index.md"))]


# ------------------------------------------------------------------------------------------------ handout

_HANDOUT_CSS = """
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
       "WenQuanYi Micro Hei", "SimHei", sans-serif; font-size: 10.5pt; line-height: 1.55; color: #111;
       max-width: 180mm; margin: 0 auto; }
h1 { font-size: 18pt; margin: 0 0 4mm; border-bottom: 2px solid #333; }
h2 { font-size: 14pt; margin: 7mm 0 2mm; border-bottom: 1px solid #999; break-after: avoid; }
h3 { font-size: 12pt; margin: 4mm 0 1.5mm; break-after: avoid; }
section.episode { break-before: page; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; font-size: 9.5pt; }
th, td { border: 1px solid #999; padding: 1mm 1.5mm; vertical-align: top; text-align: left; }
th { background: #eee; }
tr { break-inside: avoid; }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 9pt; }
pre { background: #f4f4f4; padding: 2mm; white-space: pre-wrap; font-size: 9pt; }
.meta { color: #444; font-size: 9.5pt; }
.blank { display: inline-block; min-width: 30mm; border-bottom: 1px solid #333; }
footer { margin-top: 8mm; font-size: 8.5pt; color: #555; }
"""


def _markdown(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


def _drop_solutions(text: str) -> str:
    return re.sub(r"<details>.*?</details>\s*", "", text, flags=re.S)


def _drop_sections(markdown: str, words: Sequence[str]) -> str:
    """Remove the ``## `` sections whose heading starts with one of ``words``."""
    out, skip = [], False
    for line in markdown.splitlines():
        if line.startswith("## "):
            skip = line[3:].strip().split()[0] in words
        if not skip:
            out.append(line)
    return "\n".join(out)


def _strip_front_matter(text: str) -> str:
    m = re.match(r"---\n.*?\n---\n", text, re.S)
    return text[m.end() :] if m else text


def _shift_headings(markdown: str, by: int = 1) -> str:
    return re.sub(r"^(#{1,5}) ", lambda m: "#" * (len(m.group(1)) + by) + " ", markdown, flags=re.M)


def build_handout(training_dir: str | Path = TRAINING_DIR) -> str:
    """The printable handout (讲义) as one self-contained HTML page (A4, no external resources).

    It holds the agenda, per episode the objectives, key points and exercises (without solutions), the
    glossary and the quiz (without the answer key). Built only from the course's markdown and YAML, so
    the same files always give the same page.
    """
    tdir = Path(training_dir)
    parts = ["<h1>政务登记数据质量 · 培训讲义</h1>"]
    parts.append(
        '<p class="meta">不动产登记数据质量工具包（dq-toolkit）半天课程。讲义由 <code>training/</code> 的'
        "课程文件生成（<code>python -m toolkit.lessons build</code>）；练习答案在教员版中。</p>"
    )
    agenda = _strip_front_matter((tdir / "agenda.md").read_text(encoding="utf-8"))
    agenda = _drop_sections(agenda, ["教员提示", "待办"])
    parts.append(_markdown(_shift_headings(re.sub(r"^# .*\n", "## 日程 Agenda\n", agenda, count=1), 0)))
    for ep in episodes(tdir):
        minutes = f"讲授 {ep.meta.get('teaching', '?')} 分钟 · 练习 {ep.meta.get('exercises', '?')} 分钟"
        parts.append('<section class="episode">')
        parts.append(f"<h2>{html.escape(ep.title)}</h2>")
        parts.append(f'<p class="meta">{minutes}</p>')
        for word, heading in (
            ("目标", "目标 Objectives"),
            ("要点", "要点 Key points"),
            ("练习", "练习 Exercises"),
        ):
            text = ep.section(word)
            if not text:
                continue
            if word == "练习":
                text = re.sub(r"^### ", "#### ", _drop_solutions(text), flags=re.M)
            parts.append(f"<h3>{heading}</h3>")
            parts.append(_markdown(text))
        parts.append("</section>")
    terms = load_glossary(tdir / "glossary.yaml")
    parts.append('<section class="episode"><h2>术语表 Glossary</h2>')
    rows = "".join(
        f"<tr><td><strong>{html.escape(t['term'])}</strong></td><td>{html.escape(t['en'])}</td>"
        f"<td>{html.escape(' '.join(str(t['definition']).split()))}</td></tr>"
        for t in terms
    )
    parts.append(
        f"<table><thead><tr><th>术语</th><th>English</th><th>释义</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    parts.append("</section>")
    quiz = _strip_front_matter((tdir / "quiz.md").read_text(encoding="utf-8"))
    quiz = _drop_sections(quiz, ["答案"])
    parts.append('<section class="episode">')
    parts.append(_markdown(_shift_headings(quiz, 1)))
    parts.append("</section>")
    parts.append(
        "<footer>个人信息一律脱敏：身份证号 420102********123X、手机号 138****5678、姓名 张*。</footer>"
    )
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        "<title>政务登记数据质量 · 培训讲义</title>\n"
        f"<style>{_HANDOUT_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _percent(value: float) -> str:
    return f"{value * 100:.4f}".rstrip("0").rstrip(".") + "%"


def indicator_table(domain: str | Path = "bdc") -> str:
    """The indicators of the scoring model as a markdown table (label, id, direction, weight, target,
    floor), for episode 1; ``python -m toolkit.lessons build`` writes it between the markers
    ``<!-- indicators:begin -->`` and ``<!-- indicators:end -->``."""
    model = _scoring_data(domain_path(domain)).get("indicators") or {}
    lines = ["| 指标 | 代码 | 方向 | 权重 | 目标值 | 底线 |", "|---|---|---|---|---|---|"]
    for iid, spec in model.items():
        arrow = "↑" if spec["direction"] == "up" else "↓"
        lines.append(
            f"| {spec['label_zh']} | `{iid}` | {arrow} | {spec['weight']} | {_percent(spec['target'])} "
            f"| {_percent(spec['floor'])} |"
        )
    total = sum(spec["weight"] for spec in model.values())
    return "\n".join([*lines, "", f"权重合计 {total:g}。"])


_BLOCK_RE = re.compile(r"(<!-- indicators:begin -->\n).*?(<!-- indicators:end -->)", re.S)


def fill_generated_blocks(text: str, domain: str | Path = "bdc") -> str:
    """``text`` with its generated blocks (the indicator table) written afresh."""
    return _BLOCK_RE.sub(lambda m: m.group(1) + indicator_table(domain) + "\n" + m.group(2), text)


def _outputs(training_dir: Path) -> dict[Path, str]:
    out = {}
    for path in sorted(training_dir.glob("episodes/*/index.md")):
        text = path.read_text(encoding="utf-8")
        if _BLOCK_RE.search(text):
            out[path] = fill_generated_blocks(text)
    out[training_dir / "glossary.md"] = render_glossary(load_glossary(training_dir / "glossary.yaml"))
    out[training_dir / "handout.html"] = build_handout(training_dir)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m toolkit.lessons build|check [TRAINING_DIR]``: write or verify glossary.md and handout.html."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("build", "check"):
        print("用法 / usage: python -m toolkit.lessons build|check [TRAINING_DIR]", file=sys.stderr)
        return 2
    tdir = Path(args[1]) if len(args) > 1 else TRAINING_DIR
    stale = []
    for _ in range(2 if args[0] == "build" else 1):  # the handout is built from the episodes just written
        for path, text in _outputs(tdir).items():
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            if args[0] == "build":
                path.write_text(text, encoding="utf-8")
                print(f"已写入 / written: {path}")
            else:
                stale.append(path)
    for path in stale:
        print(f"需要重新生成 / out of date: {path} (python -m toolkit.lessons build)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
