"""What the ``dq`` commands print, and how they end: messages, warnings and exit codes.

Exit codes of every command:

* ``0`` — done (for ``dq check``: the batch passed the gate);
* ``1`` — the data failed the gate (``dq check``: a critical rule failed beyond its tolerance);
* ``2`` — the input or the configuration cannot be used (:class:`~toolkit.errors.DQError`, a file that
  cannot be read or written, a full disk, a wrong option): the message names the file and says what to do,
  in Chinese and English;
* ``3`` — an internal error (a defect of the toolkit, not of the data): a short bilingual message, and the
  traceback, masked, in a crash log whose path is printed.

Everything printed passes through :func:`safe_message`: personal data is scrubbed
(:func:`toolkit.masking.scrub_text`), control characters — terminal escape sequences from file names or
cells — are shown as visible escapes, and Rich markup is escaped. The toolkit's own warnings
(:class:`~toolkit.errors.DQWarning`, e.g. a year the holiday calendar does not cover) are collected while a
command runs and printed once each, as one line, at the end.

:func:`run_app` ends the process once the command's exit handlers have run, without Python tearing down
every module and object it loaded (1–2 s after a run that loaded Great Expectations, for memory the
system frees anyway); files are closed and output flushed before.
"""

from __future__ import annotations

import atexit
import datetime as dt
import errno
import logging
import os
import sqlite3
import sys
import tempfile
import traceback
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from toolkit.errors import DQError, DQWarning, InternalError, warning_lines
from toolkit.masking import scrub_text
from toolkit.text import printable

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_UNUSABLE",
    "GuardedGroup",
    "err",
    "fail",
    "out",
    "print_warnings",
    "run_app",
    "safe_message",
    "show_progress",
    "visible",
]

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE, EXIT_INTERNAL = 0, 1, 2, 3

err = Console(stderr=True)
out = Console()

_EXIT_CODE: list[int] = []  # the code the command ended with, once it has ended (run_app)


def _end_without_teardown() -> None:
    """Registered by :func:`run_app` before the command runs, so it runs after every exit handler the
    command registered (temporary folders, Spark): flush what is buffered, then end the process."""
    if not _EXIT_CODE:
        return
    logging.shutdown()  # its exit handler was registered before this one: it would not run
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach the reader
            pass
    os._exit(_EXIT_CODE[0])


def run_app(app: Any) -> None:
    """Run the ``dq`` application (console entry point); its exit code is the process's."""
    atexit.register(_end_without_teardown)
    try:
        app()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            _EXIT_CODE.append(exc.code or 0)
        raise


def show_progress() -> bool:
    """Progress bars only for a person at a terminal; quiet in CI and in pipes."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def visible(text: str) -> str:
    """Text for the terminal: every non-printable character escaped except line breaks and tabs."""
    return printable(text, keep="\n\t")


def safe_message(text: Any) -> str:
    """Text fit for the terminal: personal data scrubbed, control characters visible, markup escaped."""
    return escape(visible(str(scrub_text(str(text)))))


def fail(exc: DQError, code: int = EXIT_UNUSABLE) -> None:
    err.print(f"[bold red]错误 / error[/]\n{safe_message(exc.message)}")
    raise typer.Exit(code)


def print_warnings(messages: Iterable[str]) -> None:
    """Each distinct warning once, as one line on stderr."""
    for m in dict.fromkeys(messages):
        err.print(f"[yellow]警告 / warning[/] {safe_message(m)}")


def _os_error(exc: OSError) -> DQError:
    where = exc.filename if exc.filename is not None else None
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DQError(
            "磁盘已满，无法写入。",
            "no space left on the device.",
            path=where,
            fix_zh="请清理磁盘空间或换一个输出目录后重试。",
            fix_en="free some disk space or choose another output folder, then try again.",
        )
    return DQError(
        f"无法读写文件：{exc.strerror or exc}。",
        f"cannot read or write: {exc.strerror or exc}.",
        path=where,
        fix_zh="请检查路径是否正确、是否有读写权限、是否是文件夹。",
        fix_en="check the path, its permissions, and whether it is a folder or a file.",
    )


def _crash_log(exc: BaseException) -> Path | None:
    """Write the masked traceback to a private crash log; its path, or None if that fails too."""
    try:
        folder = Path(tempfile.gettempdir()) / f"dq-toolkit-{os.getuid()}" / "crashes"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"crash-{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
        text = "".join(traceback.format_exception(exc))
        path.write_text(visible(scrub_text(text)), encoding="utf-8")
        return path
    except OSError:
        return None


class GuardedGroup(TyperGroup):
    """The ``dq`` command group: maps every way a command can end to its exit code (see the module
    docstring) and prints the toolkit's warnings once each."""

    def invoke(self, ctx: typer.Context) -> Any:
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DQWarning)
                return self._invoke(ctx)
        finally:
            print_warnings(warning_lines(caught))
            for w in caught:  # anything else is shown as Python would have shown it
                if not issubclass(w.category, DQWarning):
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)

    def _invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (Exit, Abort, TyperException):
            raise
        except InternalError as exc:
            fail(exc, EXIT_INTERNAL)
        except DQError as exc:
            fail(exc)
        except sqlite3.OperationalError as exc:
            fail(
                DQError(
                    f"数据库文件无法写入：{exc}",
                    f"the database file cannot be written: {exc}",
                    fix_zh="请检查磁盘空间和文件权限。",
                    fix_en="check the free disk space and the file's permissions.",
                )
            )
        except OSError as exc:
            fail(_os_error(exc))
        except KeyboardInterrupt:
            err.print("已中断 / interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:
            log = _crash_log(exc)
            err.print(
                "[bold red]内部错误 / internal error[/]\n"
                + safe_message(
                    f"工具包内部出错（这是工具的缺陷，不是数据的问题）：{type(exc).__name__}: {exc}\n"
                    f"the toolkit failed (a defect of the toolkit, not of your data): "
                    f"{type(exc).__name__}: {exc}\n" + (f"详细信息 / details: {log}" if log else "")
                )
            )
            raise typer.Exit(EXIT_INTERNAL) from None
