"""toolkit.staging: how DuckDB is told to read a file."""

from __future__ import annotations

import pytest

from toolkit.staging import has_empty_line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"a,b\n1,2\n3,4\n", False),
        (b"a,b\n1,2\n3,4", False),
        (b"a,b\n1,2\n3,4\n\n\n", False),  # trailing line ends follow the last record: no row moves
        (b"a,b\r\n1,2\r\n3,4\r\n\r\n", False),
        (b"a,b\n1,2\n\n3,4\n", True),
        (b"a,b\r\n1,2\r\n\r\n3,4\r\n", True),
        (b"a,b\r1,2\r\r3,4\r", True),
        (b'a,b\n"x\n\ny",2\n', True),  # an empty line inside a quoted value: the loader reads it (exact)
        (b",\n1,2\n", False),  # a record of empty cells is a line, not an empty line
        (b'a,b\r\n"x\nz\ny",2\r\n', False),  # CRLF file: two line feeds two bytes apart, no CR between
        (b"", False),
    ],
)
def test_has_empty_line(tmp_path, content: bytes, expected: bool) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    assert has_empty_line(path) is expected
