"""The standards of a self-check service, compiled once at start, and the verdict for a business.

:class:`Standards` reads the pack (and overlay) exactly as ``dq check`` does and prepares, once: the
rules of the check mode (both stages apply the pack's ``incremental`` mode — a business is new data —
unless ``selfcheck.mode`` in ``domain.yaml`` names another), a Python evaluation of every rule
(:mod:`toolkit.serve.evaluate`; rules it cannot reproduce exactly are validated by Great Expectations on
the business's rows), the view columns, the business key and the standard's version hash.

The verdict for a business equals what ``dq check`` says about a batch holding exactly the business's
rows (``tests/test_serve_verdicts.py`` runs every business of a sample day through both):

* the rules evaluated are chosen as :func:`toolkit.check.select_rules` chooses them: a rule needing a
  table the business did not send, an optional column no row names, or a view whose tables are absent is
  *not evaluated* (listed with the reason, never counted as passed); cross-table rules over the business's
  own rows (holder present, shares sum to 100, unit number equals the holder's …) are evaluated;
* the as-of is the request's ``as_of`` or else the latest plausible timestamp of the pack's
  ``as_of_fields`` in the business's rows (:func:`toolkit.check.latest_timestamp`);
* ``pass`` is false when a critical rule fails beyond its tolerance; a rule that raised makes the verdict
  ``error`` (``dq check``: exit 2), never ``pass``;
* problems are listed as in ``problems.csv`` (one per failing row × rule, personal data masked by
  :class:`toolkit.masking.Masker` with the business's own person names), ``row`` being the row's position
  in its table's list (1-based).

:class:`Evaluator` runs verdicts on worker threads: the businesses waiting at a moment are given to
DuckDB together (:class:`toolkit.serve.views.ViewRunner`), then each business's rules run in Python.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import queue
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from toolkit import validators
from toolkit.domain import Domain
from toolkit.errors import ConfigError, DQWarning, ServeError, warning_lines
from toolkit.loading import ROW_COLUMN
from toolkit.masking import Masker, person_names
from toolkit.rules import Rule
from toolkit.serve.evaluate import Outcome, RuleEval, compile_rule_eval
from toolkit.serve.payload import STAGES, Business, Limits, row_number
from toolkit.serve.views import ViewJob, ViewRunner

__all__ = ["Evaluator", "Prepared", "Standards", "business_key_columns", "check_mode"]

#: Rule evaluation and Great Expectations touch process-wide state (warning filters, GX's registry):
#: one business's rules at a time (it holds the GIL anyway; DuckDB's part runs outside this lock).
EVAL_LOCK = threading.Lock()
_UNIT_NUMBER_TYPE = "expect_column_values_to_be_valid_unit_number"


def check_mode(domain: Domain) -> str:
    """The check mode self-checks apply (``selfcheck.mode`` of ``domain.yaml``; else ``incremental``, else
    the pack's first mode)."""
    modes = list(domain.config.get("modes") or {})
    wanted = (domain.config.get("selfcheck") or {}).get("mode")
    if wanted:
        domain.mode_tables(str(wanted))  # ConfigError if the pack has no such mode
        return str(wanted)
    if "incremental" in modes:
        return "incremental"
    if not modes:
        raise ConfigError(
            f"领域包 {domain.name} 没有检查模式。",
            f"pack {domain.name} declares no check mode.",
            path=domain.path / "domain.yaml",
        )
    return modes[0]


def business_key_columns(domain: Domain, mode: str) -> list[str]:
    """The columns that identify a business (``selfcheck.business_key`` of ``domain.yaml``; else the record
    key of the mode's first core table, else of its first table)."""
    raw = (domain.config.get("selfcheck") or {}).get("business_key")
    if raw:
        return [str(c) for c in (raw if isinstance(raw, list) else [raw])]
    tables = domain.core_tables(mode) or domain.mode_tables(mode)
    key = domain.record_key(tables[0]) if tables else []
    if not key:
        raise ConfigError(
            f"领域包 {domain.name} 的主表没有记录键，无法识别一件业务。",
            f"pack {domain.name}: its core table has no record key, so a business cannot be identified.",
            path=domain.path / "dictionary.yaml",
            fix_zh="在 dictionary.yaml 中为主表写 key，或在 domain.yaml 中写 selfcheck: {business_key: 字段}。",
            fix_en="give the core table a key in dictionary.yaml, or write selfcheck: {business_key: FIELD} in "
            "domain.yaml.",
        )
    return key


def _version(domain: Domain) -> str:
    text = json.dumps(
        {
            "suites": domain.suites,
            "views": domain.views_sql,
            "overlay": domain.overlay,
            "dictionary": domain.dictionary,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Prepared:
    """A business with what :meth:`Standards.prepare` decided: the rules to evaluate (by id), why the
    others are not evaluated, the views to build, the as-of and the rows with their ``_ROW``."""

    business: Business
    evaluated: list[Rule]
    not_evaluated: dict[str, str]
    views: list[str]
    as_of: Any
    as_of_source: str
    rows: dict[str, list[dict[str, Any]]]
    keys: list[str] = field(default_factory=list)


#: Business shapes (tables and columns sent) whose rule selection is kept.
_SHAPES = 256


class Standards:
    """The pack's rules prepared for self-checks (see the module docstring)."""

    def __init__(self, domain: Domain, *, limits: Limits | None = None) -> None:
        self.domain = domain
        self.limits = limits or Limits()
        self.mode = check_mode(domain)
        self.tables = {t: domain.tables[t] for t in domain.mode_tables(self.mode)}
        self.rules = [r for r in domain.rules if self.mode in r.applies_to]
        if not self.rules:
            raise ConfigError(
                f"领域 {domain.name} 的 {self.mode} 模式没有任何规则。",
                f"domain {domain.name} has no rule for mode {self.mode}.",
            )
        self.evals: dict[str, RuleEval | None] = {r.rule_id: compile_rule_eval(r) for r in self.rules}
        self.gx_rules = sorted(rid for rid, ev in self.evals.items() if ev is None)
        probe = ViewRunner(domain)
        try:
            self.view_columns = dict(probe.columns)
        finally:
            probe.close()
        self.version = _version(domain)
        self.key_columns = business_key_columns(domain, self.mode)
        self.pii = domain.pii_fields()
        self.exempt = domain.key_fields()
        self.name_fields = [f for f, kind in self.pii.items() if kind == "name"]
        self._shapes: dict[tuple, tuple[list[Rule], dict[str, str]]] = {}

    # ------------------------------------------------------------------------------------ listing
    def rules_listing(self) -> list[dict[str, Any]]:
        """The rules that apply, for ``GET /v1/{domain}/rules``."""
        return [
            {
                "rule_id": r.rule_id,
                "table": r.table,
                "field": r.field,
                "dimension": r.dimension,
                "severity": r.severity,
                "stages": list(STAGES),
                "requires": r.requires,
                "message_zh": r.meta.get("message_zh", ""),
                "fix_zh": r.meta.get("fix_zh", ""),
                "standard": r.meta.get("standard", ""),
                "engine": "gx" if r.rule_id in self.gx_rules else "python",
            }
            for r in self.rules
        ]

    # ------------------------------------------------------------------------------------ prepare
    def business_keys(self, business: Business) -> list[str]:
        """The business-key values of the business's rows (distinct, in order of appearance)."""
        out: list[str] = []
        for code, rows in business.tables.items():
            if not all(c in self.tables[code]["fields"] for c in self.key_columns):
                continue
            for row in rows:
                parts = [row.get(c) for c in self.key_columns]
                if all(p is not None for p in parts):
                    key = "|".join(str(p) for p in parts)
                    if key not in out:
                        out.append(key)
        return out

    def _as_of(self, business: Business) -> tuple[Any, str]:
        if business.as_of is not None:
            return business.as_of, "given"
        best = None
        for table, fields in (self.domain.config.get("as_of_fields") or {}).items():
            if table not in business.tables:
                continue
            cols = business.columns[table]
            for f in fields:
                if f not in cols:
                    continue
                lo, hi = self.domain.plausible_years(table, f)
                for row in business.tables[table]:
                    v = row.get(f)
                    if v is None:
                        continue
                    ts = validators.parse_datetime(v)
                    if ts is not None and lo <= ts.year <= hi and (best is None or ts > best):
                        best = ts
        return best, "latest timestamp in batch"

    def prepare(self, business: Business) -> Prepared:
        """Choose the rules (as :func:`toolkit.check.select_rules`); a business on which no rule can be
        evaluated is refused (422), as ``dq check`` refuses such a batch."""
        evaluated, not_evaluated = self._select(business)
        if not evaluated:
            where = f"items[{business.item}].tables" if business.item is not None else "tables"
            raise ServeError(
                422,
                "nothing_to_check",
                "这件业务的数据上没有一条规则能够执行，检查结果不能算作通过。",
                "no rule could be evaluated on this business's rows, so it cannot pass.",
                where=where,
                fix_zh="请给出该业务所需的表和字段（规则及所需的表见 GET /v1/{domain}/rules）。",
                fix_en="send the tables and fields the rules need (see GET /v1/{domain}/rules).",
            )
        views = sorted({r.target for r in evaluated if r.target in self.domain.views})
        as_of, source = self._as_of(business)
        rows = {
            code: [{**row, ROW_COLUMN: row_number(i)} for i, row in enumerate(rs)]
            for code, rs in business.tables.items()
        }
        return Prepared(
            business=business,
            evaluated=list(evaluated),
            not_evaluated=dict(not_evaluated),
            views=views,
            as_of=as_of,
            as_of_source=source,
            rows=rows,
            keys=self.business_keys(business),
        )

    def _select(self, business: Business) -> tuple[list[Rule], dict[str, str]]:
        """The rules that can be evaluated on the tables and columns a business sent (and why the others
        cannot). It depends on that shape only — a registration system sends the same shape every time —
        so it is kept per shape (at most :data:`_SHAPES` of them)."""
        shape = tuple(sorted((t, tuple(sorted(business.columns[t]))) for t in business.tables))
        hit = self._shapes.get(shape)
        if hit is None:
            hit = self._select_for(business)
            if len(self._shapes) >= _SHAPES:
                self._shapes.clear()
            self._shapes[shape] = hit
        return hit

    def _select_for(self, business: Business) -> tuple[list[Rule], dict[str, str]]:
        present = set(business.tables)
        built = {
            name
            for name, spec in self.domain.views.items()
            if all(t in present for t in spec.get("tables", []))
        }
        frame_columns: dict[str, set[str]] = {t: set(business.columns[t]) | {ROW_COLUMN} for t in present}
        for name in built:
            frame_columns[name] = set(self.view_columns.get(name, []))
        not_evaluated: dict[str, str] = {}
        evaluated: list[Rule] = []
        for r in self.rules:
            missing = [t for t in r.requires if t not in present]
            absent_cols = [
                c for c in r.requires_columns if r.table in present and c not in frame_columns[r.table]
            ]
            if missing:
                not_evaluated[r.rule_id] = f"缺少表 / table absent: {', '.join(missing)}"
                continue
            if absent_cols:
                not_evaluated[r.rule_id] = f"缺少列 / column absent: {', '.join(absent_cols)}"
                continue
            if r.target not in frame_columns:
                not_evaluated[r.rule_id] = f"无法生成视图 / view not built: {r.target}"
                continue
            cond = r.condition
            used = [
                *(r.kwargs.get(k) for k in ("column", "column_A", "column_B")),
                *(cond.columns if cond else []),
            ]
            absent = [c for c in used if isinstance(c, str) and c not in frame_columns[r.target]]
            if absent:
                not_evaluated[r.rule_id] = f"缺少列 / column absent: {', '.join(absent)}"
                continue
            evaluated.append(r)
        return evaluated, not_evaluated

    # ------------------------------------------------------------------------------------ verdict
    def _gx(
        self,
        prepared: Prepared,
        rules: list[Rule],
        frames_rows: dict[str, list[dict[str, Any]]],
        masker: Masker,
    ):
        """Great Expectations on the business's rows for the rules Python does not evaluate."""
        import pandas as pd

        from toolkit.gx_run import run_checkpoint

        by_target: dict[str, list[Rule]] = {}
        for r in rules:
            by_target.setdefault(r.target, []).append(r)
        frames = {}
        for target in by_target:
            rows = frames_rows[target]
            cols = (
                [*prepared.business.columns[target], ROW_COLUMN]
                if target in prepared.business.columns
                else self.view_columns[target]
            )
            frames[target] = pd.DataFrame(
                [[r.get(c) for c in cols] for r in rows], columns=cols, dtype=object
            )
        results = run_checkpoint(
            f"{self.domain.name}_selfcheck", frames, by_target, masker=masker, docs_dir=None
        )
        out: dict[str, Outcome] = {}
        for rid, res in results.items():
            target_rows = frames_rows[res.rule.target]
            where = {}
            for pos, row in enumerate(target_rows):
                where.setdefault(str(row.get(ROW_COLUMN)), pos)
            out[rid] = Outcome(
                res.element_count,
                [where[r] for r in res.unexpected_rows if r in where],
                res.success,
                res.error,
            )
        return out

    def verdict(self, prepared: Prepared, view_rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        """The answer for one prepared business, given its views' rows (see the module docstring)."""
        biz = prepared.business
        names: set[str] = set()
        for rows in biz.tables.values():
            for f in self.name_fields:
                names |= person_names(row.get(f) for row in rows)
        masker = Masker(self.pii, names, self.exempt)
        frames_rows: dict[str, list[dict[str, Any]]] = {**prepared.rows, **view_rows}
        results: dict[str, Outcome] = {}
        gx: list[Rule] = []
        with EVAL_LOCK, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DQWarning)
            for r in prepared.evaluated:
                ev = self.evals[r.rule_id]
                if ev is None:
                    gx.append(r)
                    continue
                try:
                    results[r.rule_id] = ev.run(frames_rows[r.target])
                except Exception as exc:  # as Great Expectations catches a metric's exception
                    results[r.rule_id] = Outcome(0, [], False, masker.text(f"{type(exc).__name__}: {exc}"))
            if gx:
                results.update(self._gx(prepared, gx, frames_rows, masker))
        not_evaluated = dict(prepared.not_evaluated)
        for rid, res in results.items():
            if res.error:
                not_evaluated[rid] = f"规则执行出错 / rule raised: {res.error}"
        by_id = {r.rule_id: r for r in prepared.evaluated}
        failed = sorted(rid for rid, res in results.items() if not res.success)
        critical = [rid for rid in failed if by_id[rid].severity == "critical"]
        errors = sorted(rid for rid, res in results.items() if res.error)
        problems = self._problems(prepared, frames_rows, results, by_id, masker)
        verdict = "error" if errors else "fail" if critical else "pass"
        return {
            "pass": verdict == "pass",
            "verdict": verdict,
            "stage": biz.stage,
            "business_keys": [masker.text(k) for k in prepared.keys],
            "problems": problems,
            "checked_rules": len(self.rules) - len(not_evaluated),
            "failed_rules": failed,
            "critical_failures": critical,
            "errors": errors,
            "not_evaluated": [{"rule_id": rid, "reason": why} for rid, why in not_evaluated.items()],
            "as_of": prepared.as_of.isoformat(sep=" ") if prepared.as_of is not None else None,
            "as_of_source": prepared.as_of_source,
            "warnings": list(dict.fromkeys(masker.text(w) for w in warning_lines(caught))),
            "standard_version": self.version,
        }

    def _problems(
        self,
        prepared: Prepared,
        frames_rows: dict[str, list[dict[str, Any]]],
        results: dict[str, Outcome],
        by_id: dict[str, Rule],
        masker: Masker,
    ) -> list[dict[str, Any]]:
        """As :func:`toolkit.check._problems`: one entry per failing row × rule, masked."""
        from toolkit.validators import unit_number_problem

        out = []
        unit = self.domain.unit
        seen: dict[str, str] = {}
        if unit.names.startswith("column:"):  # as toolkit.check.unit_names: names read from the data
            name_col = unit.names.split(":", 1)[1]
            for table, rows in frames_rows.items():
                col = unit.column_of(table)
                for row in rows:
                    code, name = row.get(col), row.get(name_col)
                    if code is not None and name is not None:
                        seen.setdefault(code, name)
        for rid in sorted(results):
            res = results[rid]
            if not res.unexpected:
                continue
            rule = by_id[rid]
            target_rows = frames_rows[rule.target]
            base = {r[ROW_COLUMN]: r for r in prepared.rows.get(rule.table, [])}
            key_cols = self.domain.record_key(rule.table)
            ucol, ucol_base = unit.column_of(rule.target), unit.column_of(rule.table)
            col = rule.kwargs.get("column") or rule.kwargs.get("column_A")
            for pos in res.unexpected:
                rec = target_rows[pos]
                row_id = rec.get(ROW_COLUMN)
                brow = base.get(row_id, rec)
                if rule.field in rec and rule.field != ROW_COLUMN:
                    value = rec[rule.field]
                elif col in rec:
                    value = rec[col]
                else:
                    value = brow.get(rule.field)
                detail = ""
                if rule.type == _UNIT_NUMBER_TYPE and isinstance(value, str):
                    detail = unit_number_problem(value) or ""
                unit_code = rec.get(ucol) or brow.get(ucol_base) or ""
                out.append(
                    {
                        "rule_id": rid,
                        "table": rule.table,
                        "field": rule.field,
                        "row": int(row_id) if str(row_id).isdigit() else None,
                        "severity": rule.severity,
                        "dimension": rule.dimension,
                        "message_zh": rule.meta.get("message_zh", ""),
                        "fix_zh": rule.meta.get("fix_zh", ""),
                        "detail_zh": masker.text(detail),
                        "value_masked": masker.value(rule.field, value),
                        "record_key": "|".join(str(masker.value(k, brow.get(k)) or "") for k in key_cols),
                        "unit_code": masker.text(unit_code),
                        "unit_name": unit.name_of(unit_code, seen) if unit_code else "",
                    }
                )
        return out


# ------------------------------------------------------------------------------------------------ evaluator


@dataclass
class _Job:
    prepared: list[Prepared]
    future: concurrent.futures.Future


class Evaluator:
    """Worker threads that answer prepared businesses (see the module docstring). ``submit`` returns a
    future of the verdicts, in order. Each worker owns a :class:`ViewRunner`; a worker takes every job
    waiting when it becomes free (up to ``max_rows`` rows) and builds their views in one DuckDB pass."""

    def __init__(self, standards: Standards, *, workers: int = 2, max_rows: int = 20_000) -> None:
        self.standards = standards
        self.max_rows = max_rows
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = []
        self.passes = 0
        self.businesses = 0
        self._closed = False
        runners = [ViewRunner(standards.domain) for _ in range(max(1, workers))]
        for i, runner in enumerate(runners):
            t = threading.Thread(target=self._work, args=(runner,), name=f"dq-selfcheck-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def submit(self, prepared: Sequence[Prepared]) -> concurrent.futures.Future:
        if self._closed:
            raise RuntimeError("the evaluator is closed")
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put(_Job(list(prepared), fut))
        return fut

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=5)

    def _work(self, runner: ViewRunner) -> None:
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    return
                jobs = [job]
                rows = sum(p.business.rows for p in job.prepared)
                while rows < self.max_rows:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._queue.put(None)
                        break
                    jobs.append(more)
                    rows += sum(p.business.rows for p in more.prepared)
                self._answer(runner, jobs)
        finally:
            runner.close()

    def _answer(self, runner: ViewRunner, jobs: list[_Job]) -> None:
        live = [j for j in jobs if j.future.set_running_or_notify_cancel()]
        flat = [p for j in live for p in j.prepared]
        try:
            views = runner.run([ViewJob(p.rows, p.as_of, p.views) for p in flat])
        except Exception as exc:
            for j in live:
                j.future.set_exception(exc)
            return
        self.passes += 1
        self.businesses += len(flat)
        k = 0
        for j in live:
            try:
                answers = []
                for p in j.prepared:
                    answers.append(self.standards.verdict(p, views[k]))
                    k += 1
                j.future.set_result(answers)
            except Exception as exc:
                k = sum(len(x.prepared) for x in live[: live.index(j) + 1])
                j.future.set_exception(exc)
