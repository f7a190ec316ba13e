"""Running suites as one Great Expectations checkpoint over a batch's tables and views.

The frames (tables and prepared views) are written as Parquet files into a private temporary folder and
validated through a pandas filesystem data source: one checkpoint, one validation definition per suite.
Results come back with every failing row's ``_ROW`` (result format COMPLETE), then personal data is
masked in the stored results before Data Docs are built from them.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx
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
from toolkit.masking import mask_value

SITE = "dq_site"
_VALUE_KEYS = ("partial_unexpected_list", "unexpected_list")
_DROP_KEYS = (
    "unexpected_index_list",
    "unexpected_index_query",
    "partial_unexpected_index_list",
    "unexpected_rows",
)


@dataclass
class RuleResult:
    rule: Rule
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_rows: list[str]  # _ROW values
    error: str | None = None


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


def _mask_result(result: dict[str, Any], columns: list[str], pii: dict[str, str]) -> None:
    """Mask sample values in one expectation's result dict in place; drop full value and index lists."""

    def mask_one(v: Any) -> Any:
        if isinstance(v, (list, tuple)) and len(columns) == len(v):
            return [mask_value(c, x, pii) for c, x in zip(columns, v, strict=True)]
        return mask_value(columns[0], v, pii) if columns else v

    for key in _DROP_KEYS:
        result.pop(key, None)
    result.pop("unexpected_list", None)
    if "partial_unexpected_list" in result:
        result["partial_unexpected_list"] = [mask_one(v) for v in result["partial_unexpected_list"]]
    if "partial_unexpected_counts" in result:
        result["partial_unexpected_counts"] = [
            {**c, "value": mask_one(c.get("value"))} for c in result["partial_unexpected_counts"]
        ]


def run_checkpoint(
    name: str,
    frames: dict[str, pd.DataFrame],
    rules_by_target: dict[str, list[Rule]],
    *,
    pii: dict[str, str],
    docs_dir: Path | None,
) -> dict[str, RuleResult]:
    """Validate each frame against its rules in one checkpoint; returns results by rule id."""
    context = _context(docs_dir)
    out: dict[str, RuleResult] = {}
    with tempfile.TemporaryDirectory(prefix="dq-gx-") as tmp:
        source = context.data_sources.add_pandas_filesystem(name=f"{name}_batch", base_directory=tmp)
        definitions = []
        for target, rules in rules_by_target.items():
            if not rules:
                continue
            frame = frames[target]
            file = f"{target}.parquet"
            frame.astype("string").to_parquet(Path(tmp) / file, index=False)
            asset = source.add_parquet_asset(name=target)
            bd = asset.add_batch_definition_path(name=target, path=file)
            suite = ExpectationSuite(name=f"{name}.{target}")
            for r in rules:
                cfg = r.expectation_config()
                suite.add_expectation_configuration(ExpectationConfiguration(**cfg))
            suite = context.suites.add(suite)
            definitions.append(
                context.validation_definitions.add(
                    gx.ValidationDefinition(name=f"{name}.{target}", data=bd, suite=suite)
                )
            )
        if not definitions:
            return out
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=name,
                validation_definitions=definitions,
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": [ROW_COLUMN],
                    "return_unexpected_index_query": False,
                },
            )
        )
        result = checkpoint.run()
        by_id = {r.rule_id: r for rules in rules_by_target.values() for r in rules}
        for key, suite_result in result.run_results.items():
            for er in suite_result.results:
                rid = er.expectation_config.meta["rule_id"]
                res = er.result or {}
                exc = er.exception_info or {}
                error = exc.get("exception_message") if exc.get("raised_exception") else None
                rows = [str(d[ROW_COLUMN]) for d in res.get("unexpected_index_list") or []]
                out[rid] = RuleResult(
                    rule=by_id[rid],
                    success=bool(er.success),
                    element_count=int(res.get("element_count") or 0),
                    unexpected_count=int(res.get("unexpected_count") or 0),
                    unexpected_rows=rows,
                    error=error,
                )
                _mask_result(res, _columns_of(er.expectation_config.kwargs), pii)
            suite_result.meta["batch_spec"] = {"path": f"<{key.expectation_suite_identifier.name}>"}
            context.validation_results_store.set(key, suite_result)
        if docs_dir is not None:
            context.build_data_docs(site_names=[SITE])
    return out
