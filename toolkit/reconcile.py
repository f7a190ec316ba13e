"""Reconciliation of a filed statistics report with the business data (``dq reconcile``).

A pack declares it under ``reconcile:`` in ``domain.yaml`` (the housing provident fund: the monthly report
建金3-1 a centre files, table ``TJBB``)::

    reconcile:
      report: TJBB                                  # the filed report's table
      columns: {unit: CSDM, month: TJNY, line: HC, value: BQZ}
      view: tjbb_links                              # per filed row: COMPUTED and IDENTITY figures
      basis: tjbb_basis                             # the business rows behind each computed figure
      lines: {"101": {unit: 个}, "108": {unit: 万元}, …}   # lines computed from the business data
      amount_lines: ["103", …]                      # lines in 万元 (the others are counts)
      tolerance: {count: 0, amount: 0.01}
      identities: {"114": "103 + 108", …}          # identities on the filed figures
      carry: {"103": "114", …}                      # opening line = last month's closing line

Three checks per filed row, each with a status:

* ``matches`` (computed lines): the filed value against the figure computed from the batch's business
  rows (the view's ``COMPUTED``) — the same comparison as the pack's rules ``<prefix>.<line>.matches``
  (:func:`toolkit.checks.amount_match.amounts_match`, counts exactly, amounts within the tolerance);
* ``identity``: the filed value against the figure the report's identities give (``IDENTITY``), as the
  rules ``<prefix>.<line>.identity``;
* ``carry``: an opening line against last month's filed closing line of the same unit, when last month's
  batch is among the batches given or is the sibling folder named after the previous month
  (``…/2024-11`` next to ``…/2024-12``). This one needs the history, so it is not a rule of ``dq check``.

Status: ``一致`` (agrees), ``不一致`` (differs: a misfiled line), ``无法核对`` (a figure is missing or not
a number — the format rules report that). ``reconcile.csv`` has one row per unit × month × line × check
with the filed value, the expected value, the difference, the unit of the line, the number of business
rows behind a computed figure and the first of them; ``reconcile_basis.csv`` and the second sheet of
``reconcile.xlsx`` list every business row behind every computed figure (table, record key, the key
counted distinct, the amount). Everything written is masked (:class:`~toolkit.masking.Masker`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.checks.amount_match import amounts_match, parse_amount
from toolkit.domain import Domain, load_domain
from toolkit.errors import ConfigError, InputError
from toolkit.loading import ROW_COLUMN, Batch, load_batch
from toolkit.masking import Masker
from toolkit.sheets import frames_to_xlsx, write_csv
from toolkit.views import BATCH_COLUMN, connect, sandbox

__all__ = ["DIFFERS", "OK", "UNCHECKED", "ReconcileResult", "ReconcileSpec", "reconcile", "write_reconcile"]

OK, DIFFERS, UNCHECKED = "一致", "不一致", "无法核对"
#: Business rows named in ``reconcile.csv`` per figure (all of them are in ``reconcile_basis.csv``).
BASIS_SHOWN = 5
COLUMNS = (
    "unit_code",
    "unit_name",
    "batch",
    "month",
    "line",
    "check",
    "filed",
    "expected",
    "difference",
    "line_unit",
    "status",
    "rule_id",
    "basis_rows",
    "basis",
    "row",
)
BASIS_COLUMNS = (
    "unit_code",
    "unit_name",
    "batch",
    "month",
    "line",
    "table",
    "record_key",
    "counted",
    "amount",
)
_MONTH = re.compile(r"([0-9]{4})-?([0-9]{2})")


@dataclass(frozen=True)
class ReconcileSpec:
    report: str
    unit: str
    month: str
    line: str
    value: str
    view: str
    basis: str | None
    rule_prefix: str
    lines: dict[str, str]  # computed line -> unit of measure
    amount_lines: frozenset[str]
    identities: dict[str, str]
    carry: dict[str, str]
    tol_count: Decimal
    tol_amount: Decimal

    def tolerance(self, line: str) -> Decimal:
        return self.tol_amount if line in self.amount_lines else self.tol_count

    def unit_of(self, line: str) -> str:
        return self.lines.get(line) or ("万元" if line in self.amount_lines else "")


def _config_error(zh: str, en: str) -> ConfigError:
    return ConfigError(
        f"domain.yaml 的 reconcile 写法有误：{zh}",
        f"bad reconcile in domain.yaml: {en}",
        fix_zh="参见 toolkit/reconcile.py 开头的示例。",
        fix_en="see the example at the top of toolkit/reconcile.py.",
    )


def reconcile_spec(dom: Domain) -> ReconcileSpec:
    raw = dom.config.get("reconcile")
    if not isinstance(raw, dict):
        raise ConfigError(
            f"领域 {dom.name} 没有可核对的报表（domain.yaml 中没有 reconcile:）。",
            f"domain {dom.name} has no report to reconcile (no reconcile: in domain.yaml).",
            fix_zh="dq reconcile 只用于声明了报表核对的领域包，如 --domain gjj。",
            fix_en="dq reconcile works for packs that declare a report, e.g. --domain gjj.",
        )
    cols = raw.get("columns") or {}
    report = str(raw.get("report", ""))
    if report not in dom.tables:
        raise _config_error(f"没有表 {report}", f"no table {report!r}")
    fields = set(dom.tables[report]["fields"])
    need = ("unit", "month", "line", "value")
    if not isinstance(cols, dict) or any(str(cols.get(k, "")) not in fields for k in need):
        raise _config_error(
            "columns 应给出 unit、month、line、value 四个字段", "columns: unit, month, line, value"
        )
    view, basis = str(raw.get("view", "")), raw.get("basis")
    if view not in dom.views or (basis is not None and str(basis) not in dom.views):
        raise _config_error(f"没有视图 {view} / {basis}", f"no view {view!r} / {basis!r}")
    tol = raw.get("tolerance") or {}
    try:
        tol_count, tol_amount = Decimal(str(tol.get("count", 0))), Decimal(str(tol.get("amount", "0.01")))
    except ArithmeticError as exc:
        raise _config_error("tolerance 应为数字", "tolerance must be numbers") from exc
    lines = {str(k): str((v or {}).get("unit", "")) for k, v in (raw.get("lines") or {}).items()}
    return ReconcileSpec(
        report=report,
        unit=str(cols["unit"]),
        month=str(cols["month"]),
        line=str(cols["line"]),
        value=str(cols["value"]),
        view=view,
        basis=str(basis) if basis is not None else None,
        rule_prefix=str(raw.get("rule_prefix", f"{dom.name}.{report.lower()}")),
        lines=lines,
        amount_lines=frozenset(str(x) for x in raw.get("amount_lines") or []),
        identities={str(k): str(v) for k, v in (raw.get("identities") or {}).items()},
        carry={str(k): str(v) for k, v in (raw.get("carry") or {}).items()},
        tol_count=tol_count,
        tol_amount=tol_amount,
    )


@dataclass
class ReconcileResult:
    domain: Domain
    rows: pd.DataFrame  # COLUMNS, unmasked
    basis: pd.DataFrame  # BASIS_COLUMNS, unmasked
    batches: list[str]
    masker: Masker
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def differences(self) -> pd.DataFrame:
        return self.rows[self.rows.status == DIFFERS]

    @property
    def exit_code(self) -> int:
        return 1 if len(self.differences) else 0


def _month_of(text: Any) -> str | None:
    m = _MONTH.fullmatch(text) if isinstance(text, str) else None
    if m is None or not 1 <= int(m.group(2)) <= 12 or m.group(1) == "0000":
        return None
    return f"{m.group(1)}-{m.group(2)}"


def _previous_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"


def _load(dom: Domain, folder: Path, mode: str, tables: list[str] | None = None) -> Batch:
    required = dom.required_columns()
    wanted = tables or dom.mode_tables(mode)
    return load_batch(folder, {t: required[t] for t in wanted}, core=[] if tables else dom.core_tables(mode))


def _view(dom: Domain, batch: Batch, as_of: dt.datetime | None, names: list[str]) -> dict[str, pd.DataFrame]:
    con = connect(dom, batch, as_of)
    sandbox(con)
    out = {}
    try:
        for name in names:
            df = con.execute(
                f"SELECT * FROM ({dom.views_sql[name]}) ORDER BY CAST({ROW_COLUMN} AS BIGINT)"
            ).df()
            df = df.drop(columns=[BATCH_COLUMN], errors="ignore").astype(object)
            out[name] = df.where(df.notna(), None)
    finally:
        con.close()
    return out


def _compare(filed: Any, expected: Any, tol: Decimal) -> tuple[str, str]:
    a, b = parse_amount(filed), parse_amount(expected)
    if a is None or b is None:
        return UNCHECKED, ""
    ok = amounts_match(filed, expected, tol)
    return (OK if ok else DIFFERS), _plain(a - b)


def _plain(x: Decimal) -> str:
    """``-9.890000`` → ``-9.89``, ``0E-6`` → ``0``."""
    return format(x.normalize(), "f") if x else "0"


def _shown(value: Any) -> Any:
    x = parse_amount(value)
    return value if x is None else _plain(x)


def _filed_closing(frame: pd.DataFrame, spec: ReconcileSpec) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for u, ln, v in zip(frame[spec.unit], frame[spec.line], frame[spec.value], strict=True):
        if u is not None and ln is not None:
            out.setdefault((u, ln), []).append(v)
    return out


def reconcile(
    batch_dirs: list[Path],
    *,
    domain: str | Domain,
    mode: str = "incremental",
    as_of: dt.datetime | None = None,
    overlay: str | Path | None = None,
) -> ReconcileResult:
    """Reconcile the filed report of each batch (see the module docstring)."""
    import time

    from toolkit.check import latest_timestamp

    t0 = time.perf_counter()
    dom = domain if isinstance(domain, Domain) else load_domain(domain, overlay=overlay)
    spec = reconcile_spec(dom)
    folders = sorted({Path(p) for p in batch_dirs}, key=lambda p: p.name)
    if not folders:
        raise InputError(
            "没有给出批次。",
            "no batch given.",
            fix_zh="用 --input 或 --history。",
            fix_en="use --input or --history.",
        )
    rows: list[dict[str, Any]] = []
    basis_rows: list[pd.DataFrame] = []
    filed_by_month: dict[Path, tuple[str | None, dict[tuple[str, str], list[str]]]] = {}
    masker_frames: list[pd.DataFrame] = []
    for folder in folders:
        batch = _load(dom, folder, mode)
        if spec.report not in batch.tables:
            raise InputError(
                f"批次中没有报表 {spec.report}，无法核对。",
                f"the batch has no {spec.report} table to reconcile.",
                path=folder,
                fix_zh=f"月度批次应包含 {spec.report}.csv（报送的统计报表）。",
                fix_en=f"a monthly batch holds {spec.report}.csv (the filed report).",
            )
        masker_frames += [t.frame for t in batch.tables.values()]
        ts = as_of if as_of is not None else latest_timestamp(dom, batch)
        month = ts.strftime("%Y-%m") if ts is not None else _month_of(folder.name)
        views = _view(dom, batch, ts, [spec.view, *([spec.basis] if spec.basis else [])])
        lines = views[spec.view]
        filed_by_month[folder] = (month, _filed_closing(lines, spec))
        if spec.basis:
            b = views[spec.basis]
            basis_rows.append(
                pd.DataFrame(
                    {
                        "unit_code": b[spec.unit],
                        "batch": folder.name,
                        "month": month,
                        "line": b[spec.line],
                        "table": b["SRC_TABLE"],
                        "record_key": b["SRC_KEY"],
                        "counted": b["DISTINCT_KEY"],
                        "amount": b["AMOUNT"],
                    }
                )
            )
        # last month's filed report: among the batches given, else the sibling folder of the previous month
        prev: dict[tuple[str, str], list[str]] | None = None
        if month is not None and spec.carry:
            want = _previous_month(month)
            earlier = [f for f, (m, _) in filed_by_month.items() if m == want]
            if earlier:
                prev = filed_by_month[earlier[0]][1]
            elif (folder.parent / want).is_dir() and (folder.parent / want) not in folders:
                pb = _load(dom, folder.parent / want, mode, tables=[spec.report])
                if spec.report in pb.tables:
                    prev = _filed_closing(pb.tables[spec.report].frame, spec)
        for rec in lines.to_dict("records"):
            u, ln, v = rec[spec.unit], rec[spec.line], rec[spec.value]
            base = {
                "unit_code": u or "",
                "batch": folder.name,
                "month": _month_of(rec[spec.month]) or month or "",
                "line": ln or "",
                "filed": v,
                "line_unit": spec.unit_of(ln or ""),
                "row": rec[ROW_COLUMN],
            }
            if ln in spec.lines:
                status, diff = _compare(v, rec.get("COMPUTED"), spec.tolerance(ln))
                rows.append(
                    {
                        **base,
                        "check": "matches",
                        "expected": _shown(rec.get("COMPUTED")),
                        "difference": diff,
                        "status": status,
                        "rule_id": f"{spec.rule_prefix}.{ln}.matches",
                    }
                )
            if ln in spec.identities:
                status, diff = _compare(v, rec.get("IDENTITY"), spec.tolerance(ln))
                rows.append(
                    {
                        **base,
                        "check": "identity",
                        "expected": _shown(rec.get("IDENTITY")),
                        "difference": diff,
                        "status": status,
                        "rule_id": f"{spec.rule_prefix}.{ln}.identity",
                        "basis": f"{ln} = {spec.identities[ln]}",
                    }
                )
            if ln in spec.carry and prev is not None and u is not None:
                before = prev.get((u, spec.carry[ln]), [])
                expected = before[0] if len(before) == 1 else None
                status, diff = _compare(v, expected, spec.tolerance(ln))
                rows.append(
                    {
                        **base,
                        "check": "carry",
                        "expected": expected,
                        "difference": diff,
                        "status": status,
                        "rule_id": "",
                        "basis": f"{ln} = 上月 {spec.carry[ln]} / last month's {spec.carry[ln]}",
                    }
                )
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "unit_name"])
    basis = (
        pd.concat(basis_rows, ignore_index=True)
        if basis_rows
        else pd.DataFrame(columns=[c for c in BASIS_COLUMNS if c != "unit_name"])
    )
    # the business rows behind each computed figure: how many, and the first few
    if len(basis) and len(out):
        grouped = basis.groupby(["batch", "unit_code", "line"], sort=False)
        n = grouped.size()
        first = grouped.apply(
            lambda g: (
                "; ".join(f"{t}:{k}" for t, k in zip(g["table"], g["record_key"], strict=True))
                if len(g) <= BASIS_SHOWN
                else "; ".join(
                    f"{t}:{k}"
                    for t, k in zip(g["table"][:BASIS_SHOWN], g["record_key"][:BASIS_SHOWN], strict=True)
                )
                + " …"
            ),
            include_groups=False,
        )
        is_matches = out["check"] == "matches"
        keys = list(zip(out["batch"], out["unit_code"], out["line"], strict=True))
        out["basis_rows"] = [n.get(k, 0) if m else None for k, m in zip(keys, is_matches, strict=True)]
        out.loc[is_matches, "basis"] = [first.get(k, "") for k, m in zip(keys, is_matches, strict=True) if m]
    elif len(out):
        out.loc[out["check"] == "matches", "basis_rows"] = 0
    out["basis_rows"] = out["basis_rows"].astype("Int64")
    names = {
        c: dom.unit.name_of(c) if c else "" for c in set(out["unit_code"]) | set(basis["unit_code"].dropna())
    }
    out.insert(1, "unit_name", out["unit_code"].map(names))
    basis.insert(1, "unit_name", basis["unit_code"].map(names))
    order = ["month", "unit_code", "line", "check"]
    out = out.sort_values(order, kind="stable").reset_index(drop=True)
    masker = Masker.for_frames(dom.pii_fields(), masker_frames, dom.key_fields())
    return ReconcileResult(
        domain=dom,
        rows=out,
        basis=basis.reset_index(drop=True),
        batches=[f.name for f in folders],
        masker=masker,
        seconds=time.perf_counter() - t0,
    )


def _mask(frame: pd.DataFrame, masker: Masker) -> pd.DataFrame:
    return frame.apply(lambda col: col.map(masker.text))


def write_reconcile(result: ReconcileResult, out_dir: Path) -> dict[str, Path]:
    """``reconcile.csv``, ``reconcile_basis.csv`` and ``reconcile.xlsx`` (two sheets), masked."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, basis = _mask(result.rows, result.masker), _mask(result.basis, result.masker)
    return {
        "reconcile": write_csv(rows, out_dir / "reconcile.csv"),
        "basis": write_csv(basis, out_dir / "reconcile_basis.csv"),
        "xlsx": frames_to_xlsx({"报表核对": rows, "计算值的业务记录": basis}, out_dir / "reconcile.xlsx"),
    }
