"""改正表与批量改正 / the correction sheet: plan, apply (with a backup and a masked log), undo.

A *correction sheet* (改正表) lists problems of a batch, one per row (:func:`sheet_columns`); a clerk (or a
learner in episode 4 of the course) types the right value into ``改为`` — ``（空）`` (:data:`EMPTY_MARK`)
empties a cell, an empty ``改为`` means "not corrected" — and may write a note in ``备注``. This module
turns a filled-in sheet into edits of the batch's CSV files, the way a traceable clean-up must be done:

1. :func:`write_sheet` writes the sheet for a problem list (``.xlsx``, recommended — every value cell is a
   text cell, so an 18-digit ID typed into it stays as typed — or ``.csv``, UTF-8 with BOM), through
   :mod:`toolkit.sheets`; the current values shown are the problem list's masked ones.
2. :func:`plan_corrections` reads the sheet back (:func:`read_sheet`) and checks every filled-in entry
   against the batch: the file is a plain ``.csv`` file name of the batch folder, the row (Excel row
   number, header = 1) and the field (column code) exist, two entries for one cell agree, and the new
   value is no formula and holds no control character. It reads the current values and **changes
   nothing**; the result, a :class:`CorrectionPlan`, lists the cells that would change
   (:meth:`CorrectionPlan.table` shows them masked). Any entry that does not fit raises
   :class:`~toolkit.errors.LessonError` naming the sheet entry, the file and the fix, and nothing is planned.
3. :func:`apply_corrections` carries a plan out: it first checks that no file changed since planning,
   copies every file it is about to change to the backup folder (default ``<batch>_备份`` beside the
   batch, :func:`default_backup_dir`; a backup already there is kept, so it always holds the original),
   rewrites the files and appends one row per changed cell to the change log (default ``改正记录.csv``
   beside the sheet, :func:`default_log_path`) with the time, rule, file, row, field and the **masked**
   old and new values. :func:`apply_sheet` is steps 2 and 3 in one call.
4. :func:`restore_backup` undoes: it copies the backed-up originals back into the batch.

Files: the sheet and the change log are written through :mod:`toolkit.sheets` (CSV cells that look like a
formula get an apostrophe, XLSX text is text); a CSV sheet is read back with :func:`toolkit.sheets.read_csv`
(undoing that apostrophe), an XLSX sheet with openpyxl (``toolkit.sheets`` has no XLSX reader). A batch
file is edited in place, not rewritten by a frame writer, so that its bytes stay as they are (below).

What an edit keeps: the file's encoding (UTF-8, UTF-8 with BOM or GB18030) and column order; every record
that is not corrected keeps its exact bytes (quoting, line ending); a corrected record is written again
with the same line ending, quoting only where CSV needs it. A file is replaced atomically (written beside
it, then renamed), so an interrupted run leaves either the old or the new file. Only CSV files are edited;
an XLSX batch file is corrected in Excel/WPS.

Helpers of the same workflow: :func:`suggest_fix` (the correction a clerk can make at the desk without the
registration files — formats, spaces, check characters) and :func:`fill_suggestions` (fills the empty
``改为`` cells of a sheet with it: the trainer's answer key); after the re-check, :func:`compare_problems`
and :func:`closure_summary` say which problems were closed (已消除), remain (仍存在) or are new (新出现).

Personal data: the sheet shows masked current values; only ``改为``, typed by the clerk, holds full values,
and the sheet stays in the clerk's working folder. The plan's table, the change log and every message are
masked (:class:`toolkit.masking.Masker` with the person names of the files being edited).

Functions that need the domain pack (field labels, personal-data classes, rules) take ``domain``
explicitly; there is no default pack below the command line.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import validators
from toolkit.clean import csv_encoding, rewrite_csv
from toolkit.domain import Domain, Rule, load_domain
from toolkit.errors import CleanError, LessonError
from toolkit.loading import MAX_FIELD_CHARS, normalise_header
from toolkit.masking import Masker, person_names
from toolkit.sheets import append_csv, is_formula_like, read_csv, safe_text, save_workbook, write_csv

__all__ = [
    "CLOSED",
    "EMPTY_MARK",
    "LOG_COLUMNS",
    "NEW",
    "OPEN",
    "Change",
    "CorrectionPlan",
    "apply_corrections",
    "apply_sheet",
    "closure_summary",
    "compare_problems",
    "default_backup_dir",
    "default_log_path",
    "fill_suggestions",
    "plan_corrections",
    "read_sheet",
    "restore_backup",
    "sheet_columns",
    "suggest_fix",
    "write_sheet",
]


def sheet_columns(domain: str | Domain, problems: pd.DataFrame | None = None) -> tuple[str, ...]:
    """Columns of the correction sheet (改正表) of ``problems``, in order. The unit's code and the record are
    named as the pack names them: <unit>代码 (bdc: 区县代码, gjj: 中心代码) and the record key of
    :func:`_key_column` (bdc: 业务号)."""
    dom = _domain(domain)
    return (
        "序号",
        "规则编号",
        f"{dom.unit.label_zh}代码",
        _key_column(dom, problems if problems is not None else pd.DataFrame())[0],
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


def _key_column(dom: Domain, problems: pd.DataFrame) -> tuple[str, pd.Series]:
    """The record column of a sheet, heading and values: the pack's problem field when the list has it or
    the pack names one (bdc: YWH, 业务号 — it ties a message's or a log's problem to its registration), else
    ``record_key`` headed by the key the problems' tables share (:meth:`~toolkit.domain.Domain.key_header`:
    个人账号 …, 记录标识 when they differ)."""
    present = [f for f in dom.problem_fields if f in problems.columns]
    if present or (dom.problem_fields and "record_key" not in problems.columns):
        code = (present or dom.problem_fields)[0]
        return dom.field_label_any(code), _column(problems, code)
    tables = problems["table"].unique() if "table" in problems.columns else ()
    return dom.key_header(tables), _column(problems, "record_key")


#: The columns :func:`read_sheet` needs.
REQUIRED_COLUMNS = ("文件", "行号", "字段", "改为")
#: Typed in ``改为`` to empty a cell (an empty ``改为`` means "not corrected").
EMPTY_MARK = "（空）"
#: Columns of the change log (改正记录.csv), in order.
LOG_COLUMNS = ("时间", "规则编号", "文件", "行号", "字段", "原值（已脱敏）", "新值（已脱敏）")

_NUMBER_COLUMNS = ("序号", "行号")
_WIDTHS = {"规则编号": 28, "问题说明": 40, "整改办法": 40, "当前值（已脱敏）": 30, "改为": 30, "备注": 30}
_FIX_SHEET_ZH = (
    "只在改正表的“改为”“备注”两列填写，不要改动“文件”“行号”“字段”列；必要时用 write_sheet 重新生成改正表。"
)
_FIX_SHEET_EN = (
    "only fill the columns 改为 and 备注 of the sheet and leave 文件, 行号 and 字段 as written; if in "
    "doubt, write the sheet again with write_sheet."
)


def _domain(domain: str | Domain) -> Domain:
    return domain if isinstance(domain, Domain) else load_domain(domain)


# ================================================================================================ the sheet


def _column(frame: pd.DataFrame, *names: str) -> pd.Series:
    """The first of ``names`` that ``frame`` has (e.g. ``QXDM`` or the newer ``unit_code``), else empty."""
    for name in names:
        if name in frame.columns:
            return frame[name]
    return pd.Series("", index=frame.index, dtype=object)


def _row_key(col: pd.Series) -> pd.Series:
    return col.astype(int) if col.name == "row" else col


def write_sheet(
    problems: pd.DataFrame,
    path: str | Path,
    *,
    domain: str | Domain,
    rules: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Write a correction sheet for ``problems`` (a ``problems.csv`` frame; optionally only the problems
    of ``rules``) to ``path`` and return it.

    One row per problem, sorted by file, row and rule (:func:`sheet_columns`). The format follows the
    file name: ``.xlsx`` (recommended: every value cell is formatted as text, so that Excel/WPS keep an
    18-digit ID number as typed instead of turning it into 1.10102E+17; ``改为`` and ``备注`` are
    highlighted) or anything else as CSV (UTF-8 with BOM, so that Excel and WPS open it).
    """
    dom = _domain(domain)
    sel = problems if rules is None else problems[problems["rule_id"].isin(list(rules))]
    sel = sel.sort_values(["file", "row", "rule_id"], key=_row_key, kind="stable")
    cols = list(sheet_columns(dom, sel))
    sheet = pd.DataFrame(
        {
            "序号": range(1, len(sel) + 1),
            "规则编号": sel["rule_id"].to_numpy(),
            cols[2]: _column(sel, "unit_code").fillna("").to_numpy(),
            cols[3]: _key_column(dom, sel)[1].fillna("").to_numpy(),
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
        columns=cols,
    )
    _save_sheet(sheet, Path(path))
    return sheet


def _save_sheet(sheet: pd.DataFrame, path: Path) -> None:
    """Write ``sheet`` as XLSX (text cells, highlighted input columns) or CSV, by the file name."""
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


def _encoding_of(data: bytes, path: Path, what_zh: str, what_en: str) -> str:
    """``utf-8-sig`` (with BOM), ``utf-8`` or ``gb18030`` (:func:`toolkit.clean.csv_encoding`)."""
    try:
        return csv_encoding(data, path)
    except CleanError as exc:
        raise LessonError(
            f"{what_zh}既不是 UTF-8 也不是 GB18030 编码。",
            f"the {what_en} is neither UTF-8 nor GB18030 encoded.",
            path=path,
            fix_zh="在 Excel/WPS 中另存为“CSV UTF-8（逗号分隔）”。",
            fix_en="save it as 'CSV UTF-8 (comma delimited)' from Excel/WPS.",
        ) from exc


def read_sheet(path: str | Path) -> pd.DataFrame:
    """Read a correction sheet back — ``.xlsx`` (the first worksheet), or CSV in whatever encoding
    Excel/WPS saved it — as text (``行号`` ``"2"``, ``改为`` ``""`` when empty).

    Raises :class:`~toolkit.errors.LessonError` if the file cannot be read or lacks one of the columns
    文件, 行号, 字段, 改为.
    """
    path = Path(path)
    if not path.is_file():
        raise LessonError(
            "找不到改正表。",
            "the correction sheet does not exist.",
            path=path,
            fix_zh="先用 write_sheet 生成改正表，填写后按原文件名保存。",
            fix_en="write the sheet with write_sheet first and save it under its name after filling it in.",
        )
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError … on a damaged file
            raise LessonError(
                f"改正表无法作为 Excel 文件打开（{type(exc).__name__}）。",
                f"the correction sheet cannot be opened as an Excel file ({type(exc).__name__}).",
                path=path,
                fix_zh="在 Excel/WPS 中打开后另存为“Excel 工作簿（.xlsx）”。",
                fix_en="open it in Excel/WPS and save it as an Excel workbook (.xlsx).",
            ) from exc
        try:
            rows = list(wb.worksheets[0].iter_rows(values_only=True))
        finally:
            wb.close()
        header = [_cell_text(h).strip() for h in rows[0]] if rows else []
        body = [[_cell_text(v) for v in r] for r in rows[1:] if any(_cell_text(v).strip() for v in r)]
        sheet = pd.DataFrame(body, columns=header, dtype=str)
    else:
        encoding = _encoding_of(path.read_bytes(), path, "改正表", "correction sheet")
        sheet = read_csv(path, encoding=encoding, keep_default_na=False)
    missing = [c for c in REQUIRED_COLUMNS if c not in sheet.columns]
    if missing:
        raise LessonError(
            f"改正表缺少列：{', '.join(missing)}。",
            f"the correction sheet lacks columns: {', '.join(missing)}.",
            path=path,
            fix_zh="请用 write_sheet 重新生成改正表，只在“改为”“备注”两列填写。",
            fix_en="write the sheet again with write_sheet and only fill the columns 改为 and 备注.",
        )
    for col in ("规则编号", "序号", "备注"):
        if col not in sheet.columns:
            sheet[col] = ""
    return sheet


# ================================================================================================ batch files


@dataclass
class _CsvFile:
    """A batch CSV file: its bytes, its records (for reading cells) and the edits asked of it. Writing
    goes through :func:`toolkit.clean.rewrite_csv`, the editor ``dq clean`` uses: only the edited fields
    are rewritten, every other byte stays."""

    path: Path
    encoding: str
    data: bytes
    records: list[list[str]]
    header: list[str]
    edits: dict[int, dict[str, tuple[str | None, str]]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> _CsvFile:
        data = path.read_bytes()
        encoding = _encoding_of(data, path, f"文件 {path.name} ", f"file {path.name}")
        text = data.decode(encoding)
        if csv.field_size_limit() < MAX_FIELD_CHARS:  # the values the loader reads (process-wide, as there)
            csv.field_size_limit(MAX_FIELD_CHARS)
        records: list[list[str]] = []
        try:
            for record in csv.reader(io.StringIO(text, newline=""), strict=True):
                records.append(record)
        except csv.Error as exc:
            raise LessonError(
                f"文件 {path.name} 无法按 CSV 解析（第 {len(records) + 1} 条记录）：{exc}。",
                f"file {path.name} cannot be parsed as CSV (record {len(records) + 1}): {exc}.",
                path=path,
                fix_zh="先用 dq check 检查该批次，按提示修好文件后再改正。",
                fix_en="check the batch with dq check first and repair the file as it says.",
            ) from exc
        header = [normalise_header(h) for h in records[0]] if records else []
        return cls(path, encoding, data, records, header)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def column(self, field_code: str, entry: str) -> int:
        try:
            return self.header.index(normalise_header(field_code))
        except ValueError:
            raise LessonError(
                f"改正表第 {entry} 条：文件 {self.path.name} 没有字段 {field_code}。",
                f"sheet entry {entry}: file {self.path.name} has no field {field_code}.",
                path=self.path,
                fix_zh=_FIX_SHEET_ZH,
                fix_en=_FIX_SHEET_EN,
            ) from None

    def cell(self, row: int, col: int, entry: str) -> str:
        if not 2 <= row <= len(self.records):
            raise LessonError(
                f"改正表第 {entry} 条：文件 {self.path.name} 没有第 {row} 行（数据在第 2–{len(self.records)} 行）。",
                f"sheet entry {entry}: file {self.path.name} has no row {row} (data rows 2–{len(self.records)}).",
                path=self.path,
                fix_zh=_FIX_SHEET_ZH,
                fix_en=_FIX_SHEET_EN,
            )
        record = self.records[row - 1]
        return record[col] if col < len(record) else ""

    def set(self, row: int, col: int, value: str) -> None:
        self.edits.setdefault(row, {})[self.header[col]] = (None, value)

    def column_values(self, col: int) -> list[str]:
        return [r[col] for r in self.records[1:] if col < len(r)]

    @property
    def _tmp(self) -> Path:
        return self.path.with_name(f".{self.path.name}.dq-tmp")

    def prepare(self) -> None:
        """Write the new content beside the file (same folder, same mode); :meth:`commit` renames it."""
        self._tmp.write_bytes(rewrite_csv(self.data, self.path, self.edits))
        shutil.copymode(self.path, self._tmp)

    def commit(self) -> None:
        os.replace(self._tmp, self.path)

    def discard(self) -> None:
        self._tmp.unlink(missing_ok=True)


def _batch_file(batch_dir: Path, name: str, entry: str) -> Path:
    """The batch file a sheet entry names: a plain ``.csv`` file name of the batch folder, no path."""
    if not name or name in (".", "..") or Path(name).name != name or "\\" in name:
        raise LessonError(
            f"改正表第 {entry} 条的文件名“{safe_text(name)}”不是批次文件夹中的文件名。",
            f"sheet entry {entry}: {safe_text(name)!r} is not a file name of the batch folder.",
            path=batch_dir,
            fix_zh=_FIX_SHEET_ZH,
            fix_en=_FIX_SHEET_EN,
        )
    path = batch_dir / name
    if path.suffix.lower() != ".csv":
        raise LessonError(
            f"改正表第 {entry} 条：只能改 CSV 文件，{name} 不是 CSV。",
            f"sheet entry {entry}: only CSV files are corrected; {name} is not one.",
            path=path,
            fix_zh="Excel 文件请直接在 Excel/WPS 中按行号修改后保存。",
            fix_en="edit an Excel file directly in Excel/WPS at the given row.",
        )
    if path.is_symlink() or not path.is_file():
        raise LessonError(
            f"改正表第 {entry} 条：批次中没有文件 {name}。",
            f"sheet entry {entry}: the batch has no file {name}.",
            path=path,
            fix_zh="核对批次文件夹是否就是生成改正表时检查的那个批次。",
            fix_en="check that this is the batch folder the sheet was written for.",
        )
    return path


def _open(files: dict[str, _CsvFile], batch_dir: Path, name: str, entry: str) -> _CsvFile:
    if name not in files:
        files[name] = _CsvFile.read(_batch_file(batch_dir, name, entry))
    return files[name]


def _masker(dom: Domain, files: Iterable[_CsvFile]) -> Masker:
    """The masking of the values of these files: by the pack's classes, plus the person names in them."""
    pii = dom.pii_fields()
    names: set[str] = set()
    for f in files:
        for i, h in enumerate(f.header):
            if pii.get(h) == "name":
                names |= person_names(f.column_values(i))
    return Masker(pii, names, dom.key_fields())


# ================================================================================================ plan


@dataclass(frozen=True)
class Change:
    """One cell to change: ``file`` (name in the batch folder), ``row`` (Excel row number, header = 1),
    ``field`` (column code as in the sheet), ``old`` and ``new`` values (full values: personal data), the
    ``rule_ids`` and sheet ``entries`` (序号) that asked for it."""

    file: str
    row: int
    field: str
    old: str
    new: str
    rule_ids: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()


@dataclass
class CorrectionPlan:
    """What :func:`apply_corrections` would do to a batch: the cells that change, in sheet order.

    ``unchanged`` counts the filled-in entries whose value is already in the batch (nothing to do);
    ``digests`` holds the SHA-256 of each file as planned, so that a file changed since is not
    overwritten. ``changes`` hold full values; show the plan with :meth:`table` (masked).
    """

    batch_dir: Path
    sheet_path: Path | None
    changes: tuple[Change, ...]
    unchanged: int
    digests: dict[str, str]
    masker: Masker = field(repr=False)

    def __len__(self) -> int:
        return len(self.changes)

    @property
    def files(self) -> list[str]:
        """The batch files the plan changes, in the order they are first changed."""
        return list(dict.fromkeys(c.file for c in self.changes))

    def table(self) -> pd.DataFrame:
        """The planned changes with masked values: 规则编号, 文件, 行号, 字段, 原值（已脱敏）, 新值（已脱敏）."""
        return pd.DataFrame(
            [
                {
                    "规则编号": "、".join(c.rule_ids),
                    "文件": c.file,
                    "行号": c.row,
                    "字段": c.field,
                    "原值（已脱敏）": self.masker.value(normalise_header(c.field), c.old),
                    "新值（已脱敏）": self.masker.value(normalise_header(c.field), c.new),
                }
                for c in self.changes
            ],
            columns=list(LOG_COLUMNS[1:]),
        )


def _entry_no(r: pd.Series, i: int) -> str:
    return str(r.get("序号", "")).strip() or str(i + 1)


def _check_new_value(value: str, entry: str, sheet_path: Path | None) -> None:
    if is_formula_like(value) or safe_text(value) != value or "\t" in value or "\n" in value:
        raise LessonError(
            f"改正表第 {entry} 条的“改为”以公式字符开头，或含有换行、制表符等控制字符，不能写入数据。",
            f"sheet entry {entry}: the new value starts like a formula or holds a line break, tab or other "
            "control character; it is not written into the data.",
            path=sheet_path,
            fix_zh="“改为”只填正确的值本身（不以 = + - @ 开头，不含换行和制表符）。",
            fix_en="type the correct value only (not starting with = + - @, no line break or tab).",
        )


def plan_corrections(
    sheet: str | Path | pd.DataFrame, batch_dir: str | Path, *, domain: str | Domain
) -> CorrectionPlan:
    """Plan the corrections of a filled-in sheet (a path, or a frame from :func:`read_sheet`) for the
    batch in ``batch_dir``; nothing is written.

    Entries whose ``改为`` is empty are skipped; ``（空）`` empties the cell. Entries for one cell are
    merged (they must ask for the same value); an entry whose value is already in the batch counts as
    ``unchanged``. Raises :class:`~toolkit.errors.LessonError` for an entry that names a file that is no
    plain CSV file of the batch folder, a row or field that does not exist, a row number that is no
    integer, two different values for one cell, or a new value that starts like a formula or holds a
    control character.
    """
    dom = _domain(domain)
    sheet_path = None if isinstance(sheet, pd.DataFrame) else Path(sheet)
    frame = sheet if isinstance(sheet, pd.DataFrame) else read_sheet(sheet_path)
    batch = Path(batch_dir)
    if not batch.is_dir():
        raise LessonError(
            "批次文件夹不存在。",
            "the batch folder does not exist.",
            path=batch,
            fix_zh="给出生成改正表时检查的那个批次文件夹。",
            fix_en="give the batch folder the sheet was written for.",
        )
    files: dict[str, _CsvFile] = {}
    cells: dict[tuple[str, int, int], dict[str, Any]] = {}
    unchanged = 0
    for i, (_, r) in enumerate(frame.iterrows()):
        new = str(r["改为"]).strip()
        if not new:
            continue
        entry = _entry_no(r, i)
        new = "" if new == EMPTY_MARK else new
        _check_new_value(new, entry, sheet_path)
        name = str(r["文件"]).strip()
        f = _open(files, batch, name, entry)
        try:
            row = int(str(r["行号"]).strip())
        except ValueError:
            raise LessonError(
                f"改正表第 {entry} 条的行号“{safe_text(str(r['行号']))}”不是整数。",
                f"sheet entry {entry}: row {safe_text(str(r['行号']))!r} is not an integer.",
                path=sheet_path,
                fix_zh=_FIX_SHEET_ZH,
                fix_en=_FIX_SHEET_EN,
            ) from None
        field_code = str(r["字段"]).strip()
        col = f.column(field_code, entry)
        old = f.cell(row, col, entry)
        rule_id = str(r.get("规则编号", "")).strip()
        key = (name, row, col)
        if key in cells:
            seen = cells[key]
            if seen["new"] != new:
                raise LessonError(
                    f"改正表第 {seen['entries'][0]} 条和第 {entry} 条把 {name} 第 {row} 行的 {field_code} "
                    "改成了不同的值。",
                    f"sheet entries {seen['entries'][0]} and {entry} give different new values for "
                    f"{field_code} in row {row} of {name}.",
                    path=sheet_path,
                    fix_zh="同一个单元格只保留一个“改为”，另一条留空。",
                    fix_en="keep one new value for the cell and leave the other entry's 改为 empty.",
                )
            seen["entries"].append(entry)
            if rule_id and rule_id not in seen["rules"]:
                seen["rules"].append(rule_id)
            continue
        cells[key] = {
            "file": name,
            "row": row,
            "field": field_code,
            "old": old,
            "new": new,
            "rules": [rule_id] if rule_id else [],
            "entries": [entry],
        }
    changes = []
    for c in cells.values():
        if c["old"] == c["new"]:
            unchanged += 1
            continue
        changes.append(
            Change(
                file=c["file"],
                row=c["row"],
                field=c["field"],
                old=c["old"],
                new=c["new"],
                rule_ids=tuple(c["rules"]),
                entries=tuple(c["entries"]),
            )
        )
    used = {c.file for c in changes}
    return CorrectionPlan(
        batch_dir=batch,
        sheet_path=sheet_path,
        changes=tuple(changes),
        unchanged=unchanged,
        digests={name: f.digest for name, f in files.items() if name in used},
        masker=_masker(dom, [f for name, f in files.items() if name in used]),
    )


# ================================================================================================ apply, undo


def default_backup_dir(batch_dir: str | Path) -> Path:
    """``<batch>_备份`` beside the batch folder: where the originals of corrected files are kept."""
    batch = Path(batch_dir)
    return batch.parent / f"{batch.name}_备份"


def default_log_path(sheet_path: str | Path) -> Path:
    """``改正记录.csv`` beside the correction sheet: the change log."""
    return Path(sheet_path).parent / "改正记录.csv"


def apply_corrections(
    plan: CorrectionPlan,
    *,
    backup_dir: str | Path | None = None,
    log_path: str | Path | None = None,
    at: dt.datetime | None = None,
) -> pd.DataFrame:
    """Carry out ``plan``; return the masked change log of this run (:data:`LOG_COLUMNS`).

    Before anything is written, every file of the plan must still be as it was planned (else
    :class:`~toolkit.errors.LessonError`: plan again). The original of each file is copied to
    ``backup_dir`` (default :func:`default_backup_dir`) unless a backup of it is already there; then the
    files are rewritten (see the module docstring) and the changes appended to ``log_path`` (default
    :func:`default_log_path` of the plan's sheet; required when the plan was made from a frame), written
    through :mod:`toolkit.sheets`. A plan without changes writes nothing.
    """
    stamp = (at or dt.datetime.now()).isoformat(sep=" ", timespec="seconds")
    log = pd.DataFrame(
        [{"时间": stamp, **rec} for rec in plan.table().to_dict("records")],  # masked
        columns=list(LOG_COLUMNS),
    )
    if not plan.changes:
        return log
    if log_path is not None:
        lpath = Path(log_path)
    elif plan.sheet_path is not None:
        lpath = default_log_path(plan.sheet_path)
    else:
        raise ValueError("log_path is required for a plan made from a frame")
    files = {name: _CsvFile.read(plan.batch_dir / name) for name in plan.files}
    stale = [name for name, f in files.items() if f.digest != plan.digests.get(name)]
    if stale:
        raise LessonError(
            f"文件 {'、'.join(stale)} 在生成改正计划之后被改动了，没有写入任何改正。",
            f"file(s) {', '.join(stale)} changed after the corrections were planned; nothing was written.",
            path=plan.batch_dir / stale[0],
            fix_zh="重新生成改正计划（plan_corrections）后再写入。",
            fix_en="plan the corrections again (plan_corrections), then apply them.",
        )
    bdir = Path(backup_dir) if backup_dir is not None else default_backup_dir(plan.batch_dir)
    for name, f in files.items():
        if not (bdir / name).exists():
            bdir.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f.path, bdir / name)
    for c in plan.changes:
        f = files[c.file]
        f.set(c.row, f.column(c.field, c.entries[0] if c.entries else "?"), c.new)
    try:
        for f in files.values():  # the new files first, beside the old ones …
            f.prepare()
        lpath.parent.mkdir(parents=True, exist_ok=True)
        append_csv(log, lpath)  # … then the log …
        for f in files.values():  # … then the switch
            f.commit()
    finally:
        for f in files.values():
            f.discard()
    return log


def apply_sheet(
    sheet_path: str | Path,
    batch_dir: str | Path,
    *,
    domain: str | Domain,
    backup_dir: str | Path | None = None,
    log_path: str | Path | None = None,
) -> pd.DataFrame:
    """:func:`plan_corrections` and :func:`apply_corrections` in one call: write the filled-in
    corrections of a sheet into the batch's CSV files; return the masked change log of this run."""
    plan = plan_corrections(sheet_path, batch_dir, domain=domain)
    return apply_corrections(plan, backup_dir=backup_dir, log_path=log_path)


def restore_backup(batch_dir: str | Path, backup_dir: str | Path | None = None) -> list[Path]:
    """Undo the corrections: copy every backed-up original (``backup_dir``, default
    :func:`default_backup_dir`) back into the batch; return the files restored.

    The backup is kept (it still holds the originals). Raises :class:`~toolkit.errors.LessonError` if
    there is no backup.
    """
    batch = Path(batch_dir)
    bdir = Path(backup_dir) if backup_dir is not None else default_backup_dir(batch)
    originals = sorted(p for p in bdir.glob("*.csv") if p.is_file() and not p.is_symlink())
    if not originals:
        raise LessonError(
            "没有可恢复的备份。",
            "there is no backup to restore.",
            path=bdir,
            fix_zh="备份在第一次写入改正时建立（批次文件夹旁的“<批次>_备份”）；请确认文件夹。",
            fix_en="the backup is made when corrections are first applied (<batch>_备份 beside the batch); "
            "check the folder.",
        )
    restored = []
    for original in originals:
        target = batch / original.name
        tmp = batch / f".{original.name}.dq-tmp"
        try:
            shutil.copy2(original, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        restored.append(target)
    return restored


# ================================================================================================ suggestions

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


def _datetime_text(text: str, date_only: bool) -> str | None:
    fmt_out = "%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M:%S"
    for fmt in _DT_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).strftime(fmt_out)
        except ValueError:
            continue
    # 2024-3-5 9:05:00 style (no zero padding)
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?: (\d{1,2}):(\d{1,2}):(\d{1,2}))?", text)
    if m:
        try:
            return dt.datetime(*(int(g) for g in m.groups() if g is not None)).strftime(fmt_out)
        except ValueError:
            return None
    return None


def suggest_fix(rule: Rule, value: str | None) -> str | None:
    """The correction a clerk could make at the desk without the source documents, or ``None``.

    Covers formats (dates and times, numbers with a unit or a ``%``, certificate-number brackets and
    padding, phone separators), invisible characters and spaces, a lower-case ``x`` in an ID, and the check
    character of citizen IDs and credit codes (:func:`toolkit.validators.citizen_id_check_digit`,
    :func:`~toolkit.validators.credit_code_check_char`). A recomputed check character makes a number
    *valid*, not *right*: in real work the number is compared with the ID card or business licence first
    (:func:`fill_suggestions` notes this). Empty cells, codes, unit numbers and anything else need the
    registration files.
    """
    if value is None or value == "":
        return None
    t, kw = rule.type, rule.kwargs
    out: str | None = None
    if t == "expect_column_values_to_be_clean_text":
        out = _clean_text(value)
    elif t == "expect_column_values_to_be_valid_datetime_text":
        out = _datetime_text(_clean_text(value), bool(kw.get("date_only")))
    elif t in ("expect_column_values_to_be_decimal_in_range", "expect_column_values_to_be_integer_text"):
        text = re.sub(r"(㎡|平方米|m²|m2|万元|元|%|％|,|，)", "", value).strip()
        if t == "expect_column_values_to_be_integer_text" and re.fullmatch(r"-?[0-9]+\.0+", text):
            text = text.split(".")[0]
        out = text
    elif t == "expect_column_values_to_match_regex":
        text = _clean_text(value).replace("（", "(").replace("）", ")")
        regex = str(kw.get("regex", ""))
        if "第" in regex and "号" in regex:  # a certificate number 第NNNNNNN号: pad the number
            text = re.sub(r"第([0-9]{1,6})号$", lambda m: f"第{int(m.group(1)):07d}号", text)
        elif "1[3-9]" in regex:  # a phone number: drop separators
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


def _suggestion_note(rule: Rule) -> str:
    if rule.type in (
        "expect_column_values_to_be_valid_citizen_id",
        "expect_column_values_to_be_valid_credit_code",
    ):
        return "示例答案：按校验码重算；实际工作中须先对照证件原件"
    return "示例答案：格式整理"


def fill_suggestions(sheet_path: str | Path, batch_dir: str | Path, *, domain: str | Domain) -> pd.DataFrame:
    """The trainer's answer key: fill the empty ``改为`` cells of a sheet that :func:`suggest_fix` can
    correct (reading the unmasked value from the batch), write the sheet back in its format, return it.

    Problems that need the registration files stay empty; ``备注`` says so. Entries naming a file that is
    not a CSV file of the batch are left as they are.
    """
    dom = _domain(domain)
    sheet_path, batch = Path(sheet_path), Path(batch_dir)
    sheet = read_sheet(sheet_path)
    files: dict[str, _CsvFile] = {}
    rules = {r.rule_id: r for r in dom.rules}
    for n, (i, r) in enumerate(sheet.iterrows()):
        if str(r["改为"]).strip():
            continue
        rule = rules.get(str(r["规则编号"]).strip())
        name = str(r["文件"]).strip()
        if rule is None or not name.lower().endswith(".csv") or Path(name).name != name:
            continue
        if not (batch / name).is_file():
            continue
        entry = _entry_no(r, n)
        f = _open(files, batch, name, entry)
        raw = f.cell(int(str(r["行号"]).strip()), f.column(str(r["字段"]), entry), entry)
        fix = suggest_fix(rule, raw)
        if fix is not None:
            sheet.loc[i, "改为"] = fix
            sheet.loc[i, "备注"] = _suggestion_note(rule)
        elif not str(r["备注"]).strip():
            sheet.loc[i, "备注"] = "需查阅登记档案/权籍调查成果后改正"
    _save_sheet(sheet, sheet_path)
    return sheet


# ================================================================================================ re-check

_PROBLEM_KEY = ["rule_id", "table", "file", "row", "field"]
CLOSED, OPEN, NEW = "已消除", "仍存在", "新出现"


def compare_problems(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Each problem of ``before`` and ``after`` (two problem lists of the same batch) with its 状态:
    已消除 (only before), 仍存在 (both) or 新出现 (only after). A problem is identified by rule, table,
    file, row and field: corrections edit rows in place, so row numbers stay put.

    Columns: 状态, rule_id, unit_code, record_key, file, row, field, value_masked, message_zh."""
    cols = [
        "状态",
        "rule_id",
        "unit_code",
        "record_key",
        "file",
        "row",
        "field",
        "value_masked",
        "message_zh",
    ]

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
    """Per rule: problems before (原有), 已消除, 仍存在, 新出现, and a 合计 row."""
    cmp = compare_problems(before, after)
    cols = ["原有", CLOSED, OPEN, NEW]
    if cmp.empty:
        return pd.DataFrame(columns=["规则编号", *cols])
    table = pd.crosstab(cmp["rule_id"], cmp["状态"]).reindex(columns=[CLOSED, OPEN, NEW], fill_value=0)
    table.insert(0, "原有", table[CLOSED] + table[OPEN])
    table = table.rename_axis(None, axis=1).reset_index().rename(columns={"rule_id": "规则编号"})
    total = pd.DataFrame([{"规则编号": "合计", **{c: int(table[c].sum()) for c in cols}}])
    return pd.concat([table, total], ignore_index=True)
