"""Running suites with Great Expectations over a batch's tables and views, and building Data Docs.

Each frame (a table or a prepared view) is validated in memory through a pandas data source: one
validation definition per suite, run with the frame as its batch. Nothing of the batch is written to
disk (no temporary copies of personal data). Results come back with every failing row's ``_ROW``
(result format COMPLETE); then, before anything is stored or rendered:

* full value and index lists are dropped, sample values are masked by :class:`toolkit.masking.Masker`
  (personal-data classes and free-text scrubbing);
* every text from the data or from a pack/overlay that Data Docs would show (sample values, expectation
  keywords, meta) is HTML-escaped, because Great Expectations' renderer inserts some of them as raw HTML;
* the pages get a restrictive Content-Security-Policy (no scripts from anywhere but the page's own
  origin, no inline event handlers run from data) — see :func:`harden_docs`.

Some metric errors are reported by Great Expectations per expectation without ``raised_exception``
(e.g. an ``element_count`` missing from the result): such a rule is *not evaluated* with the reason,
never counted as 0 of 0.
"""

# ruff: noqa: E402  (Great Expectations is imported through toolkit.gx_import before the rest)
from __future__ import annotations

import html
import io
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from toolkit.gx_import import import_great_expectations

gx = import_great_expectations()  # first, so that the imports below find it loaded

import pandas as pd
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

import toolkit.gx_expectations  # noqa: F401  (registers the custom expectations)
from toolkit.domain import Rule
from toolkit.loading import ROW_COLUMN
from toolkit.masking import Masker
from toolkit.results import RuleResult

__all__ = ["CSP", "RuleResult", "docs_from_results", "harden_docs", "run_checkpoint"]

SITE = "dq_site"
_DROP_KEYS = (
    "unexpected_list",
    "unexpected_index_list",
    "unexpected_index_query",
    "partial_unexpected_index_list",
    "unexpected_rows",
)

#: Content-Security-Policy of every Data Docs page: scripts and styles only from the page's own folder or
#: inline ones that Great Expectations itself writes (data is escaped, so no injected markup survives),
#: no plug-ins, no form posts, no framing; images from the folder and data: URLs.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; connect-src 'none'"
)


def _context(docs_dir: Path | None):
    sites = {}
    if docs_dir is not None:
        sites[SITE] = {
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(Path(docs_dir).resolve()),
            },
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        data_docs_sites=sites,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    return [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]


def _escape(value: Any) -> Any:
    """HTML-escape every string inside ``value`` (lists, dicts and scalars)."""
    if isinstance(value, str):
        return html.escape(value, quote=True)
    if isinstance(value, list):
        return [_escape(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_escape(v) for v in value)
    if isinstance(value, dict):
        return {k: _escape(v) for k, v in value.items()}
    return value


def _mask_result(result: dict[str, Any], columns: list[str], masker: Masker) -> None:
    """Mask and escape the sample values in one expectation's result dict in place; drop full lists."""

    def mask_one(v: Any) -> Any:
        if isinstance(v, (list, tuple)) and len(columns) == len(v):
            return [_escape(masker.value(c, x)) for c, x in zip(columns, v, strict=True)]
        return _escape(masker.value(columns[0], v) if columns else masker.text(v))

    for key in _DROP_KEYS:
        result.pop(key, None)
    if "partial_unexpected_list" in result:
        result["partial_unexpected_list"] = [mask_one(v) for v in result["partial_unexpected_list"]]
    if "partial_unexpected_counts" in result:
        result["partial_unexpected_counts"] = [
            {**c, "value": mask_one(c.get("value"))} for c in result["partial_unexpected_counts"]
        ]


def _raised(exception_info: Any) -> str | None:
    """The exception message Great Expectations recorded for an expectation: at the top level, or — for
    errors of a metric, which it does not mark as ``raised_exception`` of the expectation — per metric."""
    if not isinstance(exception_info, dict):
        return None
    if exception_info.get("raised_exception"):
        return str(exception_info.get("exception_message") or "exception")
    for value in exception_info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return f"metric error: {value.get('exception_message') or 'exception'}"
    return None


def _metric_error(res: dict[str, Any], rule: Rule) -> str | None:
    """Why a result without ``raised_exception`` still cannot be trusted, or ``None``."""
    if "element_count" not in res or res.get("element_count") is None:
        return "Great Expectations 未返回适用行数 / no element_count in the result (metric error)"
    if res.get("unexpected_count") is None and rule.type != "expect_column_values_to_not_be_null":
        return "Great Expectations 未返回问题行数 / no unexpected_count in the result (metric error)"
    return None


def _frame_for_gx(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as Great Expectations reads a text Parquet file: every column a string column. Done
    in memory (a Parquet round trip through a buffer gives exactly the dtypes a file would)."""
    buf = io.BytesIO()
    frame.astype("string").to_parquet(buf, index=False)
    buf.seek(0)
    return pd.read_parquet(buf)


def run_checkpoint(
    name: str,
    frames: dict[str, pd.DataFrame],
    rules_by_target: dict[str, list[Rule]],
    *,
    masker: Masker,
    docs_dir: Path | None,
) -> dict[str, RuleResult]:
    """Validate each frame against its rules; returns results by rule id. With ``docs_dir`` the masked,
    escaped results are rendered as Data Docs there."""
    context = _context(docs_dir)
    out: dict[str, RuleResult] = {}
    source = context.data_sources.add_pandas(name=f"{name}_batch")
    result_format = {
        "result_format": "COMPLETE",
        "unexpected_index_column_names": [ROW_COLUMN],
        "return_unexpected_index_query": False,
    }
    by_id = {r.rule_id: r for rules in rules_by_target.values() for r in rules}
    for target, rules in rules_by_target.items():
        if not rules:
            continue
        asset = source.add_dataframe_asset(name=target)
        bd = asset.add_batch_definition_whole_dataframe(target)
        suite = ExpectationSuite(name=f"{name}.{target}")
        for r in rules:
            suite.add_expectation_configuration(ExpectationConfiguration(**r.expectation_config()))
        suite = context.suites.add(suite)
        vd = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{name}.{target}", data=bd, suite=suite)
        )
        suite_result = vd.run(
            batch_parameters={"dataframe": _frame_for_gx(frames[target])}, result_format=result_format
        )
        for er in suite_result.results:
            rid = er.expectation_config.meta["rule_id"]
            res = er.result or {}
            error = _raised(er.exception_info)
            if error is None:
                error = _metric_error(res, by_id[rid])
            rows = [str(d[ROW_COLUMN]) for d in res.get("unexpected_index_list") or []]
            out[rid] = RuleResult(
                rule=by_id[rid],
                success=bool(er.success) and error is None,
                element_count=int(res.get("element_count") or 0),
                unexpected_count=int(res.get("unexpected_count") or 0),
                unexpected_rows=rows,
                error=masker.text(error) if error else None,
            )
            _mask_result(res, _columns_of(er.expectation_config.kwargs), masker)
            if er.exception_info:
                er.exception_info = _escape(
                    {k: masker.text(v) if isinstance(v, str) else v for k, v in er.exception_info.items()}
                )
            er.expectation_config.kwargs.update(_escape(dict(er.expectation_config.kwargs)))
            er.expectation_config.meta = _escape(dict(er.expectation_config.meta))
        suite_result.meta["batch_spec"] = {"path": f"<{html.escape(target)}>"}
        suite_result.meta.pop("batch_parameters", None)
        for key in context.validation_results_store.list_keys():
            if key.expectation_suite_identifier.name == suite.name:
                context.validation_results_store.set(key, suite_result)  # the masked result replaces it
    if docs_dir is not None and out:
        context.build_data_docs(site_names=[SITE])
        harden_docs(Path(docs_dir))
    return out


def docs_from_results(
    name: str,
    results: dict[str, RuleResult],
    samples: dict[str, list[Any]],
    *,
    masker: Masker,
    docs_dir: Path,
) -> None:
    """Data Docs built by Great Expectations from the count engine's results (:mod:`toolkit.gate`):
    one :class:`ExpectationSuiteValidationResult` per target, one :class:`ExpectationValidationResult`
    per rule with its counts and a few failing values (already masked by the engine; escaped here),
    stored in the context's validation results store and rendered by its site builder — Great
    Expectations validates nothing here. The pages are then made to work offline (:func:`harden_docs`)."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context = _context(docs_dir)
    run_id = RunIdentifier(run_name=f"{name}-engine")
    by_target: dict[str, list[RuleResult]] = {}
    for res in results.values():
        by_target.setdefault(res.rule.target, []).append(res)
    for target, rows in sorted(by_target.items()):
        suite_name = f"{name}.{target}"
        evrs = []
        for res in sorted(rows, key=lambda r: r.rule.rule_id):
            rule = res.rule
            cfg = ExpectationConfiguration(**rule.expectation_config())
            cfg.kwargs.update(_escape(dict(cfg.kwargs)))
            cfg.meta = _escape(dict(cfg.meta))
            values = [_escape(masker.text(v)) for v in samples.get(rule.rule_id, [])]
            n, u = res.element_count, res.unexpected_count
            counted = dict(Counter(values))
            result: dict[str, Any] = {
                "element_count": n,
                "unexpected_count": u,
                "unexpected_percent": (100.0 * u / n) if n else 0.0,
                "partial_unexpected_list": values,
                "partial_unexpected_counts": [
                    {"value": v, "count": c} for v, c in sorted(counted.items(), key=lambda kv: -kv[1])
                ],
            }
            exception_info = None
            if res.error:
                exception_info = {
                    "raised_exception": True,
                    "exception_message": _escape(masker.text(res.error)),
                    "exception_traceback": None,
                }
            evrs.append(
                ExpectationValidationResult(
                    success=res.success,
                    expectation_config=cfg,
                    result=result,
                    exception_info=exception_info,
                )
            )
        ok = sum(1 for e in evrs if e.success)
        suite_result = ExpectationSuiteValidationResult(
            success=ok == len(evrs),
            results=evrs,
            suite_name=suite_name,
            statistics={
                "evaluated_expectations": len(evrs),
                "successful_expectations": ok,
                "unsuccessful_expectations": len(evrs) - ok,
                "success_percent": 100.0 * ok / len(evrs) if evrs else None,
            },
            meta={
                "active_batch_definition": {
                    "datasource_name": "dq-toolkit",
                    "data_asset_name": html.escape(target),
                },
                "batch_spec": {"path": f"<{html.escape(target)}>"},
                "run_id": run_id.to_json_dict(),
                "validation_time": run_id.run_time.strftime("%Y%m%dT%H%M%S.%fZ"),
                "engine": "dq-toolkit count engine (DuckDB)",
            },
        )
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
            run_id=run_id,
            batch_identifier=f"{target}-engine",
        )
        context.validation_results_store.set(key, suite_result)
    context.build_data_docs(site_names=[SITE])
    harden_docs(Path(docs_dir))


_HEAD = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)
#: Local copies of the assets Data Docs load from CDNs (``toolkit/static/datadocs``, see its README).
VENDOR = Path(__file__).resolve().parent / "static" / "datadocs"
_REMOTE_TAG = re.compile(
    r"<(script|link|img)\b[^>]*?\b(?:src|href)=\"(https?:)?//[^\"]*\"[^>]*?>(?:\s*</script>)?", re.IGNORECASE
)
_REMOTE_HREF = re.compile(r"\bhref=\"(https?:)?//[^\"]*\"", re.IGNORECASE)
_REMOTE_URL = re.compile(r"url\(\s*['\"]?(https?:)?//[^)]*\)", re.IGNORECASE)


def _local_asset(tag: str) -> str | None:
    """The shipped file a CDN ``<script>``/``<link>`` tag loads, or ``None`` (then the tag is dropped)."""
    url = re.search(r"(?:src|href)=\"([^\"]+)\"", tag, re.IGNORECASE)
    name = url.group(1).rsplit("/", 1)[-1].split("?")[0] if url else ""
    return name if name and (VENDOR / name).is_file() else None


def harden_docs(docs_dir: Path) -> None:
    """Make every Data Docs page work offline and refuse injected scripts: CDN scripts and stylesheets
    are replaced by the shipped copies (``static/vendor/`` beside the pages), every other remote
    resource or link is removed — no page references a remote URL — and the :data:`CSP` meta tag is
    added."""
    vendor = docs_dir / "static" / "vendor"
    vendor.mkdir(parents=True, exist_ok=True)
    for f in VENDOR.rglob("*"):
        if f.is_file():
            target = vendor / f.relative_to(VENDOR)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.read_bytes())
    for sheet in docs_dir.rglob("*.css"):
        css = sheet.read_text(encoding="utf-8")
        if _REMOTE_URL.search(css):
            sheet.write_text(_REMOTE_URL.sub("none", css), encoding="utf-8")
    tag = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    for page in docs_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        prefix = "../" * (len(page.relative_to(docs_dir).parts) - 1)

        def local(m: re.Match[str], prefix: str = prefix) -> str:
            name = _local_asset(m.group(0))
            if name is None:
                return ""
            if m.group(1).lower() == "script":
                return f'<script src="{prefix}static/vendor/{name}"></script>'
            return f'<link rel="stylesheet" href="{prefix}static/vendor/{name}">'

        text = _REMOTE_TAG.sub(local, text)
        text = _REMOTE_HREF.sub('href="#"', text)
        text = _REMOTE_URL.sub("none", text)
        if "Content-Security-Policy" not in text:
            text = _HEAD.sub(lambda m: m.group(0) + tag, text, count=1)
        page.write_text(text, encoding="utf-8")
