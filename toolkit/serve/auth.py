"""Bearer tokens of the self-check service: one or more per unit, from a file only its owner can read.

The tokens file (``dq serve --tokens FILE``) has one line per token::

    # 单位代码   令牌（或其 SHA-256）                                      备注
    420102      sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08   江岸区
    420103      Zx8…(at least 24 characters)…                                        江汉区
    *           sha256:…                                                          省中心（可检查任何单位）

Fields are separated by spaces, tabs or a comma; ``#`` starts a comment. A token may be written as it is
or — better — as ``sha256:<hex digest>`` (``dq serve-token`` appends such a line and prints the token
once); either way only digests are kept in memory. The unit ``*`` may check rows of every unit.

Security: the file must be a regular file owned by the user running the service and readable or writable
by nobody else (``chmod 600``), otherwise the service does not start (:class:`~toolkit.errors.ConfigError`).
A presented token is hashed and compared with **every** digest in constant time
(:func:`hmac.compare_digest`, no early exit), so the time taken says nothing about how close a guess was.
Tokens and digests are never logged or put into any message.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import ConfigError

__all__ = ["ANY_UNIT", "MIN_TOKEN_LENGTH", "TokenStore", "add_token", "digest"]

ANY_UNIT = "*"
MIN_TOKEN_LENGTH = 24
_HEX = re.compile(r"sha256:[0-9a-f]{64}")
_SPLIT = re.compile(r"[\s,]+")


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True)
class _Entry:
    unit: str
    digest: bytes


def _check_file(path: Path) -> None:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ConfigError(
            f"无法读取令牌文件：{exc.strerror or exc}。",
            f"cannot read the tokens file: {exc.strerror or exc}.",
            path=path,
            fix_zh="用 dq serve-token --tokens 文件 --unit 单位代码 生成令牌文件。",
            fix_en="create it with dq serve-token --tokens FILE --unit UNIT_CODE.",
        ) from exc
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError("令牌文件不是普通文件。", "the tokens file is not a regular file.", path=path)
    if st.st_uid != os.getuid():
        raise ConfigError(
            "令牌文件的所有者不是运行服务的用户。",
            "the tokens file is not owned by the user running the service.",
            path=path,
            fix_zh="chown 为运行服务的用户，并 chmod 600。",
            fix_en="chown it to the service's user and chmod 600 it.",
        )
    if st.st_mode & 0o077:
        raise ConfigError(
            f"令牌文件的权限 {stat.filemode(st.st_mode)} 过宽：其他用户可以读取或修改令牌。",
            f"the tokens file's permissions {stat.filemode(st.st_mode)} are too open: other users could read "
            "or change the tokens.",
            path=path,
            fix_zh=f"执行 chmod 600 {path}",
            fix_en=f"run chmod 600 {path}",
        )


class TokenStore:
    """The digests of a tokens file (see the module docstring)."""

    def __init__(self, entries: list[_Entry], path: Path | None = None) -> None:
        self._entries = entries
        self.path = path

    @classmethod
    def load(cls, path: str | Path) -> TokenStore:
        path = Path(path)
        _check_file(path)
        entries: list[_Entry] = []
        for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            parts = _SPLIT.split(text)
            if len(parts) < 2:
                raise ConfigError(
                    f"令牌文件第 {n} 行应为“单位代码 令牌 [备注]”。",
                    f"line {n} of the tokens file must read 'UNIT TOKEN [NOTE]'.",
                    path=path,
                )
            unit, token = parts[0], parts[1]
            if _HEX.fullmatch(token):
                entries.append(_Entry(unit, bytes.fromhex(token[7:])))
            elif token.startswith("sha256:"):
                raise ConfigError(
                    f"令牌文件第 {n} 行的摘要不是 64 位十六进制小写字符。",
                    f"line {n} of the tokens file: the digest is not 64 lower-case hex digits.",
                    path=path,
                )
            elif len(token) < MIN_TOKEN_LENGTH:
                raise ConfigError(
                    f"令牌文件第 {n} 行的令牌太短（至少 {MIN_TOKEN_LENGTH} 个字符）。",
                    f"line {n} of the tokens file: the token is too short (at least {MIN_TOKEN_LENGTH} "
                    "characters).",
                    path=path,
                    fix_zh="用 dq serve-token 生成随机令牌。",
                    fix_en="generate a random token with dq serve-token.",
                )
            else:
                entries.append(_Entry(unit, digest(token)))
        if not entries:
            raise ConfigError(
                "令牌文件中没有任何令牌，服务不能启动（每次调用都需要令牌）。",
                "the tokens file holds no token: the service cannot start (every call needs one).",
                path=path,
                fix_zh="用 dq serve-token --tokens 文件 --unit 单位代码 添加令牌。",
                fix_en="add one with dq serve-token --tokens FILE --unit UNIT_CODE.",
            )
        return cls(entries, path)

    def __len__(self) -> int:
        return len(self._entries)

    def unit_of(self, token: str | None) -> str | None:
        """The unit of ``token``, or ``None``: compared with every digest in constant time."""
        if not token:
            return None
        presented = digest(token)
        found: str | None = None
        for entry in self._entries:
            if hmac.compare_digest(presented, entry.digest) and found is None:
                found = entry.unit
        return found


def add_token(path: str | Path, unit: str, note: str = "") -> str:
    """Append a new random token for ``unit`` to the tokens file (created with mode 600) as its SHA-256
    digest, and return the token (shown once; it cannot be recovered from the file)."""
    path = Path(path)
    if not re.fullmatch(r"[^\s,#]+", unit):
        raise ConfigError(
            "单位代码不能为空，也不能含空格、逗号或 #。",
            "the unit code must be non-empty without spaces, commas or #.",
        )
    if path.exists():
        _check_file(path)
    token = secrets.token_urlsafe(32)
    clean = re.sub(r"[#\r\n\t]", " ", note).strip()
    line = f"{unit}\tsha256:{hashlib.sha256(token.encode()).hexdigest()}" + (f"\t{clean}" if clean else "")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    return token
