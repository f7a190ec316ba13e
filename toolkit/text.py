"""Making text from the data safe to show: the one home of escaping invisible characters.

Two policies, for two places:

* :func:`printable` — for the terminal, messages and file names: *every* non-printable character is shown
  as an escape (``\\x1b``, ``\\u200b``, ``\\u202e``): control characters and terminal escape sequences,
  separators other than the ASCII space, format characters such as zero-width spaces and bidirectional
  overrides (which can make a file name read as something else). ``keep`` lists characters left as they
  are (a message's own line breaks).
* :func:`escape_controls` — for cells written to CSV/XLSX: only what a file must not hold or a spreadsheet
  would misread — C0 controls except tab and line feed, DEL, C1, lone surrogates, U+FFFE/U+FFFF. Other text
  (a zero-width space in an address) is data and stays.
"""

from __future__ import annotations

import re

__all__ = ["escape_controls", "printable"]

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _escape_char(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str, keep: str = "") -> str:
    """``text`` with every non-printable character (except those in ``keep``) escaped."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep else _escape_char(ch) for ch in text)


def escape_controls(text: str) -> str:
    """``text`` with control characters, lone surrogates and non-characters escaped (see above)."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: _escape_char(m.group()), text)
