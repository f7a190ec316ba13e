"""PostgreSQL as a source (``--source postgresql://…``, :mod:`toolkit.sources`) against a REAL server.

A throw-away cluster is created with Debian's server binaries (``/usr/lib/postgresql/*/bin``; ``.ci/run``
installs them) on a free loopback port; as root it runs as the ``postgres`` OS user (initdb refuses root).
Each shipped pack's sample (stock batch) is loaded into its own schema — values as the loader read them,
empty cells stored sometimes as NULL, sometimes as '' or whitespace (the loader's *empty*) — and the
counts, the gate's outputs and the scores are compared with the same batch read from its files.
Without the server binaries the tests skip, saying why.
"""

from __future__ import annotations

import csv
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from toolkit.domain import EXPECTATIONS_DIR, load_domain
from toolkit.errors import ConfigError
from toolkit.loading import ROW_COLUMN, read_table
from toolkit.sources import input_or_source, mask_url, open_batches, parse_source

PASSWORD = "s3cr#t:pw"  # never to appear in any message
EMPTIES = [None, "", "  ", "\u3000", "\t"]


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PgServer:
    """A private PostgreSQL cluster for the tests (and ``benchmarks/bench_sources.py``)."""

    def __init__(self) -> None:
        bindir = _bin_dir()
        if bindir is None:
            raise FileNotFoundError("PostgreSQL server binaries not found (apt-get install postgresql)")
        self.bin = bindir
        self.root = Path(tempfile.mkdtemp(prefix="dq-pg-"))
        self.root.chmod(0o755)
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.root, "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        data = self.root / "data"
        self._run(
            "initdb",
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "dq",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(data), "-o", opts, "-l", str(self.root / "log"), "-w", "start")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120
        )

    def url(self, schema: str | None = None, db: str = "postgres", **params: str) -> str:
        query = {**({"schema": schema} if schema else {}), **params}
        tail = ("?" + "&".join(f"{k}={v}" for k, v in query.items())) if query else ""
        return f"postgresql://dq:s3cr%23t%3Apw@127.0.0.1:{self.port}/{db}{tail}"

    def connect(self):
        import psycopg

        return psycopg.connect(f"host=127.0.0.1 port={self.port} user=dq dbname=postgres", autocommit=True)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_table(conn, schema: str, relation: str, frame: pd.DataFrame, *, vary_empty: bool = True) -> None:
    """Create ``schema.relation`` (all text) and copy ``frame``'s rows in (file order)."""
    cols = [c for c in frame.columns if c != ROW_COLUMN]
    conn.execute(
        f"CREATE TABLE {_q(schema)}.{_q(relation)} ({', '.join(f'{_q(c.lower())} text' for c in cols)})"
    )
    with conn.cursor() as cur, cur.copy(f"COPY {_q(schema)}.{_q(relation)} FROM STDIN") as copy:
        for i, row in enumerate(frame[cols].itertuples(index=False, name=None)):
            values = list(row)
            if vary_empty:  # the loader's "empty" comes in several spellings in a database
                values = [EMPTIES[(i + j) % len(EMPTIES)] if v is None else v for j, v in enumerate(values)]
            copy.write_row(values)


def load_batch_dir(conn, schema: str, folder: Path, dom) -> dict[str, str]:
    """Every table file of ``folder`` into ``schema``: most as lower-case tables, one as an upper-case
    quoted name and one behind a view of the table's name (both are found like a file). Returns code →
    relation."""
    conn.execute(f"CREATE SCHEMA {_q(schema)}")
    out = {}
    files = sorted(p for p in folder.iterdir() if p.stem.upper() in dom.tables)
    for i, path in enumerate(files):
        code = path.stem.upper()
        frame = read_table(path, code).frame
        if i == 1:
            load_table(conn, schema, code, frame)
            out[code] = code
        elif i == 2:
            load_table(conn, schema, f"raw_{code.lower()}", frame)
            conn.execute(
                f"CREATE VIEW {_q(schema)}.{_q(code.lower())} AS SELECT * FROM {_q(schema)}.{_q('raw_' + code.lower())}"
            )
            out[code] = code.lower()
        else:
            load_table(conn, schema, code.lower(), frame)
            out[code] = code.lower()
    return out


def _packs_with_sample() -> list:
    out = []
    for d in sorted(p for p in EXPECTATIONS_DIR.iterdir() if (p / "domain.yaml").exists()):
        if (d / "sample.py").exists():
            out.append(d.name)
        else:
            out.append(
                pytest.param(d.name, marks=pytest.mark.skip(reason=f"pack {d.name} ships no sample.py"))
            )
    return out


PACKS = _packs_with_sample()


@pytest.fixture(scope="module")
def pg():
    if _bin_dir() is None:
        pytest.skip(
            "PostgreSQL server binaries absent (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql"
        )
    server = PgServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def loaded(pg, tmp_path_factory):
    """pack → (stock batch folder, schema): each pack's small stock sample, as files and in the server."""
    from toolkit.samples import generate_sample

    out = {}
    with pg.connect() as conn:
        for pack in [p if isinstance(p, str) else None for p in PACKS]:
            if pack is None:
                continue
            folder = tmp_path_factory.mktemp(f"sample_{pack}")
            generate_sample(pack, folder, seed=11, stock_rows=300, incremental=False, error_scale=3.0)
            stock = folder / "stock"
            load_batch_dir(conn, f"s_{pack}", stock, load_domain(pack))
            out[pack] = (stock, f"s_{pack}")
    return out


def _sorted(frame: pd.DataFrame, drop=()) -> pd.DataFrame:
    frame = frame.drop(columns=[c for c in drop if c in frame.columns])
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ counts


@pytest.mark.parametrize("pack", PACKS)
def test_engine_counts_from_postgres_equal_counts_from_files(pack, pg, loaded):
    from toolkit.engine import count_batches

    stock, schema = loaded[pack]
    want = count_batches(stock, domain=pack, mode="stock")
    with open_batches([pg.url(schema)], domain=pack, mode="stock") as opened:
        got = count_batches(opened, domain=pack, mode="stock")
        reads = next(iter(opened.sources.values())).reads
    assert want.counts["batch"].unique().tolist() == got.counts["batch"].unique().tolist() == ["stock"]
    pd.testing.assert_frame_equal(_sorted(got.counts), _sorted(want.counts))
    pd.testing.assert_frame_equal(_sorted(got.rows), _sorted(want.rows))
    assert want.counts["unexpected_count"].sum() > 0  # the sample has errors: the comparison is not empty
    # every row the server sent is a row read (the sample has no fully blank rows)
    by_table = got.rows.groupby("table")["rows"].sum().to_dict()
    assert {r.table: r.rows for r in reads} == by_table
    assert {f.stem.upper() for f in stock.iterdir()} == {r.table for r in reads}


def _cli(args):
    from typer.testing import CliRunner

    from toolkit.cli import app

    return CliRunner().invoke(app, args)


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_dq_check_from_postgres_equals_check_from_files(pg, loaded, tmp_path):
    stock, schema = loaded["bdc"]
    a = _cli(
        ["check", "--domain", "bdc", "--mode", "stock", "--input", str(stock), "--out", str(tmp_path / "f")]
    )
    b = _cli(
        [
            "check",
            "--domain",
            "bdc",
            "--mode",
            "stock",
            "--source",
            pg.url(schema),
            "--out",
            str(tmp_path / "p"),
        ]
    )
    assert a.exit_code in (0, 1), a.output
    assert b.exit_code == a.exit_code, b.output
    pd.testing.assert_frame_equal(_read_csv(tmp_path / "p/counts.csv"), _read_csv(tmp_path / "f/counts.csv"))
    pf, pp = _read_csv(tmp_path / "f/problems.csv"), _read_csv(tmp_path / "p/problems.csv")
    assert len(pf) > 0
    # the same problems; only where they are differs (a relation instead of a file; the server's row order)
    where = [c for c in pf.columns if c in ("file", "row", ROW_COLUMN) or c.startswith("row")]
    pd.testing.assert_frame_equal(_sorted(pp, where), _sorted(pf, where))
    tables = load_domain("bdc").tables
    assert set(pp["file"]) <= {f"{schema}.{c.lower()}" for c in tables} | {f"{schema}.{c}" for c in tables}
    summary = (tmp_path / "p/summary.json").read_text(encoding="utf-8")
    for path in (tmp_path / "p").rglob("*"):
        if path.is_file():
            assert PASSWORD not in path.read_text(encoding="utf-8", errors="replace"), path
            assert "s3cr%23t" not in path.read_text(encoding="utf-8", errors="replace"), path
    assert "dq:***@127.0.0.1" in summary
    assert PASSWORD not in b.output and "s3cr%23t" not in b.output


def test_dq_score_from_postgres_equals_score_from_files(pg, loaded, tmp_path):
    stock, schema = loaded["bdc"]
    a = _cli(
        ["score", "--domain", "bdc", "--mode", "stock", "--input", str(stock), "--out", str(tmp_path / "f")]
    )
    b = _cli(
        [
            "score",
            "--domain",
            "bdc",
            "--mode",
            "stock",
            "--source",
            pg.url(schema),
            "--out",
            str(tmp_path / "p"),
        ]
    )
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    want, got = _read_csv(tmp_path / "f/scores.csv"), _read_csv(tmp_path / "p/scores.csv")
    assert len(want) > 0
    pd.testing.assert_frame_equal(got, want)


# ------------------------------------------------------------------------------------------------ semantics


def test_blank_spellings_are_empty_and_types_are_text(pg, bdc_kit, tmp_path):
    """'' / spaces / U+3000 / tab / NULL in the database count exactly as the same cells in a CSV file;
    a numeric column arrives as PostgreSQL's text of the number."""
    from toolkit.engine import count_batches

    codes = bdc_kit.districts(2)
    tables = bdc_kit.valid_tables(codes)
    fdcq = tables[bdc_kit.FDCQ]
    fdcq[0]["FDZL"] = "\u3000"
    fdcq[1]["JZMJ"] = "  "
    fdcq[2]["DBR"] = "\t"
    fdcq[3]["SLSJ"] = ""
    folder = bdc_kit.write_batch(tmp_path / "2024-03-05", tables)
    with pg.connect() as conn:
        conn.execute("CREATE SCHEMA blanks")
        for path in sorted(folder.iterdir()):
            code = path.stem
            with path.open(encoding="utf-8", newline="") as fh:
                rows = list(csv.reader(fh))
            header, body = rows[0], rows[1:]
            numeric = {"JZMJ"} if code == bdc_kit.FDCQ else set()
            cols = ", ".join(f"{_q(h.lower())} {'numeric' if h in numeric else 'text'}" for h in header)
            conn.execute(f"CREATE TABLE blanks.{_q(code.lower())} ({cols})")
            with conn.cursor() as cur, cur.copy(f"COPY blanks.{_q(code.lower())} FROM STDIN") as copy:
                for r in body:  # the CSV's raw text; '' → NULL only where the column is numeric
                    copy.write_row(
                        [
                            (None if (h in numeric and not v.strip()) else v)
                            for h, v in zip(header, r, strict=True)
                        ]
                    )
    want = count_batches(folder, domain="bdc", mode="incremental")
    with open_batches([pg.url("blanks", batch="2024-03-05")], domain="bdc", mode="incremental") as opened:
        got = count_batches(opened, domain="bdc", mode="incremental")
        spooled = (opened[0] / f"{bdc_kit.FDCQ}.csv").read_text(encoding="utf-8")
    pd.testing.assert_frame_equal(_sorted(got.counts), _sorted(want.counts))
    failing = want.counts[want.counts.unexpected_count > 0]
    assert {"FDZL", "JZMJ", "DBR", "SLSJ"} <= set(failing["field"])  # the blanks were seen as empty
    assert "89.50" in spooled  # numeric → PostgreSQL's text, trailing zero kept


# ------------------------------------------------------------------------------------------------ errors


@pytest.fixture(scope="module")
def broken(pg, loaded):
    """Schemas that are wrong in one way each (built from the bdc sample)."""
    stock, _ = loaded["bdc"]
    dom = load_domain("bdc")
    frames = {p.stem.upper(): read_table(p, p.stem.upper()).frame for p in stock.iterdir()}
    core = dom.core_tables("stock")[0]
    other = next(c for c in frames if c != core)
    with pg.connect() as conn:
        conn.execute("CREATE SCHEMA nocore")
        load_table(conn, "nocore", other.lower(), frames[other].head(5))
        conn.execute("CREATE SCHEMA lookalike")
        load_table(conn, "lookalike", core.lower().replace("_", "-"), frames[core].head(5))
        conn.execute("CREATE SCHEMA twice")
        load_table(conn, "twice", core.lower(), frames[core].head(5))
        load_table(conn, "twice", core, frames[core].head(5))
        conn.execute("CREATE SCHEMA nocol")
        first_required = dom.required_columns()[core][0]
        load_table(conn, "nocol", core.lower(), frames[core].head(5).drop(columns=[first_required]))
        conn.execute("CREATE SCHEMA empty")
    return {"core": core, "missing_column": first_required}


@pytest.mark.parametrize(
    ("url_args", "needles"),
    [
        ({"schema": "nocore"}, ["nocore", "{core}"]),
        ({"schema": "lookalike"}, ["lookalike.{core_hyphen}", "{core}"]),
        ({"schema": "twice"}, ["twice.{core_lower}", "twice.{core}"]),
        ({"schema": "nocol"}, ["nocol.{core_lower}", "{missing_column}"]),
        ({"schema": "empty"}, ["empty"]),
        ({"schema": "no_such_schema"}, ["no_such_schema"]),
        ({"schema": "s_bdc", "db": "no_such_db"}, ["no_such_db"]),
    ],
    ids=["core-missing", "look-alike", "two-for-one", "column-missing", "no-table", "no-schema", "no-db"],
)
def test_unusable_source_is_exit_2_naming_relation_never_the_password(
    pg, loaded, broken, tmp_path, url_args, needles
):
    url = pg.url(url_args["schema"], db=url_args.get("db", "postgres"))
    res = _cli(["check", "--domain", "bdc", "--mode", "stock", "--source", url, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    core = broken["core"]
    for needle in needles:
        needle = needle.format(core_lower=core.lower(), core_hyphen=core.lower().replace("_", "-"), **broken)
        assert needle in text, (needle, text)
    assert PASSWORD not in res.output and "s3cr%23t" not in res.output
    assert not (tmp_path / "o" / "counts.csv").exists()


def test_input_and_source_are_exclusive(tmp_path):
    res = _cli(["check", "--domain", "bdc", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--source" in res.output
    with pytest.raises(ConfigError):
        input_or_source(tmp_path, "postgresql://x@h/db")


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://dq:pw@h:5432/db", "postgresql://dq:***@h:5432/db"),
        ("postgres://dq:p%40ss@h/db?schema=x", "postgres://dq:***@h/db?schema=x"),
        (
            "postgresql://dq@h/db?password=pw&sslmode=require",
            "postgresql://dq@h/db?password=***&sslmode=require",
        ),
        ("postgresql://h/db", "postgresql://h/db"),
    ],
)
def test_mask_url(url, masked):
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    "url",
    ["mysql://u:pw@h/db", "postgresql://u:pw@h:notaport/db", "postgresql://u:pw@h/db?batch=../x"],
)
def test_malformed_source_url_is_a_config_error_without_password(url):
    with pytest.raises(ConfigError) as info:
        parse_source(url)
    assert ":pw@" not in str(info.value)


def test_batch_name_defaults(tmp_path):
    assert parse_source("postgresql://h/db", mode="stock").batch == "stock"
    assert parse_source("postgresql://h/db?schema=d1", mode="incremental").batch == "d1"
    assert (
        parse_source("postgresql://h/db?schema=d1&batch=2024-03-05", mode="incremental").batch == "2024-03-05"
    )
    assert "schema" not in parse_source("postgresql://h/db?schema=d1&sslmode=disable").conninfo
