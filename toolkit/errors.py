"""The toolkit's exception tree.

Every error a user can cause says, in Chinese first and English after, *which* file, column or row is
at fault and *what to do*. The command line maps :class:`InputError` to exit code 2.

    DQError
    ├── InputError            the batch cannot be used (exit 2)
    │   ├── BatchNotFoundError
    │   ├── NoKnownTableError
    │   ├── UnreadableFileError   (wrong encoding, corrupt xlsx/parquet, empty file)
    │   └── MissingColumnError
    └── ConfigError           a domain pack, overlay or holiday file is wrong
"""

from __future__ import annotations

from pathlib import Path


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
            fix_zh="请按数据规范导出全部字段（列名使用字段代码，如 YWH、QXDM），再重新检查。",
            fix_en="export every field of the data contract (column names are field codes such as "
            "YWH, QXDM) and run the check again.",
        )
        self.table = table
        self.columns = columns


class ConfigError(DQError):
    """A domain pack, overlay, roster or holiday file is malformed."""
