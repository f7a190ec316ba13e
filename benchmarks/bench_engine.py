"""Benchmark the count engine (toolkit.engine) against Great Expectations and a hand-written DuckDB query.

Usage::

    python benchmarks/bench_engine.py [--work DIR] [--sizes 1,10] [--no-gx] [--memory-limit 2GB]

``--sizes`` are stock sizes in millions of QLT_FW_FDCQ_YZ rows (plus ~1.39 holders and 0.25 mortgages per
registration). The 1 M stock is generated once with the sample generator (``dq sample``, ~5 min) and
reused; larger stocks are made from it by DuckDB: k copies whose YWH get the copy number appended (so
registrations, holders and mortgages stay linked, duplicates stay within a copy and every count is exactly
k times the 1 M count — the script checks that).

Each measurement runs in its own process; wall time, CPU time and peak RSS are that process's
(``os.wait4``). Measured:

* ``engine``: :func:`toolkit.engine.count_batches` — the full bdc stock suite (every stock rule of every
  table and view), from the CSV files to the counts;
* ``hand`` / ``hand-stream``: one hand-written DuckDB query computing the counts of the rules of
  QLT_FW_FDCQ_YZ and ZTT_GY_QLR (53 rules: their table rules and the fdcq_links / qlr_links / qlr_shares
  rules), from the same CSV files, with the same memory limit, the same loader semantics (whitespace-only
  = empty) and the same SQL formulations for the checks (so the ratio measures the engine's own
  overhead); ``hand`` reads each CSV once into a materialized CTE, ``hand-stream`` re-reads the CSVs
  where they are used; the faster is the baseline. Their counts are checked against the engine's;
* ``gx``: ``dq check``'s Great Expectations path (:func:`toolkit.check.run_check`), 1 M only.

Not a test; prints a table and the ratios.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

TABLES = ("QLT_FW_FDCQ_YZ", "ZTT_GY_QLR", "QLF_QL_DYAQ")


# ------------------------------------------------------------------------------------------------ data


def ensure_sample(work: Path) -> Path:
    base = work / "s1m"
    if not (base / "stock" / "QLT_FW_FDCQ_YZ.csv").exists():
        from toolkit.samples import generate_sample

        t0 = time.perf_counter()
        print("generating the 1 M stock sample (dq sample --stock-rows 1000000) …", flush=True)
        generate_sample("bdc", base, stock_rows=1_000_000, incremental=False)
        print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
    return base / "stock"


def replicate(src: Path, k: int, work: Path) -> Path:
    """k copies of the 1 M stock, YWH made unique per copy (NULL stays NULL)."""
    if k == 1:
        return src
    dst = work / f"s{k}m" / "stock"
    if all((dst / f"{t}.csv").exists() for t in TABLES):
        return dst
    import duckdb

    dst.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    print(f"replicating the 1 M stock {k}× with DuckDB …", flush=True)
    con = duckdb.connect(config={"memory_limit": "4GB", "preserve_insertion_order": False})
    con.execute("SET enable_progress_bar = false")
    for t in TABLES:
        tmp = dst / f"{t}.csv.part"
        with (src / f"{t}.csv").open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in header) + "}"
        con.execute(
            f"COPY (SELECT c.* REPLACE (CASE WHEN YWH IS NULL THEN NULL ELSE YWH || CAST(r.k AS VARCHAR) END AS YWH) "
            f"FROM read_csv('{src / (t + '.csv')}', columns = {spec}, header = true, "
            f"auto_detect = false, delim = ',', quote = '\"', escape = '\"') c, range({k}) r(k)) "
            f"TO '{tmp}' (FORMAT csv, HEADER true, DELIMITER ',')"
        )
        tmp.rename(dst / f"{t}.csv")
    con.close()
    print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
    return dst


# ------------------------------------------------------------------------------------------------ workers


def worker_engine(batch: Path, out: Path, memory_limit: str, threads: int | None) -> dict:
    from toolkit.engine import count_batches

    res = count_batches(batch, mode="stock", memory_limit=memory_limit, threads=threads, progress=True)
    by_rule = res.counts.groupby("rule_id")[["element_count", "unexpected_count"]].sum()
    by_rule.to_csv(out)
    return {"rows": int(res.files.rows_read.sum()), "gx_rules": len(res.gx_rules)}


def worker_gx(batch: Path, out: Path) -> dict:
    from toolkit.check import run_check

    res = run_check(batch, domain="bdc", mode="stock")
    by_rule = res.counts.groupby("rule_id")[["element_count", "unexpected_count"]].sum()
    by_rule.to_csv(out)
    return {"rows": int(res.batch.rows_read)}


def hand_sql(batch: Path, materialized: bool = True) -> str:
    """The hand-written query (see the module docstring). ``materialized``: each CSV is read once into a
    materialized CTE; else the CTEs are inlined and the CSVs read where they are used."""
    mat = "MATERIALIZED" if materialized else "NOT MATERIALIZED"
    from toolkit.sqlcompile import _isspace_ranges

    ws = "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in _isspace_ranges())

    def norm(c: str) -> str:  # empty or whitespace only -> NULL (as the loader)
        return (
            f"CASE WHEN ({c} < '!' OR ({c} >= chr(133) AND {c} < chr(12289))) "
            f"AND regexp_full_match({c}, '[{ws}]*') THEN NULL ELSE {c} END AS {c}"
        )

    def read(table: str, cols: list[str]) -> str:
        spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
        return (
            f"SELECT {', '.join(norm(c) for c in cols)} FROM read_csv('{batch / (table + '.csv')}', "
            f"columns = {spec}, header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"')"
        )

    fdcq = "YWH BDCDYH QXDM DJLX QLLX FDZL JZMJ BDCQZH SLSJ DJSJ DBR DJJG QSZT".split()
    qlr = "YWH BDCDYH SXH QLRMC ZJZL ZJH QLRLX GYFS QLBL DH QXDM".split()
    dyaq = "YWH BDCDYH QXDM DJLX DYFS BDBZZQSE ZGZQSE ZWLXQSSJ ZWLXJSSJ DYQR SLSJ DJSJ DBR".split()
    from toolkit.sqlcompile import clean_text_regex

    clean = clean_text_regex()  # the Unicode control/format classes, as the engine spells them
    codes = "'100','200','300','400','500','600','700','800','900'"
    dt_ok = (
        "coalesce(CASE length({c}) WHEN 19 THEN CAST(TRY_CAST({c} AS TIMESTAMP) AS VARCHAR) = {c} "
        "WHEN 10 THEN CAST(TRY_CAST({c} AS DATE) AS VARCHAR) = {c} ELSE false END, false)"
    )
    sl_ok, dj_ok = dt_ok.format(c="SLSJ"), dt_ok.format(c="DJSJ")
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    ric_sum = " + ".join(f"((n // {10 ** (16 - i)}) % 10) * {x}" for i, x in enumerate(w))
    ymd = "((n // 1000) % 100000000)"
    today = time.strftime("%Y%m%d")
    ric_ok = (
        f"n IS NOT NULL AND substr('10X98765432', CAST(({ric_sum}) % 11 AS INTEGER) + 1, 1) = substr(ZJH, 18, 1) "
        f"AND {ymd} BETWEEN 19000101 AND {today} AND ({ymd} // 100) % 100 BETWEEN 1 AND 12 "
        f"AND {ymd} % 100 BETWEEN 1 AND CASE ({ymd} // 100) % 100 WHEN 2 THEN CASE WHEN ({ymd} // 10000) % 4 = 0 "
        f"AND (({ymd} // 10000) % 100 <> 0 OR ({ymd} // 10000) % 400 = 0) THEN 29 ELSE 28 END "
        f"WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30 ELSE 31 END"
    )
    uscc = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    uw = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    uscc_sum = " + ".join(f"{x} * (instr('{uscc}', substr(ZJH, {i + 1}, 1)) - 1)" for i, x in enumerate(uw))
    uscc_ok = (
        f"regexp_full_match(ZJH, '[0-9A-HJ-NPQRTUWXY]{{18}}') "
        f"AND substr('{uscc}', ((31 - ({uscc_sum}) % 31) % 31) + 1, 1) = substr(ZJH, 18, 1)"
    )
    unit_ok = (
        "regexp_full_match({c}, '[0-9]{{12}}(?:J[ABSXCDEFHGWYLN]|[GZ][BSXDEFHGWYLN])[0-9]{{5}}"
        "(?:W00000000|[FLQ][0-9]{{8}})') AND substr({c}, 15, 5) <> '00000' "
        "AND (substr({c}, 20, 1) = 'W' OR substr({c}, 21, 8) <> '00000000')"
    )

    def dec_ok(c: str, lo: str, hi: str | None) -> str:
        # plain decimal text, exact: fast path as DECIMAL(18,6), else DECIMAL(38,18) (values here fit)
        return (
            f"CASE WHEN regexp_full_match({c}, '-?[0-9]{{1,12}}(\\.[0-9]{{1,6}})?') THEN "
            f"TRY_CAST({c} AS DECIMAL(18,6)) > {lo}"
            + (f" AND TRY_CAST({c} AS DECIMAL(18,6)) <= {hi}" if hi else "")
            + f" WHEN regexp_full_match({c}, '-?[0-9]+(\\.[0-9]+)?') THEN TRY_CAST({c} AS DECIMAL(38,18)) > {lo}"
            + (f" AND TRY_CAST({c} AS DECIMAL(38,18)) <= {hi}" if hi else "")
            + " ELSE false END"
        )

    def cnt(name: str, where: str, bad: str | None = None) -> str:
        if bad is None:
            return f'count(*) FILTER (WHERE {where}) AS "{name}"'
        return (
            f'count(*) FILTER (WHERE {where}) AS "{name}|e", '
            f'count(*) FILTER (WHERE CASE WHEN {where} THEN {bad} ELSE false END) AS "{name}|u"'
        )

    fd = []
    for c in fdcq:
        cond = "DJLX IN ('100','200','300','500')" if c == "BDCQZH" else "true"
        fd.append(cnt(f"bdc.fdcq.{c.lower()}.required", cond, f"{c} IS NULL"))
    fd += [
        cnt("bdc.fdcq.ywh.unique", "true", "dup_ywh IS NOT NULL"),
        cnt("bdc.fdcq.ywh.length", "true", "YWH IS NOT NULL AND NOT (length(YWH) BETWEEN 1 AND 32)"),
        cnt("bdc.fdcq.bdcdyh.format", "true", f"BDCDYH IS NOT NULL AND NOT ({unit_ok.format(c='BDCDYH')})"),
        cnt(
            "bdc.fdcq.bdcdyh.qxdm_prefix",
            "true",
            "BDCDYH IS NOT NULL AND QXDM IS NOT NULL AND left(BDCDYH, 6) <> left(QXDM, 6)",
        ),
        cnt("bdc.fdcq.qxdm.code", "true", "QXDM IS NOT NULL AND cty_code IS NULL"),
        cnt("bdc.fdcq.djlx.code", "true", f"DJLX IS NOT NULL AND DJLX NOT IN ({codes})"),
        cnt(
            "bdc.fdcq.qllx.code",
            "true",
            "QLLX IS NOT NULL AND QLLX NOT IN (" + ",".join(f"'{i}'" for i in range(1, 23)) + ")",
        ),
        cnt("bdc.fdcq.qszt.code", "true", "QSZT IS NOT NULL AND QSZT NOT IN ('0','1','2','3')"),
        *[
            cnt(
                f"bdc.fdcq.{c.lower()}.clean_text",
                "true",
                f"{c} IS NOT NULL AND regexp_matches({c}, '{clean}')",
            )
            for c in ("FDZL", "DBR", "DJJG")
        ],
        cnt("bdc.fdcq.jzmj.range", "true", f"JZMJ IS NOT NULL AND NOT ({dec_ok('JZMJ', '0', '100000')})"),
        cnt(
            "bdc.fdcq.bdcqzh.format",
            "true",
            "BDCQZH IS NOT NULL AND NOT regexp_matches(BDCQZH, '\\A(?:京|津|沪|渝|冀|豫|云|辽|黑|湘|皖|鲁|新|苏|浙|赣|鄂|桂"
            "|甘|晋|蒙|陕|吉|闽|贵|粤|青|藏|川|宁|琼)\\((?:19|20)[0-9]{2}\\)[\\x{4e00}-\\x{9fa5}]{1,20}不动产权第[0-9]{7}号"
            "(?:\\n?\\z)')",
        ),
        cnt("bdc.fdcq.slsj.datetime", "true", f"SLSJ IS NOT NULL AND NOT {sl_ok}"),
        cnt("bdc.fdcq.djsj.datetime", "true", f"DJSJ IS NOT NULL AND NOT {dj_ok}"),
        cnt(
            "bdc.fdcq.djsj.after_slsj",
            "true",
            f"SLSJ IS NOT NULL AND DJSJ IS NOT NULL AND {sl_ok} AND {dj_ok} "
            "AND NOT (CASE WHEN length(SLSJ) = 10 THEN SLSJ || ' 00:00:00' ELSE SLSJ END "
            "<= CASE WHEN length(DJSJ) = 10 THEN DJSJ || ' 00:00:00' ELSE DJSJ END)",
        ),
        cnt("bdc.fdcq.qlr.present", "true", "YWH IS NOT NULL AND h_ywh IS NULL"),
    ]
    ql = [
        cnt(f"bdc.qlr.{c.lower()}.required", "GYFS = '2'" if c == "QLBL" else "true", f"{c} IS NULL")
        for c in qlr
        if c != "DH"
    ]
    ql += [
        cnt(
            "bdc.qlr.zjzl.code",
            "true",
            "ZJZL IS NOT NULL AND ZJZL NOT IN ('1','2','3','4','5','6','7','8','99')",
        ),
        cnt("bdc.qlr.qlrlx.code", "true", "QLRLX IS NOT NULL AND QLRLX NOT IN ('1','2','3','4','99')"),
        cnt("bdc.qlr.gyfs.code", "true", "GYFS IS NOT NULL AND GYFS NOT IN ('0','1','2','3')"),
        cnt("bdc.qlr.qlrmc.clean_text", "true", f"QLRMC IS NOT NULL AND regexp_matches(QLRMC, '{clean}')"),
        cnt(
            "bdc.qlr.sxh.integer",
            "true",
            "SXH IS NOT NULL AND NOT coalesce(regexp_full_match(SXH, '-?[0-9]{1,30}') AND TRY_CAST(SXH AS HUGEINT) >= 1, "
            "false)",
        ),
        cnt("bdc.qlr.zjh.citizen_id", "ZJZL = '1'", f"ZJH IS NOT NULL AND NOT coalesce({ric_ok}, false)"),
        cnt("bdc.qlr.zjh.credit_code", "ZJZL = '8'", f"ZJH IS NOT NULL AND NOT coalesce({uscc_ok}, false)"),
        cnt("bdc.qlr.qlbl.range", "true", f"QLBL IS NOT NULL AND NOT ({dec_ok('QLBL', '0', '100')})"),
        cnt(
            "bdc.qlr.dh.format",
            "true",
            "DH IS NOT NULL AND NOT regexp_matches(DH, '\\A(?:1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})(?:\\n?\\z)')",
        ),
        cnt("bdc.qlr.qxdm.code", "true", "QXDM IS NOT NULL AND cty_code IS NULL"),
        cnt("bdc.qlr.ywh.exists", "true", "YWH IS NOT NULL AND r_ywh IS NULL"),
        cnt(
            "bdc.qlr.bdcdyh.matches",
            "true",
            "BDCDYH IS NOT NULL AND r_bdcdyh IS NOT NULL AND BDCDYH <> r_bdcdyh",
        ),
    ]
    return f"""
    WITH f AS {mat} ({read("QLT_FW_FDCQ_YZ", fdcq)}),
         q AS {mat} ({read("ZTT_GY_QLR", qlr)}),
         d AS {mat} ({read("QLF_QL_DYAQ", dyaq)}),
         dup AS (SELECT YWH AS dup_ywh FROM f WHERE YWH IS NOT NULL GROUP BY YWH HAVING count(*) > 1),
         holders AS (SELECT DISTINCT YWH AS h_ywh FROM q WHERE YWH IS NOT NULL),
         regs AS (SELECT YWH AS r_ywh, min(BDCDYH) AS r_bdcdyh FROM (SELECT YWH, BDCDYH FROM f UNION ALL
                  SELECT YWH, BDCDYH FROM d) WHERE YWH IS NOT NULL GROUP BY YWH),
         fc AS (SELECT coalesce(f.QXDM, '') AS QXDM, {", ".join(fd)}
                FROM f LEFT JOIN dup ON dup_ywh = f.YWH LEFT JOIN holders ON h_ywh = f.YWH
                LEFT JOIN county ON cty_code = f.QXDM GROUP BY 1),
         qc AS (SELECT coalesce(q.QXDM, '') AS QXDM, {", ".join(ql)}
                FROM (SELECT *, CASE WHEN regexp_full_match(ZJH, '[0-9]{{17}}[0-9X]')
                      THEN TRY_CAST(substr(ZJH, 1, 17) AS BIGINT) END AS n FROM q) q
                LEFT JOIN regs ON r_ywh = q.YWH LEFT JOIN county ON cty_code = q.QXDM GROUP BY 1),
         sc AS (SELECT coalesce(QXDM, '') AS QXDM, count(*) AS "bdc.qlr.qlbl.sum_100|e",
                count(*) FILTER (WHERE s IS NOT NULL AND NOT (s BETWEEN 99.99 AND 100.01)) AS "bdc.qlr.qlbl.sum_100|u"
                FROM (SELECT min(QXDM) AS QXDM, CASE WHEN count(*) = count(CASE WHEN regexp_full_match(QLBL,
                      '-?[0-9]+(\\.[0-9]+)?') THEN TRY_CAST(QLBL AS DECIMAL(38, 10)) END) THEN sum(CASE WHEN
                      regexp_full_match(QLBL, '-?[0-9]+(\\.[0-9]+)?') THEN TRY_CAST(QLBL AS DECIMAL(38, 10)) END) END AS s
                      FROM q WHERE GYFS = '2' AND YWH IS NOT NULL GROUP BY YWH) GROUP BY 1),
         dc AS (SELECT coalesce(QXDM, '') AS QXDM, count(*) AS "dyaq|rows" FROM d GROUP BY 1)
    SELECT * FROM fc FULL JOIN qc USING (QXDM) FULL JOIN sc USING (QXDM) FULL JOIN dc USING (QXDM)
    """


def worker_hand(batch: Path, out: Path, memory_limit: str, threads: int | None, materialized: bool) -> dict:
    import tempfile

    import duckdb
    import pandas as pd

    from toolkit.sqlcompile import county_codes

    with tempfile.TemporaryDirectory(prefix="dq-hand-") as tmp:
        config = {"memory_limit": memory_limit, "temp_directory": tmp, "preserve_insertion_order": False}
        if threads:
            config["threads"] = threads
        con = duckdb.connect(config=config)
        con.execute("SET enable_progress_bar = false")
        con.execute(
            "CREATE TABLE county AS SELECT unnest(CAST(? AS VARCHAR[])) AS cty_code", [list(county_codes())]
        )
        t0 = time.perf_counter()
        df = con.execute(hand_sql(batch, materialized)).df()
        print(f"[hand] query {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        con.close()
    sums = df.drop(columns=["QXDM"]).fillna(0).sum()
    rows = int(sums.pop("dyaq|rows") + sums["bdc.fdcq.ywh.required|e"] + sums["bdc.qlr.ywh.required|e"])
    recs = {}
    for col, v in sums.items():
        rid, kind = col.split("|")
        recs.setdefault(rid, {})["element_count" if kind == "e" else "unexpected_count"] = int(v)
    pd.DataFrame.from_dict(recs, orient="index").rename_axis("rule_id").sort_index().to_csv(out)
    return {"rows": rows}


# ------------------------------------------------------------------------------------------------ driver


def measure(kind: str, batch: Path, out: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--batch", str(batch), "--out", str(out)]
    cmd += ["--memory-limit", args.memory_limit] + (["--threads", str(args.threads)] if args.threads else [])
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    stdout = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"{kind} on {batch} failed (status {status})")
    info = json.loads(stdout.strip().splitlines()[-1])
    return {
        "kind": kind,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
        **info,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "dq-bench-engine")
    p.add_argument("--sizes", default="1,10", help="stock sizes in millions of registrations")
    p.add_argument("--no-gx", action="store_true", help="skip Great Expectations (slow, memory hungry)")
    p.add_argument("--memory-limit", default="1.5GB", help="DuckDB memory limit (engine and hand-written)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--worker", choices=["engine", "gx", "hand", "hand-stream"], help=argparse.SUPPRESS)
    p.add_argument("--batch", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        if a.worker == "engine":
            info = worker_engine(a.batch, a.out, a.memory_limit, a.threads)
        elif a.worker in ("hand", "hand-stream"):
            info = worker_hand(a.batch, a.out, a.memory_limit, a.threads, a.worker == "hand")
        else:
            info = worker_gx(a.batch, a.out)
        print(json.dumps(info))
        return

    import pandas as pd

    a.work.mkdir(parents=True, exist_ok=True)
    base = ensure_sample(a.work)
    sizes = [int(s) for s in a.sizes.split(",")]
    results = []
    counts: dict[tuple[str, int], pd.DataFrame] = {}
    for k in sizes:
        batch = replicate(base, k, a.work)
        kinds = ["engine", "hand", "hand-stream"] + (["gx"] if k == 1 and not a.no_gx else [])
        for kind in kinds:
            out = a.work / f"counts_{kind}_{k}m.csv"
            print(f"[{k} M] {kind} …", flush=True)
            r = measure(kind, batch, out, a)
            r["size"] = k
            results.append(r)
            counts[(kind, k)] = pd.read_csv(out, index_col="rule_id")
            print(
                f"    {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, peak {r['peak_mib']:.0f} MiB", flush=True
            )
        eng = counts[("engine", k)]
        for variant in ("hand", "hand-stream"):
            hand = counts[(variant, k)]
            same = (eng.loc[hand.index] == hand[eng.columns]).all().all()
            print(f"    {variant} counts equal the engine's for its {len(hand)} rules: {same}")
        if ("gx", k) in counts:
            gx = counts[("gx", k)]
            print(
                f"    Great Expectations counts equal the engine's for all {len(gx)} rules: {gx.equals(eng.loc[gx.index])}"
            )
        if k != 1 and ("engine", 1) in counts:
            print(
                f"    counts at {k} M = {k} × counts at 1 M: {(eng == counts[('engine', 1)] * k).all().all()}"
            )

    print()
    print(
        f"{'size':>5} {'what':<12} {'rows read':>12} {'wall s':>8} {'CPU s':>8} {'rows/s':>11} {'peak MiB':>9}"
    )
    for r in results:
        print(
            f"{r['size']:>4}M {r['kind']:<12} {r['rows']:>12,} {r['wall']:>8.1f} {r['cpu']:>8.1f} "
            f"{r['rows'] / r['wall']:>11,.0f} {r['peak_mib']:>9.0f}"
        )
    by = {(r["kind"], r["size"]): r for r in results}
    print()
    for k in sizes:
        e = by[("engine", k)]
        h = min(by[("hand", k)], by[("hand-stream", k)], key=lambda r: r["wall"])
        print(
            f"{k} M: engine / hand-written ({h['kind']}, the faster) wall = {e['wall'] / h['wall']:.2f} "
            f"(target ≤ 1.5), CPU = {e['cpu'] / h['cpu']:.2f}; peak engine {e['peak_mib'] / 1024:.2f} GiB "
            "(target ≤ 2)"
        )
        if ("gx", k) in by:
            print(
                f"{k} M: Great Expectations / engine wall = {by[('gx', k)]['wall'] / e['wall']:.1f} (target ≥ 5)"
            )


if __name__ == "__main__":
    main()
