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
# # 第 1 集 · 评分是怎么来的
#
# 本笔记本用一天的增量数据，从规则计数出发，**亲手**算出一项指标的比率、单项得分和单项等级。
# 依次运行每个单元格（Shift + Enter）。讲义：`index.md`。

# %%
import pandas as pd

import toolkit
from toolkit import lessons, scoring

# %% tags=["parameters"]
# 参数（教员可以改）/ parameters
DOMAIN = "bdc"  # 领域包（expectations/ 下的文件夹名）
DATA_DIR = "../../../demo_out/bdc/sample"  # make demo 生成的示例数据
DAY = ""  # 用哪一天的增量批次，如 "2024-12-31"；空 = 最近一天
DISTRICT = ""  # 第 6 节拆开看哪个区县的得分，如 "420102"；空 = 当天得分最低的区县

# %% [markdown]
# ## 1. 检查一天的增量批次
#
# 与质检人员运行 `dq check --mode incremental` 相同，只是结果留在笔记本里。

# %%
days = lessons.day_batches(DATA_DIR)
batch = lessons.sample_dir(DATA_DIR) / "incremental" / DAY if DAY else days[-1]
result = toolkit.run_check(batch, domain=DOMAIN, mode="incremental")
counts = result.counts
print(
    f"批次 {batch.name}：{result.batch.rows_read} 行，{counts['unit_code'].nunique()} 个区县，{len(result.rules)} 条规则"
)

# %% [markdown]
# `counts` 就是 `counts.csv`：每个区县 × 每条规则一行。看一条规则：

# %%
counts[counts["rule_id"] == "bdc.fdcq.slsj.required"]

# %% [markdown]
# ## 2. 手算空项率
#
# 空项率 = 所有必填规则（规则编号以 `.required` 结尾）的问题行数之和 ÷ 适用行数之和。

# %%
required = counts[counts["rule_id"].str.endswith(".required") & counts["evaluated"]]
empty = required.groupby("unit_code")[["element_count", "unexpected_count"]].sum()
empty["空项率（%）"] = empty["unexpected_count"] / empty["element_count"] * 100
empty

# %% [markdown]
# ## 3. 比率 → 单项得分 → 单项等级
#
# 目标值、底线、权重取自评分模型配置 `expectations/bdc/scoring.yaml`。
# 单项得分 = (比率 − 底线) ÷ (目标值 − 底线) × 100，限制在 0–100。

# %%
s = lessons.indicator_settings("empty_rate", DOMAIN)
print(f"{s.label_zh}：目标值 {s.target:.2%}，底线 {s.floor:.2%}，权重 {s.weight:g}")
rate = empty["unexpected_count"] / empty["element_count"]
empty["单项得分"] = ((rate - s.floor) / (s.target - s.floor)).clip(0, 1).mul(100).round(1)
empty["单项等级"] = pd.cut(
    empty["单项得分"], [-1, 60, 100, 101], right=False, labels=["差", "良", "优"]
).astype(str)
empty["加权得分"] = (empty["单项得分"] * s.weight / 100).round(2)
empty

# %% [markdown]
# ## 4. 练习：证件号校验通过率
#
# 这是“越高越好”的指标：通过率 = (适用 − 问题) ÷ 适用。把下面的规则和指标代码改一改就能算。
# 没有证件号要校验的区县，分母为 0 —— 这一项**不参评**（显示为空值 NaN）。

# %%
ids = counts[counts["rule_id"].isin(["bdc.qlr.zjh.citizen_id", "bdc.qlr.zjh.credit_code"])]
id_ok = ids.groupby("unit_code")[["element_count", "unexpected_count"]].sum()
s2 = lessons.indicator_settings("id_no_ok", DOMAIN)
id_rate = (id_ok["element_count"] - id_ok["unexpected_count"]) / id_ok["element_count"].where(
    id_ok["element_count"] > 0
)
id_ok["通过率（%）"] = (id_rate * 100).round(2)
id_ok["单项得分"] = ((id_rate - s2.floor) / (s2.target - s2.floor)).clip(0, 1).mul(100).round(1)
id_ok

# %% [markdown]
# ## 5. 哪些规则拉低了这项指标？
#
# 追溯：从指标回到规则，再回到问题清单中的具体行（值已脱敏）。

# %%
problems = result.problems
problems[problems["rule_id"].str.endswith(".required")][["unit_code", "rule_id", "file", "row", "message_zh"]]

# %% [markdown]
# ## 6. 评分模型：全部指标、综合得分和等级
#
# 评分模型（`toolkit.scoring`，也就是 `dq score`）用同样的两列计数算出全部 17 项指标、综合得分、等级和排名。
# 没有可衡量内容的指标（例如还没有台账数据的销账率）**不参评**。

# %%
config = scoring.load_scoring(DOMAIN)
scored = scoring.score(
    counts.assign(period=batch.name), scoring.row_counts(result, period=batch.name), config=config
)
scoring.scores_table(scored)[["unit_code", "unit_name", "score", "grade", "rank", "scored_weight"]].rename(
    columns={
        "unit_code": "区县代码",
        "unit_name": "区县",
        "score": "综合得分",
        "grade": "等级",
        "rank": "排名",
        "scored_weight": "参评指标权重之和",
    }
)

# %% [markdown]
# `scoring.explain` 把一个区县的得分拆开：每项指标的分子、分母、比率、单项得分、单项等级；
# 实际权重 = 权重在参评指标之间重新归一到 100，贡献 = 实际权重 × 单项得分 ÷ 100，各项贡献相加就是综合得分。

# %%
district = DISTRICT or scored.scores.sort_values(["score", "unit_code"])["unit_code"].iloc[0]
exp = scoring.explain(scored, district, batch.name)
table = lessons.explain_table(exp)
print(
    f"{exp.district} {exp.district_name} {exp.period}：综合得分 {exp.score}，等级 {exp.grade}，排名 {exp.rank}"
)
print(f"各项贡献之和 {exp.indicators['contribution'].sum():.4f}（四舍五入到一位小数就是综合得分）")
table.style.map(lessons.level_css, config=config, subset=["单项等级"]).format(
    {"比率（%）": "{:.4f}", "目标值（%）": "{:g}", "底线（%）": "{:g}", "单项得分": "{:.1f}", "权重": "{:g}"},
    na_rep="—",
).hide(axis="index")

# %% [markdown]
# ## 7. 与手算对照
#
# 第 2–4 节手算的空项率、证件号校验通过率，和评分模型的分子、分母、单项得分应当一致
# （“越低越好”的指标分子是问题行数，“越高越好”的指标分子是通过数 = 适用 − 问题）。

# %%
hand = pd.concat(
    {
        "empty_rate": pd.DataFrame(
            {
                "手算分子": empty["unexpected_count"],
                "手算分母": empty["element_count"],
                "手算单项得分": empty["单项得分"],
            }
        ),
        "id_no_ok": pd.DataFrame(
            {
                "手算分子": id_ok["element_count"] - id_ok["unexpected_count"],
                "手算分母": id_ok["element_count"],
                "手算单项得分": id_ok["单项得分"],
            }
        ),
    },
    names=["indicator", "unit_code"],
)
model = scored.indicators.set_index(["indicator", "unit_code"])[
    ["numerator", "denominator", "points", "level"]
]
both = hand.join(model, how="inner")
both["一致"] = (
    (both["手算分子"] == both["numerator"])
    & (both["手算分母"] == both["denominator"])
    & ((both["手算单项得分"] - both["points"].round(1)).abs().fillna(0) < 0.05)
).map({True: "✓", False: "✗"})
both.rename(
    columns={
        "numerator": "模型分子",
        "denominator": "模型分母",
        "points": "模型单项得分",
        "level": "单项等级",
    }
).round(1)
