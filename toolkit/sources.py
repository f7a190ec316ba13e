"""Where a batch comes from: a folder of table files, or tables of a PostgreSQL database.

``--source postgresql://USER:PASSWORD@HOST:PORT/DB?schema=SCHEMA&batch=NAME`` reads the tables of one schema
(default ``public``) directly from the database — no export by the user — with the loader's semantics
(:mod:`toolkit.loading`): every value is text (PostgreSQL's own text output of the column's type), empty or
whitespace-only is empty, fully blank rows are skipped and counted, every row read is checked.

How. :func:`open_batches` connects with psycopg 3 in one read-only ``REPEATABLE READ`` transaction (every
table from the same snapshot), finds the tables exactly as :func:`toolkit.loading.discover_tables` finds
files (a relation named like the table code, any case; a near-miss name, two relations for one code, no
known table or a missing core table are input errors naming the schema and relation, exit 2), checks the
required columns (naming the relation and the missing columns), and streams each table with
``COPY (SELECT col::text, …) TO STDOUT (FORMAT csv)`` chunk by chunk into ``<TABLE_CODE>.csv`` in a private
work folder (0700, removed afterwards): memory stays bounded by the copy buffer, whatever the table size.
That folder is then an ordinary batch for every engine — the count engine (DuckDB reads the CSV directly),
Great Expectations (``--engine gx``) and Spark —, so a database and an export of the same rows give the
same counts by construction, and the tests check it on a real PostgreSQL server.

CSV is PostgreSQL's own lossless text format here: ``NULL`` is an empty unquoted field, the empty string a
quoted one (both *empty* for the loader), values holding a quote, comma or line break are quoted. Row
numbers (``_ROW``) are the order in which the server returned the rows, header = row 1 (a table has no
intrinsic order: use the record key, which every problem carries).

The password never appears in a message, log or output: :func:`mask_url` replaces it (and a ``password=``
parameter) with ``***``; errors from the driver are scrubbed of it too. The batch is named by ``batch=``
(default ``stock`` in stock mode, else the schema name): it is the period of ``dq score``.
"""

from __future__ import annotations

import contextlib
import csv
import re
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import (
    ConfigError,
    InputError,
    MisnamedTableFileError,
    MissingColumnError,
    NoKnownTableError,
    SourceError,
    SourceTableMissingError,
)
from toolkit.loading import ROW_COLUMN, _looks_like, normalise_header
from toolkit.text import printable

__all__ = [
    "COPY_CHUNK",
    "SCHEMES",
    "DatabaseSource",
    "OpenedBatches",
    "TableRead",
    "input_or_source",
    "is_source_url",
    "mask_url",
    "open_batches",
    "parse_source",
    "read_database",
    "relabel",
]

#: URL schemes read as PostgreSQL (and its derivatives speaking its protocol).
SCHEMES = ("postgresql", "postgres")
#: Bytes buffered before a write of the spooled CSV.
COPY_CHUNK = 1 << 20
#: Relation kinds read as tables: table, partitioned table, view, materialised view, foreign table.
_RELKINDS = ("r", "p", "v", "m", "f")
_OURS = ("schema", "batch")
_BATCH_NAME = re.compile(r"[A-Za-z0-9_\-.]{1,64}")


@dataclass
class TableRead:
    """One relation copied: ``relation`` as ``schema.name``, ``rows`` as the server counted them."""

    table: str
    relation: str
    columns: list[str]
    rows: int
    seconds: float


@dataclass
class DatabaseSource:
    """A parsed ``--source`` URL. ``conninfo`` holds the secret; only :attr:`label` is ever shown."""

    conninfo: str
    schema: str
    batch: str | None
    label: str
    """The URL with the password masked (``postgresql://dq:***@db:5432/bdc?schema=public``)."""
    password: str = field(default="", repr=False)
    reads: list[TableRead] = field(default_factory=list)

    def where(self, relation: str | None = None) -> str:
        """A place for messages: ``PostgreSQL dq@db:5432/bdc public.qlt_fw_fdcq_yz`` (no ``//``: it is
        used as the ``path`` of an error)."""
        parts = urllib.parse.urlsplit(self.label)
        db = parts.path.lstrip("/")
        host = parts.netloc.rsplit("@", 1)[-1]
        user = parts.username or ""
        place = f"PostgreSQL {user + '@' if user else ''}{host}/{db}"
        return f"{place} {relation or self.schema}"

    def scrub(self, text: str) -> str:
        """``text`` with the password replaced by ``***`` and non-printables escaped."""
        if self.password:
            text = text.replace(self.password, "***")
            quoted = urllib.parse.quote(self.password, safe="")
            if quoted != self.password:
                text = text.replace(quoted, "***")
        return printable(" ".join(text.split()))


def is_source_url(text: str | None) -> bool:
    """True for ``postgresql://…`` / ``postgres://…``."""
    return bool(text) and str(text).split("://", 1)[0].lower() in SCHEMES


def mask_url(url: str) -> str:
    """``url`` with its password (user info and a ``password=`` parameter) replaced by ``***``."""
    try:
        parts = urllib.parse.urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            if ":" in userinfo:
                userinfo = userinfo.split(":", 1)[0] + ":***"
            netloc = f"{userinfo}@{host}"
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        query = [(k, "***" if k.lower() == "password" else v) for k, v in query]
        return urllib.parse.urlunsplit(
            (parts.scheme, netloc, parts.path, urllib.parse.urlencode(query, safe="*/"), "")
        )
    except ValueError:
        return url.split("://", 1)[0] + "://***"


def parse_source(url: str, *, mode: str = "stock") -> DatabaseSource:
    """A ``--source`` URL (see the module docstring); :class:`~toolkit.errors.ConfigError` if malformed."""
    label = mask_url(url)
    if not is_source_url(url):
        raise ConfigError(
            f"数据源 {label!r} 不是 postgresql:// 地址。",
            f"the source {label!r} is not a postgresql:// URL.",
            fix_zh="写成 postgresql://用户:密码@主机:端口/数据库?schema=模式",
            fix_en="use postgresql://USER:PASSWORD@HOST:PORT/DB?schema=SCHEMA",
        )
    try:
        parts = urllib.parse.urlsplit(url)
        password = urllib.parse.unquote(parts.password or "")
        _ = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigError(
            f"数据源地址 {label!r} 无法解析。",
            f"the source URL {label!r} cannot be parsed.",
            fix_zh="检查主机、端口（数字）和特殊字符（密码中的 @ : / 请写成 %40 %3A %2F）。",
            fix_en="check the host, the port (a number) and special characters (write @ : / in the "
            "password as %40 %3A %2F).",
        ) from exc
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in _OURS}
    rest = [(k, v) for k, v in query if k not in _OURS]
    password = password or next((v for k, v in rest if k.lower() == "password"), "")
    batch = ours.get("batch") or None
    if batch is not None and (not _BATCH_NAME.fullmatch(batch) or batch in (".", "..")):
        raise ConfigError(
            f"batch={batch!r} 不是有效的批次名称。",
            f"batch={batch!r} is not a valid batch name.",
            fix_zh="只用字母、数字、- _ .，如 batch=2024-12-31",
            fix_en="use letters, digits, - _ . only, e.g. batch=2024-12-31",
        )
    schema = ours.get("schema") or "public"
    conninfo = urllib.parse.urlunsplit(
        ("postgresql", parts.netloc, parts.path, urllib.parse.urlencode(rest), "")
    )
    return DatabaseSource(
        conninfo=conninfo,
        schema=schema,
        batch=batch or ("stock" if mode == "stock" else schema),
        label=label,
        password=password,
    )


# ------------------------------------------------------------------------------------------------ reading


def _connect(src: DatabaseSource) -> Any:
    import psycopg

    try:
        conn = psycopg.connect(src.conninfo, connect_timeout=15, client_encoding="utf8")
    except psycopg.Error as exc:
        raise SourceError(
            f"无法连接数据库：{src.scrub(str(exc).strip())}",
            f"cannot connect to the database: {src.scrub(str(exc).strip())}",
            path=src.where(),
            fix_zh="请检查主机、端口、数据库名、用户名和密码，以及数据库是否允许本机连接（pg_hba.conf）。",
            fix_en="check the host, port, database, user and password, and that the server accepts "
            "connections from this machine (pg_hba.conf).",
        ) from exc
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    return conn


def _relations(conn: Any, src: DatabaseSource) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = ANY(%s) ORDER BY c.relname",
        [src.schema, list(_RELKINDS)],
    ).fetchall()
    if not rows:
        exists = conn.execute(
            "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s", [src.schema]
        ).fetchone()
        if exists is None:
            raise SourceError(
                f"数据库中没有模式（schema）{printable(src.schema)!r}。",
                f"the database has no schema {printable(src.schema)!r}.",
                path=src.where(),
                fix_zh="请在地址中用 ?schema=模式名 指定存放各表的模式（默认 public）。",
                fix_en="give the schema holding the tables as ?schema=NAME in the URL (default public).",
            )
    return [r[0] for r in rows]


def _columns(conn: Any, src: DatabaseSource, relname: str) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        [src.schema, relname],
    ).fetchall()
    return [r[0] for r in rows]


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _find_tables(
    src: DatabaseSource, relations: Sequence[str], codes: Sequence[str], core: Sequence[str]
) -> dict[str, str]:
    """Table code → relation name, as :func:`toolkit.loading.discover_tables` decides for files."""
    found: dict[str, list[str]] = {}
    lookalikes: list[tuple[str, str]] = []
    for rel in relations:
        code = rel.upper()
        if code in codes:
            found.setdefault(code, []).append(rel)
            continue
        like = _looks_like(rel, list(codes))
        if like is not None:
            lookalikes.append((rel, like))
    for code, rels in found.items():
        if len(rels) > 1:
            names = ", ".join(f"{src.schema}.{printable(r)}" for r in rels)
            raise InputError(
                f"表 {code} 在数据库中有多个同名（仅大小写不同）的表：{names}。",
                f"table {code} matches more than one relation (differing in case only): {names}.",
                path=src.where(),
                fix_zh="每个表只能有一个，请删除或改名多余的表，或把它们放在不同的模式中。",
                fix_en="keep exactly one relation per table: drop or rename the others, or move them to "
                "another schema.",
            )
    conflicts = [(rel, code) for rel, code in lookalikes if code not in found]
    if conflicts:
        shown = "；".join(f"{src.schema}.{printable(r)} 看起来是表 {c}" for r, c in conflicts[:5])
        shown_en = "; ".join(f"{src.schema}.{printable(r)} looks like table {c}" for r, c in conflicts[:5])
        raise MisnamedTableFileError(
            f"数据库中的表名看起来像表代码，但不完全一致：{shown}。这样的表会被当作缺失。",
            f"relation names look like table codes but are not exact: {shown_en}. Such a table would be "
            "taken as absent.",
            path=src.where(),
            fix_zh=f"请把表名改为表代码（大小写不限，如 {conflicts[0][1].lower()}），或建一个同名视图。",
            fix_en=f"rename the relation to the table code (any case, e.g. {conflicts[0][1].lower()}) or "
            "create a view of that name.",
        )
    if not found:
        seen = ", ".join(printable(r) for r in relations[:20]) + (" …" if len(relations) > 20 else "")
        expected = ", ".join(c.lower() for c in codes)
        raise NoKnownTableError(
            f"模式 {printable(src.schema)} 中没有可识别的表。应有以下表之一：{expected}。"
            f"模式中的表：{seen or '无'}。",
            f"no known table in schema {printable(src.schema)}. Expected one of: {expected}. "
            f"Relations found: {seen or 'none'}.",
            path=src.where(),
            fix_zh="请检查 ?schema= 是否指向存放各表的模式，表名是否为表代码。",
            fix_en="check that ?schema= names the schema holding the tables and that they are named by "
            "their table codes.",
        )
    missing_core = [c for c in core if c not in found]
    if missing_core:
        raise SourceTableMissingError(src.where(), missing_core)
    return {code: found[code][0] for code in codes if code in found}


def _check_columns(
    src: DatabaseSource, code: str, rel: str, names: Sequence[str], required: Sequence[str]
) -> None:
    normal = [normalise_header(n) for n in names]
    dup = sorted({n for n in normal if normal.count(n) > 1})
    bad = [n for n in normal if n == ROW_COLUMN or n == ""]
    if dup or bad:
        what = ", ".join(printable(n) for n in dup + bad)
        raise InputError(
            f"表 {src.schema}.{printable(rel)} 的列名重复（不区分大小写）或为保留名：{what}。",
            f"relation {src.schema}.{printable(rel)} has duplicate (case-insensitive) or reserved column "
            f"names: {what}.",
            path=src.where(f"{src.schema}.{rel}"),
            fix_zh="请在查询或视图中给这些列改名后再检查。",
            fix_en="rename those columns (e.g. in a view) and check again.",
        )
    missing = [c for c in (normalise_header(r) for r in required) if c not in normal]
    if missing:
        raise MissingColumnError(src.where(f"{src.schema}.{rel}"), code, missing)


def _spool(conn: Any, src: DatabaseSource, rel: str, names: Sequence[str], out: Path) -> int:
    """COPY one relation, all columns as text, into ``out`` (CSV, UTF-8, header of the column names)."""
    cols = ", ".join(f"{_quote_ident(n)}::text" for n in names)
    sql = f"COPY (SELECT {cols} FROM {_quote_ident(src.schema)}.{_quote_ident(rel)}) TO STDOUT (FORMAT csv)"
    with out.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerow([normalise_header(n) for n in names])
    with conn.cursor() as cur, out.open("ab") as fh:
        buf: list[bytes] = []
        size = 0
        with cur.copy(sql) as copy:
            for data in copy:
                buf.append(bytes(data))
                size += len(data)
                if size >= COPY_CHUNK:
                    fh.write(b"".join(buf))
                    buf, size = [], 0
        fh.write(b"".join(buf))
        return max(cur.rowcount, 0)


def read_database(
    src: DatabaseSource,
    folder: Path,
    tables: Mapping[str, Sequence[str]],
    *,
    core: Sequence[str] = (),
    progress: bool = False,
) -> list[TableRead]:
    """Copy the known tables of ``src`` into ``folder`` as ``<CODE>.csv`` (see the module docstring).

    ``tables``: table code → required columns; ``core``: codes that must be present."""
    import psycopg

    codes = [c.strip().upper() for c in tables]
    required = {c.strip().upper(): list(v) for c, v in tables.items()}
    folder.mkdir(parents=True, exist_ok=True)
    conn = _connect(src)
    reads: list[TableRead] = []
    try:
        with conn.transaction():
            found = _find_tables(src, _relations(conn, src), codes, [c.strip().upper() for c in core])
            plan = []
            for code, rel in found.items():
                names = _columns(conn, src, rel)
                _check_columns(src, code, rel, names, required[code])
                plan.append((code, rel, names))
            for code, rel, names in plan:
                t0 = time.perf_counter()
                rows = _spool(conn, src, rel, names, folder / f"{code}.csv")
                reads.append(
                    TableRead(code, f"{src.schema}.{rel}", list(names), rows, time.perf_counter() - t0)
                )
                if progress:
                    import sys

                    print(
                        f"[source] {src.schema}.{printable(rel)}: {rows:,} 行 / rows, "
                        f"{time.perf_counter() - t0:.1f}s",
                        file=sys.stderr,
                        flush=True,
                    )
    except psycopg.Error as exc:
        raise SourceError(
            f"读取数据库出错：{src.scrub(str(exc).strip())}",
            f"reading the database failed: {src.scrub(str(exc).strip())}",
            path=src.where(),
            fix_zh="请检查该用户对这些表有 SELECT 权限、数据库连接是否稳定，然后重试。",
            fix_en="check that the user may SELECT from these tables and that the connection is stable, "
            "then try again.",
        ) from exc
    finally:
        conn.close()
    src.reads = reads
    return reads


class OpenedBatches(list):
    """The batch folders of :func:`open_batches`; ``sources`` maps the folder of each database source to
    its :class:`DatabaseSource` (with what was read)."""

    def __init__(self, folders: Sequence[Path], sources: Mapping[Path, DatabaseSource]) -> None:
        super().__init__(folders)
        self.sources = dict(sources)


@contextlib.contextmanager
def open_batches(
    inputs: Sequence[str | Path],
    *,
    domain: Any,
    mode: str,
    overlay: str | Path | None = None,
    progress: bool = False,
    work_dir: Path | None = None,
) -> Iterator[OpenedBatches]:
    """Batch folders for ``inputs``: a folder stays itself; a ``postgresql://`` URL is read into a private
    work folder named by its batch (removed when the block ends). ``domain``: a name, a path or a loaded
    :class:`~toolkit.domain.Domain` (its tables, required columns and core tables of ``mode``)."""
    from toolkit.domain import Domain, load_domain
    from toolkit.tempdirs import private_tempdir

    urls = [str(i) for i in inputs if is_source_url(str(i))]
    if not urls:
        yield OpenedBatches([Path(i) for i in inputs], {})
        return
    dom = domain if isinstance(domain, Domain) else load_domain(domain, overlay=overlay)
    req = dom.required_columns()
    tables = {t: req[t] for t in dom.mode_tables(mode)}
    sources = {u: parse_source(u, mode=mode) for u in urls}
    names = [s.batch for s in sources.values()]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(
            f"多个数据源的批次名称相同：{', '.join(dup)}。",
            f"several sources have the same batch name: {', '.join(dup)}.",
            fix_zh="请用 ?batch=名称 给每个数据源不同的批次名称（如日期）。",
            fix_en="give each source its own ?batch=NAME (e.g. its date).",
        )
    with private_tempdir("source", work_dir) as tmp:
        out: list[Path] = []
        opened: dict[Path, DatabaseSource] = {}
        for item in inputs:
            text = str(item)
            if text in sources:
                src = sources[text]
                folder = Path(tmp) / str(src.batch)
                read_database(src, folder, tables, core=dom.core_tables(mode), progress=progress)
                out.append(folder)
                opened[folder] = src
            else:
                out.append(Path(item))
        yield OpenedBatches(out, opened)


def relabel(result: Any, src: DatabaseSource) -> None:
    """After ``dq check`` on a database source: name the source (masked URL) and each table's relation
    instead of the private work folder, which is gone once the command ends (``summary.json``'s
    ``batch`` and ``files``, ``problems.csv``'s ``file``)."""
    batch = getattr(result, "batch", None)
    if batch is None:
        return
    relations = {r.table: r.relation for r in src.reads}
    with contextlib.suppress(AttributeError, TypeError):
        batch.folder = src.label
    renamed: dict[str, str] = {}
    for code, table in (getattr(batch, "tables", None) or {}).items():
        with contextlib.suppress(AttributeError, TypeError):
            renamed[table.path.name] = relations.get(code, f"{src.schema}.{code.lower()}")
            table.path = Path(renamed[table.path.name])
    streamed = getattr(result, "problems_path", None)
    if streamed is not None and getattr(result, "problems_frame", None) is None:
        from toolkit.sheets import relabel_csv_column

        relabel_csv_column(streamed, "file", renamed)  # the engine wrote it already: rewrite in place
        return
    problems = getattr(result, "problems", None)
    if problems is not None and "file" in getattr(problems, "columns", ()):
        problems["file"] = problems["file"].map(lambda f: renamed.get(f, f))


def input_or_source(input_dir: Path | None, source: str | None) -> str | Path:
    """The one batch of a command given ``--input`` or ``--source`` (exactly one of them)."""
    if (input_dir is None) == (source is None):
        raise ConfigError(
            "请给出 --input（批次文件夹）或 --source（postgresql:// 数据库地址）之一。",
            "give exactly one of --input BATCH_DIR or --source postgresql://….",
            fix_zh="例如 --input sample/stock，或 --source 'postgresql://用户@主机/库?schema=模式'",
            fix_en="e.g. --input sample/stock, or --source 'postgresql://USER@HOST/DB?schema=SCHEMA'",
        )
    if source is not None:
        parse_source(source)  # a malformed URL: a ConfigError before any output folder is touched
        return source
    assert input_dir is not None
    return input_dir
