# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 存量数据概览 · Stock-data overview
#
# 检查一个存量批次（全量导出），看：各表各区县的行数、规则评估情况、未通过的规则、各区县各维度的问题比例、
# 问题最多的规则。个人信息在所有结果中已脱敏。

# %%
import pandas as pd

import toolkit
from toolkit import lessons

# %% tags=["parameters"]
# 参数 / parameters
DOMAIN = "bdc"  # 领域包（expectations/ 下的文件夹名）
DATA_DIR = "../demo_out/bdc/sample"  # make demo 生成的示例数据
BATCH = "stock"  # DATA_DIR 下的存量批次文件夹
TOP_N = 10  # 列出问题最多的规则条数

# %%
data = lessons.sample_dir(DATA_DIR)
result = toolkit.run_check(data / BATCH, domain=DOMAIN, mode="stock")
labels = lessons.toolkit_labels(DOMAIN)
names = pd.read_csv(data / "districts.csv", dtype=str, encoding="utf-8-sig").set_index("QXDM")["QXMC"]
gate = "不通过" if result.critical_failures else "通过"
print(f"批次：{result.batch.folder}")
print(f"读入并检查 {result.batch.rows_read:,} 行；数据截止时间 {result.as_of}（{result.as_of_source}）")
print(
    f"质检关口：{gate}（严重规则未通过 {len(result.critical_failures)} 条），检查耗时 {result.seconds:.1f} 秒"
)

# %% [markdown]
# ## 1. 各表、各区县的行数

# %%
rows = pd.concat(
    {
        f"{result.domain.table_label(code)}（{code}）": t.frame["QXDM"].fillna("（空）").value_counts()
        for code, t in result.batch.tables.items()
    },
    axis=1,
).fillna(0)
rows = rows.astype(int)
rows.index = [f"{q} {names.get(q, '')}".strip() for q in rows.index]
rows.loc["合计"] = rows.sum()
rows

# %% [markdown]
# ## 2. 规则：评估了多少、没评估的为什么

# %%
evaluated = len(result.rules) - len(result.not_evaluated)
print(f"本模式规则 {len(result.rules)} 条：已评估 {evaluated} 条，未评估 {len(result.not_evaluated)} 条")
pd.DataFrame(sorted(result.not_evaluated.items()), columns=["规则编号", "未评估原因"])

# %% [markdown]
# ## 3. 未通过的规则
#
# 问题比例 = 问题行数 ÷ 适用行数。

# %%
c = result.counts[result.counts["evaluated"]]
per_rule = c.groupby(["rule_id", "dimension", "severity"])[["element_count", "unexpected_count"]].sum()
per_rule = per_rule[per_rule["unexpected_count"] > 0].reset_index()
per_rule["问题比例（%）"] = (per_rule["unexpected_count"] / per_rule["element_count"] * 100).round(3)
per_rule["维度"] = per_rule["dimension"].map(labels["dimension"])
per_rule["严重程度"] = per_rule["severity"].map(labels["severity"])
failed = per_rule.sort_values(["unexpected_count", "rule_id"], ascending=[False, True])[
    ["rule_id", "维度", "严重程度", "element_count", "unexpected_count", "问题比例（%）"]
].rename(columns={"rule_id": "规则编号", "element_count": "适用行数", "unexpected_count": "问题行数"})
print(f"未通过的规则 {len(failed)} 条")
failed.style.bar(subset=["问题行数"], color="#f4a300").format({"问题比例（%）": "{:.3f}"}).hide(axis="index")

# %% [markdown]
# ## 4. 各区县、各维度的问题比例（‰）

# %%
by_dim = c.groupby(["unit_code", "dimension"])[["element_count", "unexpected_count"]].sum()
permille = (
    by_dim["unexpected_count"] / by_dim["element_count"].where(by_dim["element_count"] > 0) * 1000
).round(2)
grid = permille.unstack("dimension")
grid = grid[[d for d in labels["dimension"] if d in grid.columns]].rename(columns=labels["dimension"])
grid.index = [f"{q} {names.get(q, '（不是本省县级代码）')}" for q in grid.index]
grid.style.background_gradient(cmap="OrRd", axis=None).format("{:.2f}", na_rep="—")

# %% [markdown]
# ## 5. 问题最多的规则（常见错误）

# %%
lessons.top_errors(result.problems, TOP_N, domain=DOMAIN)

# %% [markdown]
# ## 6. 各区县问题最多的规则

# %%
per_district = result.problems.assign(unit_code=result.problems["unit_code"].fillna("（空）"))
pd.crosstab(
    per_district["rule_id"], per_district["unit_code"], margins=True, margins_name="合计"
).sort_values("合计", ascending=False).head(TOP_N + 1)
