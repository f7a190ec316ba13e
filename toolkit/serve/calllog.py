"""The call log of the self-check service (防止瞒报漏报): every call, appended, never rewritten.

One JSON object per line in ``<log dir>/calls-YYYY-MM-DD.jsonl`` (the day of the call, local time; the
folder is created with mode 700, the files with mode 600). A line records a call, not its data::

    {"time": "2024-12-31T09:12:03.123+08:00", "request_id": "…", "domain": "…", "endpoint": "check",
     "unit": "<the token's unit>", "status": 200, "error": null, "ms": 7.9, "client": "127.0.0.1",
     "standard_version": "…",
     "items": [{"stage": "dengbu", "keys": ["<business key>"], "verdict": "fail", "pass": false,
                "failed_rules": ["…"], "tables": {"<TABLE>": 1, …}}]}

Refused calls (wrong token, bad input, another unit's rows) are logged too, with their status and error
code and without items. Nothing personal is written: no values, no tokens; business keys (record keys
identify registrations, not persons) pass through the free-text scrubber of :mod:`toolkit.masking` so that
an ID number typed into a key field is masked. Appends from several worker processes are serialised with
an exclusive ``flock`` and written with one ``write`` each.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolkit.masking import scrub_text

__all__ = ["CallLog", "log_files", "read_calls"]


class CallLog:
    """Appends call records to the day's file under ``folder``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._day: str | None = None

    def path_for(self, day: dt.date) -> Path:
        return self.folder / f"calls-{day.isoformat()}.jsonl"

    def append(self, record: dict[str, Any], now: dt.datetime | None = None) -> None:
        now = (now or dt.datetime.now()).astimezone()
        rec = {"time": now.isoformat(timespec="milliseconds"), **record}
        for item in rec.get("items") or []:
            item["keys"] = [scrub_text(k) for k in item.get("keys") or []]
        line = (json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        day = now.date().isoformat()
        with self._lock:
            if self._day != day or self._fd is None:
                if self._fd is not None:
                    os.close(self._fd)
                self._fd = os.open(self.path_for(now.date()), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                self._day = day
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                os.write(self._fd, line)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def log_files(folder: str | Path) -> list[Path]:
    """The call-log files of ``folder``, oldest first."""
    return sorted(Path(folder).glob("calls-????-??-??.jsonl"))


def read_calls(folder: str | Path, days: set[str] | None = None) -> Iterator[dict[str, Any]]:
    """Every call record under ``folder`` (only the given ``YYYY-MM-DD`` days when ``days`` is set). A line
    that is not JSON (a write cut short by a crash) is skipped."""
    for path in log_files(folder):
        if days is not None and path.stem[len("calls-") :] not in days:
            continue
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(rec, dict):
                    yield rec
