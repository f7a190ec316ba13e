"""``--engine spark``: the engine's compiled rules transpiled to Spark SQL (:mod:`toolkit.spark`) give the
same counts as DuckDB, rule by rule and unit by unit, on the sample of every shipped pack (local Spark,
``local[2]``). Skips, saying why, without pyspark or a Java runtime (``.ci/run`` installs one)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pandas as pd
import pytest

from toolkit.domain import EXPECTATIONS_DIR
from toolkit.engine import count_batches
from toolkit.samples import generate_sample

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="pyspark is not installed"),
    pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime (Spark needs Java 17+)"),
]

PACKS = sorted(p.parent.name for p in EXPECTATIONS_DIR.glob("*/domain.yaml"))
SMALL = {"bdc": {"districts": 4, "days": 2, "stock_rows": 600}}
KEY = ["batch", "unit_code", "rule_id"]


@pytest.fixture(scope="module")
def spark():
    from toolkit.spark import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for pack in PACKS:
        root = tmp_path_factory.mktemp(pack)
        options = SMALL.get(pack, {"districts": 4, "stock_rows": 600, "incremental": False})
        generate_sample(pack, root, seed=5, **options)
        out[pack] = root / "stock"
    return out


def _counted(frame: pd.DataFrame) -> pd.DataFrame:
    """Evaluated rows that count something (a unit with no row for a rule is absent or all zeros)."""
    keep = frame[frame["evaluated"] & ((frame["element_count"] > 0) | (frame["unexpected_count"] > 0))]
    cols = [*KEY, "element_count", "unexpected_count"]
    types = {**dict.fromkeys(KEY, str), "element_count": "int64", "unexpected_count": "int64"}
    return keep[cols].astype(types).sort_values(KEY)


@pytest.mark.parametrize("pack", PACKS)
def test_spark_counts_equal_duckdb(pack, samples, spark):
    from toolkit.spark import count_spark

    duck = count_batches([samples[pack]], domain=pack, mode="stock")
    on_spark = count_spark([samples[pack]], domain=pack, mode="stock", spark=spark)
    # every rule the engine evaluates runs on Spark too (nothing silently left out) …
    assert on_spark.not_on_spark == {}
    evaluated = set(duck.counts.loc[duck.counts["evaluated"], "rule_id"])
    assert evaluated == set(on_spark.counts.loc[on_spark.counts["evaluated"], "rule_id"])
    assert len(evaluated) > 50
    # … with the same counts, rule by rule and unit by unit
    a, b = _counted(duck.counts), _counted(on_spark.counts)
    assert a["unexpected_count"].sum() > 0
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    assert set(on_spark.counts["engine"]) == {"spark"}


def test_a_rule_spark_cannot_run_is_reported_not_passed(samples, spark, monkeypatch):
    """A rule whose SQL Spark rejects (here: a function Spark lacks) is *not evaluated on Spark*, with
    the reason — never a pass; the other rules of its table still run and count as on DuckDB."""
    import dataclasses

    from toolkit import spark as spark_mod

    real = spark_mod.compile_rule
    rid = "bdc.qlr.qlrmc.required"  # a rule of a table the stock batch has

    def compile_rule(rule, **kwargs):
        c = real(rule, **kwargs)
        if rule.rule_id == rid:
            return dataclasses.replace(c, unexpected=f"dq_function_spark_lacks({c.unexpected})")
        return c

    monkeypatch.setattr(spark_mod, "compile_rule", compile_rule)
    res = spark_mod.count_spark([samples["bdc"]], domain="bdc", mode="stock", spark=spark)
    assert list(res.not_on_spark) == [rid]
    assert not res.counts.loc[res.counts["rule_id"] == rid, "evaluated"].any()
    assert rid in set(res.not_evaluated["rule_id"])
    duck = count_batches([samples["bdc"]], domain="bdc", mode="stock")
    others = duck.counts[duck.counts["rule_id"] != rid]
    pd.testing.assert_frame_equal(
        _counted(others).reset_index(drop=True), _counted(res.counts).reset_index(drop=True)
    )


def test_dq_count_on_spark_writes_the_counts_of_duckdb(samples, spark, tmp_path):
    """``dq count --engine spark`` (the session of this module is reused) = ``dq count`` on DuckDB."""
    from typer.testing import CliRunner

    from toolkit.cli import app
    from toolkit.sheets import read_csv

    runner = CliRunner()
    base = ["count", "--domain", "sgs", "--input", str(samples["sgs"])]
    duck = runner.invoke(app, [*base, "--out", str(tmp_path / "d")])
    on_spark = runner.invoke(app, [*base, "--out", str(tmp_path / "s"), "--engine", "spark"])
    assert duck.exit_code == 0, duck.output
    assert on_spark.exit_code == 0, on_spark.output

    def load(folder):
        frame = read_csv(tmp_path / folder / "counts.csv", keep_default_na=False)
        frame["evaluated"] = frame["evaluated"].astype(str) == "True"
        for col in ("element_count", "unexpected_count"):
            frame[col] = frame[col].astype("int64")
        return _counted(frame).reset_index(drop=True)

    pd.testing.assert_frame_equal(load("d"), load("s"))
    assert "engine spark" in on_spark.output.replace("\n", " ")
