"""The toolkit's exception tree.

Every error a user can cause says, in Chinese first and English after, *which* file, column or row is
at fault and *what to do*. The command line maps :class:`InputError` to exit code 2.

    DQError                       every error a user can cause: exit 2 unless said otherwise
    ├── InputError                the batch cannot be used
    │   ├── BatchNotFoundError
    │   ├── NoKnownTableError
    │   ├── CoreTableMissingError   a mode's core table has no file
    │   ├── MisnamedTableFileError  a file named almost like a table
    │   ├── MisplacedTableFileError a table's file in a subfolder
    │   ├── UnreadableFileError     (wrong encoding, corrupt xlsx/parquet, empty file, NUL bytes, …)
    │   └── MissingColumnError
    ├── ConfigError               a domain pack, overlay, roster or holiday file is wrong
    ├── LedgerError               the ledger cannot be used or an operation is refused
    │   ├── TransitionError ── StateConflictError
    │   └── ProblemNotFoundError
    ├── LessonError               a lesson cannot go on
    ├── CleanError                a clean-up (dq clean) cannot be planned, applied or undone
    │   └── StalePlanError          the batch or the pack changed since the plan was made
    ├── CJKFontNotFoundError      no font shows Chinese
    ├── ServeError                a self-check call answered with a 4xx (dq serve)
    ├── NotifyError               a group-robot notification failed (--notify)
    └── InternalError             a defect of the toolkit (exit 3)
        └── InternalCountError

    DQWarning                     a warning, printed once per command and kept in summary.json
    NotCompilable                 (internal) a rule the engine hands to Great Expectations
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class DQError(Exception):
    """Base class of all toolkit errors. ``zh`` and ``en`` hold the two halves of the message."""

    def __init__(
        self, zh: str, en: str, *, path: Path | str | None = None, fix_zh: str = "", fix_en: str = ""
    ) -> None:
        self.zh = zh
        self.en = en
        self.path = Path(path) if path is not None else None
        self.fix_zh = fix_zh
        self.fix_en = fix_en
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"[{self.path}] " if self.path is not None else ""
        zh = f"{where}{self.zh}" + (f" 处理办法：{self.fix_zh}" if self.fix_zh else "")
        en = f"{where}{self.en}" + (f" Fix: {self.fix_en}" if self.fix_en else "")
        return f"{zh}\n{en}"


class DQWarning(UserWarning):
    """A toolkit warning (not an error): collected while a command runs and printed once, as one line,
    and recorded in ``summary.json`` by ``dq check``. A subclass may merge many of its warnings into one
    line (:meth:`merge`)."""

    @classmethod
    def merge(cls, warnings: list[DQWarning]) -> list[str]:
        """The lines that stand for these warnings of this class (default: each distinct message)."""
        return list(dict.fromkeys(str(w) for w in warnings))


def warning_lines(caught: list[Any]) -> list[str]:
    """The toolkit's warnings among ``warnings.catch_warnings(record=True)`` records, as lines: each
    distinct message once, merged per class where the class says how."""
    by_class: dict[type, list[DQWarning]] = {}
    for w in caught:
        if issubclass(w.category, DQWarning):
            message = w.message if isinstance(w.message, DQWarning) else w.category(str(w.message))
            by_class.setdefault(w.category, []).append(message)
    return [line for cls, ws in by_class.items() for line in cls.merge(ws)]


class InternalError(DQError):
    """A defect of the toolkit itself (exit code 3), never a problem of the data."""


class InternalCountError(InternalError):
    """Counts split by unit disagree with Great Expectations' totals."""


class InputError(DQError):
    """The input batch cannot be used; nothing is written as if a check had passed."""


class BatchNotFoundError(InputError):
    pass


class NoKnownTableError(InputError):
    pass


class UnreadableFileError(InputError):
    pass


class MissingColumnError(InputError):
    def __init__(self, path: Path | str, table: str, columns: list[str]) -> None:
        cols = ", ".join(columns)
        super().__init__(
            f"表 {table} 缺少必需的列：{cols}。",
            f"table {table} lacks required column(s): {cols}.",
            path=path,
            fix_zh="请按数据规范导出全部字段（列名使用字段代码），再重新检查。",
            fix_en="export every field of the data contract (column names are the field codes) and run the "
            "check again.",
        )
        self.table = table
        self.columns = columns


class ConfigError(DQError):
    """A domain pack, overlay, roster or holiday file is malformed."""


class CoreTableMissingError(InputError):
    """A core table of the check mode (``core:`` under the mode in ``domain.yaml``) has no file in the
    batch folder. Its rules could not be evaluated, so the batch must not pass: this is an input error."""

    def __init__(self, folder: Path | str, tables: list[str]) -> None:
        names = "、".join(f"{t}.csv" for t in tables)
        names_en = ", ".join(f"{t}.csv" for t in tables)
        super().__init__(
            f"批次缺少主表 {', '.join(tables)}：文件夹中没有 {names}（或同名的 .xlsx、.parquet 文件）。"
            "缺少主表的批次不能通过检查。",
            f"the batch lacks its core table(s) {', '.join(tables)}: there is no {names_en} (or .xlsx, "
            ".parquet file of that name) in the folder. A batch without its core table cannot pass.",
            path=folder,
            fix_zh=f"请把该表导出后放进批次文件夹，文件名为表代码（如 {tables[0]}.csv），再重新检查。",
            fix_en=f"export that table into the batch folder, named by its table code (e.g. {tables[0]}.csv), "
            "and run the check again.",
        )
        self.tables = tables


class MisnamedTableFileError(InputError):
    """A file in the batch folder whose name looks like a known table's (case, spaces, hyphens, full-width
    letters, an extra or unsupported extension …) but is not exactly ``<TABLE_CODE>.csv|.xlsx|.parquet``:
    it would otherwise be ignored and the table reported as absent."""


class MisplacedTableFileError(InputError):
    """A known table's file lies in a subfolder of the batch folder (e.g. an archive unpacked into a
    folder of the same name) while the batch folder itself has no file for that table."""


class CJKFontNotFoundError(DQError):
    def __init__(self, detail_zh: str = "", detail_en: str = "") -> None:
        super().__init__(
            "找不到可显示中文的字体，图表中的汉字会显示为方框。" + detail_zh,
            "no font with Chinese glyphs was found; charts would show empty boxes." + detail_en,
            fix_zh=(
                "运行 make（或 pip install -r requirements.lock）安装随工具包提供的 Noto Sans CJK 字体包"
                " noto-cjk-sans-otc；或在 Debian/Ubuntu 上执行 apt install fonts-noto-cjk；"
                "Windows、macOS 自带中文字体（微软雅黑、苹方）；也可用环境变量 DQ_CJK_FONT 指定字体文件。"
            ),
            fix_en=(
                "run make (or pip install -r requirements.lock) to install the bundled Noto Sans CJK "
                "package noto-cjk-sans-otc; or on Debian/Ubuntu: apt install fonts-noto-cjk; Windows "
                "and macOS ship Chinese fonts (Microsoft YaHei, PingFang); or point the environment "
                "variable DQ_CJK_FONT at a .ttf/.otf/.ttc file."
            ),
        )


class LedgerError(DQError):
    """The ledger file cannot be used, or an operation on it is refused."""


class TransitionError(LedgerError):
    """A change of state that the transition table does not allow."""


class ProblemNotFoundError(LedgerError):
    pass


class StateConflictError(TransitionError):
    """The problem is no longer in the state the caller saw (someone else changed it)."""


class LessonError(DQError):
    """A lesson cannot go on: data missing, a correction sheet that does not fit the batch, …"""


class NotCompilable(Exception):
    """The rule must be validated by Great Expectations (the message says why)."""


class CalendarCoverageWarning(DQWarning):
    """A year outside the built-in holiday data was needed; Monday-Friday was assumed."""

    def __init__(self, message: str, year: int | None = None) -> None:
        super().__init__(message)
        self.year = year

    @classmethod
    def merge(cls, warnings: list[DQWarning]) -> list[str]:
        years = sorted({w.year for w in warnings if isinstance(w, CalendarCoverageWarning) and w.year})
        if len(years) <= 1:
            return super().merge(warnings)
        shown = "、".join(map(str, years[:5])) + (f" … {years[-1]}" if len(years) > 5 else "")
        return [
            f"节假日数据未覆盖 {len(years)} 个年份（{shown}），这些年份已按周一至周五为工作日计算；可提供节假日文件（date,type）补充。"
            f" / No holiday data for {len(years)} years ({shown.replace('、', ', ')}); Monday-Friday was"
            " assumed as working days. A holiday file (date,type) can be given."
        ]


class ServeError(DQError):
    """A self-check call (``dq serve``) that cannot be answered with a verdict: bad input, no or a wrong
    token, another unit's rows, too large a body. ``status`` is the HTTP status (always 4xx, never 5xx),
    ``code`` a stable machine-readable reason (``bad_json``, ``unknown_table`` …), ``where`` the place in
    the request (``tables.X[2].F``)."""

    def __init__(
        self,
        status: int,
        code: str,
        zh: str,
        en: str,
        *,
        where: str = "",
        fix_zh: str = "",
        fix_en: str = "",
    ) -> None:
        super().__init__(zh, en, fix_zh=fix_zh, fix_en=fix_en)
        self.status = status
        self.code = code
        self.where = where


class NotifyError(DQError):
    """A work-group notification (group-robot webhook) could not be delivered after its retries."""


class CleanError(DQError):
    """A format clean-up (``dq clean``) cannot be planned, applied or undone as asked; nothing was
    changed."""


class StalePlanError(CleanError):
    """A clean-up plan no longer fits: the batch's files, the pack's fixers or rules changed after the plan
    was reviewed. Nothing was written: plan again."""


class SourceError(InputError):
    """A database source (``--source postgresql://…``) cannot be read: no connection, no such schema, a
    read refused. The message names the source with its password masked."""


class SourceTableMissingError(CoreTableMissingError):
    """A core table of the check mode is not in the database source's schema."""

    def __init__(self, where: str, tables: list[str]) -> None:
        InputError.__init__(
            self,
            f"数据源缺少主表 {', '.join(tables)}：模式中没有名为 {'、'.join(t.lower() for t in tables)} 的表或视图"
            "（大小写不限）。缺少主表的批次不能通过检查。",
            f"the source lacks its core table(s) {', '.join(tables)}: the schema has no table or view named "
            f"{', '.join(t.lower() for t in tables)} (any case). A batch without its core table cannot pass.",
            path=where,
            fix_zh="请检查 ?schema= 指向的模式，或为该表建一个以表代码命名的视图。",
            fix_en="check the schema given as ?schema=, or create a view named by the table code.",
        )
        self.tables = tables
