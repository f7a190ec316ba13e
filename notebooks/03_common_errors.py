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
# # 常见错误下钻 · Common-errors drill-down
#
# 从 `dq check` 的输出（`problems.csv` 问题清单、`counts.csv` 区县 × 规则计数）出发：问题最多的规则、
# 它们在各区县的分布和问题比例、涉及的字段，再下钻到一条规则：白话原因、整改办法、例子和发给各区县的清单。
# 不重新运行检查，打开很快。值已脱敏。

# %%
import pandas as pd

from toolkit import lessons

# %% tags=["parameters"]
# 参数 / parameters
DOMAIN = "bdc"  # 领域包（expectations/ 下的文件夹名）
CHECK_DIR = "../demo_out/bdc/check_stock"  # dq check --out 的文件夹（make demo 写出 check_stock 和最近一天）
TOP_N = 10  # 列出问题最多的规则条数
RULE = ""  # 要下钻的规则编号；空 = 问题最多的那条
DISTRICT = ""  # 只看一个区县（区县代码）；空 = 全部

# %%
counts, problems, summary = lessons.load_check_output(CHECK_DIR)
if DISTRICT:
    counts, problems = counts[counts["unit_code"] == DISTRICT], problems[problems["unit_code"] == DISTRICT]
labels = lessons.toolkit_labels(DOMAIN)
print(f"检查结果：{CHECK_DIR}    问题 {len(problems):,} 个，涉及规则 {problems['rule_id'].nunique()} 条")
print(f"数据截止时间：{summary.get('as_of', '')}")

# %% [markdown]
# ## 1. 问题最多的规则

# %%
top = lessons.top_errors(problems, TOP_N, domain=DOMAIN)
top

# %% [markdown]
# ## 2. 各区县的问题数（前几条规则）

# %%
top_rules = problems[problems["rule_id"].isin(top["规则编号"])]
pd.crosstab(top_rules["rule_id"], top_rules["unit_code"].replace("", "（空）")).reindex(top["规则编号"])

# %% [markdown]
# ## 3. 各区县的问题比例（‰）
#
# 问题数多可能只是数据量大：问题比例 = 问题行数 ÷ 适用行数，才能在区县之间比较。

# %%
rated = counts[counts["rule_id"].isin(top["规则编号"]) & counts["evaluated"]]
ratio = rated.pivot_table(
    index="rule_id", columns="unit_code", values=["element_count", "unexpected_count"], aggfunc="sum"
)
permille = (
    ratio["unexpected_count"] / ratio["element_count"].where(ratio["element_count"] > 0) * 1000
).round(2)
permille.reindex(top["规则编号"]).style.background_gradient(cmap="OrRd", axis=None).format(
    "{:.2f}", na_rep="—"
)

# %% [markdown]
# ## 4. 按维度和字段

# %%
by_dim = problems.groupby("dimension").size().rename("问题数").sort_values(ascending=False).to_frame()
by_dim.index = by_dim.index.map(lambda d: labels["dimension"].get(d, d))
by_dim

# %%
fields = problems.assign(字段名称=problems["field"].map(labels["field"]))
fields.groupby(["table", "field", "字段名称"]).size().rename("问题数").sort_values(ascending=False).head(
    TOP_N
).to_frame()

# %% [markdown]
# ## 5. 下钻一条规则

# %%
rule = RULE or (top["规则编号"].iloc[0] if len(top) else "")
one = problems[problems["rule_id"] == rule]
print(f"规则：{rule}（{len(one)} 个问题）")
if len(one):
    print(f"问题说明：{one['message_zh'].iloc[0]}")
    print(f"整改办法：{one['fix_zh'].iloc[0]}")
lessons.examples(problems, rule, 10, domain=DOMAIN)

# %% [markdown]
# 发给各区县的清单：每个区县要改的文件和行号。

# %%
one.groupby(one["unit_code"].replace("", "（空）")).agg(
    问题数=("row", "size"), 文件=("file", "first"), 行号=("row", lambda r: "、".join(map(str, sorted(r))))
)
