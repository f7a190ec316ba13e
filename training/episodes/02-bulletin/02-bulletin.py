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
# # 第 2 集 · 读懂通报
#
# 正式通报由评分模型算出综合得分和等级。本笔记本先用一天的检查结果做一张**示意的“小通报”**：
# 按区县和维度统计问题比例、排一个示意名次，并给最后一名区县列出问题最多的规则和整改办法。
# **示意名次只按问题比例排，不是正式的综合得分。**

# %%
import pandas as pd

import toolkit
from toolkit import lessons

# %% tags=["parameters"]
# 参数（教员可以改）/ parameters
DATA_DIR = "../../../demo_out/sample"  # make demo 生成的示例数据
DAY = ""  # 用哪一天的增量批次，如 "2024-12-31"；空 = 最近一天
TOP_N = 5  # 给最后一名区县列出几条规则

# %% [markdown]
# ## 1. 检查一天的增量批次

# %%
data = lessons.sample_dir(DATA_DIR)
batch = data / "incremental" / DAY if DAY else lessons.day_batches(DATA_DIR)[-1]
result = toolkit.run_check(batch, mode="incremental")
names = pd.read_csv(data / "districts.csv", dtype=str, encoding="utf-8-sig").set_index("QXDM")["QXMC"]
labels = lessons.toolkit_labels()
print(f"统计期：{batch.name}    数据截止时间：{result.as_of}")

# %% [markdown]
# ## 2. 各区县、各维度的问题比例（%）
#
# 问题比例 = 问题行数 ÷ 适用行数，按维度汇总。

# %%
c = result.counts[result.counts["evaluated"] & result.counts["QXDM"].isin(names.index)]
by_dim = c.groupby(["QXDM", "dimension"])[["element_count", "unexpected_count"]].sum()
share = (by_dim["unexpected_count"] / by_dim["element_count"].where(by_dim["element_count"] > 0) * 100).round(
    2
)
table = share.unstack("dimension")
table = table[[d for d in labels["dimension"] if d in table.columns]].rename(columns=labels["dimension"])
table.index = [f"{q} {names[q]}" for q in table.index]
table

# %% [markdown]
# ## 3. 示意名次（按全部规则的问题比例，从低到高）

# %%
total = c.groupby("QXDM")[["element_count", "unexpected_count"]].sum()
ranking = pd.DataFrame(
    {
        "区县": [names[q] for q in total.index],
        "检查次数": total["element_count"],
        "问题数": total["unexpected_count"],
        "问题比例（‰）": (total["unexpected_count"] / total["element_count"] * 1000).round(2),
    }
)
ranking["示意名次"] = ranking["问题比例（‰）"].rank(method="min").astype(int)
ranking = ranking.sort_values("示意名次")
ranking

# %% [markdown]
# ## 4. 给最后一名区县的“整改建议”
#
# 它问题最多的规则、白话原因和整改办法（这就是正式通报里“针对性整改建议”的来源）。

# %%
last = ranking.index[-1]
p_last = result.problems[result.problems["QXDM"] == last]
top_last = lessons.top_errors(p_last, TOP_N)
print(f"最后一名：{last} {names[last]}，问题 {len(p_last)} 个")
top_last

# %% [markdown]
# ## 5. 追到具体记录
#
# 问题最多的那条规则的几个例子：文件、行号（Excel 行号）、脱敏后的值。

# %%
lessons.examples(p_last, top_last["规则编号"].iloc[0] if len(top_last) else "", 5)

# %%
# TODO-bulletin：通报 API（toolkit.report / dq report）合入后，在这里生成当天的正式日报（综合得分、等级、
# 排名、指标优良差、地图预警、整改建议），并与上面的示意表对照。
