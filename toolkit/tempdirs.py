"""Private temporary folders for work copies of a batch (staged Parquet files, DuckDB spill files).

Work copies hold the batch's data unmasked, so they live only in a folder of the current user's
(``<system temp>/dq-toolkit-<uid>/``, mode 0700, refused if it is a link or belongs to someone else) and
are removed when the work ends. A process killed with ``kill -9`` cannot clean up: every folder is named
``<what>-<pid>-<random>``, and the next run removes the folders whose process no longer exists.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from toolkit.errors import ConfigError

__all__ = ["private_root", "private_tempdir", "sweep"]

_NAME = re.compile(r"[a-z]+-(\d+)-[A-Za-z0-9_]+")


def private_root() -> Path:
    """The current user's private folder under the system temp folder (created 0700)."""
    root = Path(tempfile.gettempdir()) / f"dq-toolkit-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        root.mkdir(mode=0o700)
    st = os.lstat(root)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise ConfigError(
            "临时文件夹不安全（是链接，或属于其他用户）。",
            "the temporary folder is not safe (a link, or owned by another user).",
            path=root,
            fix_zh="请删除它，或用环境变量 TMPDIR 指定另一个临时文件夹。",
            fix_en="remove it, or set TMPDIR to another temporary folder.",
        )
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(root, 0o700)
    return root


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(root: Path | None = None) -> list[Path]:
    """Remove the work folders of processes that no longer run; returns what was removed."""
    root = root or private_root()
    removed = []
    for child in root.iterdir():
        m = _NAME.fullmatch(child.name)
        if m and child.is_dir() and not child.is_symlink() and not _alive(int(m.group(1))):
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
    return removed


@contextlib.contextmanager
def private_tempdir(what: str, base: Path | None = None) -> Iterator[Path]:
    """A fresh private work folder, removed afterwards. ``base`` (e.g. ``--work-dir``) replaces the
    private root; leftovers of killed runs are swept from the root first."""
    root = private_root() if base is None else Path(base)
    if base is None:
        sweep(root)
    path = Path(tempfile.mkdtemp(prefix=f"{what}-{os.getpid()}-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
