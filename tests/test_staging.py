"""toolkit.staging: how DuckDB is told to read a file."""

from __future__ import annotations

import pytest

from toolkit import staging
from toolkit.staging import prepare_source

EMPTY_LINE_CASES = [
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
    (b"a,b\nx,yzw\n\n1\n", True),  # with 5-byte chunks: the empty line straddles two
    (b"a,b\r\nx,y\r\n\r\n1\r\n", True),
]


@pytest.mark.parametrize(("content", "expected"), EMPTY_LINE_CASES)
@pytest.mark.parametrize("chunk", [16 << 20, 5])
def test_empty_line_found(tmp_path, monkeypatch, content: bytes, expected: bool, chunk: int) -> None:
    monkeypatch.setattr(staging, "CHUNK_BYTES", chunk)
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    assert staging._scan_csv(path, empty_lines=True)[1] is expected


@pytest.mark.parametrize(("content", "expected"), [c for c in EMPTY_LINE_CASES if c[0].startswith(b"a,b")])
@pytest.mark.parametrize("chunk", [16 << 20, 5])
def test_staging_finds_empty_lines_in_the_same_read(tmp_path, monkeypatch, content, expected, chunk) -> None:
    """The staging read that looks for constructs DuckDB parses differently also finds the empty lines
    (the gate numbers rows as the loader does); a file it hands to the loader needs no answer."""
    monkeypatch.setattr(staging, "CHUNK_BYTES", chunk)
    path = tmp_path / "T.csv"
    path.write_bytes(content)
    src = prepare_source("b", "T", path, None, tmp_path, empty_lines=True)
    if src.reader == "csv":
        assert src.empty_line is expected
    else:  # lone CRs, or CRLF mixed with LF: the loader reads the file and numbers its rows itself
        assert content.count(b"\r") != content.count(b"\r\n") or content.count(b"\n") != content.count(
            b"\r\n"
        )
    assert prepare_source("b", "T", path, None, tmp_path).empty_line is False  # not asked
