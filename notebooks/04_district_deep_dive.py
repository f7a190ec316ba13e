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
# # 单个区县深入分析 · District deep dive
#
# 一个区县的各期得分和排名、各项指标的优良差，再把一期的得分拆开（`scoring.explain`）：每项指标的分子、
# 分母、比率、单项得分和等级；失分最多的指标背后是哪些规则、白话原因和整改办法；这些失分出在哪几天。
# 得分只由规则计数算出，不含任何个人信息。

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import display

from toolkit import fonts, lessons, scoring
from toolkit.history import score_history

# %% tags=["parameters"]
# 参数 / parameters
DOMAIN = "bdc"  # 领域包（expectations/ 下的文件夹名）
DATA_DIR = "../demo_out/bdc/sample"  # make demo 生成的示例数据（incremental/ 下每天一个批次文件夹）
HISTORY = "../demo_out/bdc/scores/history.duckdb"  # 规则计数历史库（make demo 已写好；不存在时新建，首次较慢）
WORK_DIR = "../demo_out/bdc/notebooks/04_district_deep_dive"  # scores.csv 等写在这里
DISTRICT = ""  # 区县代码，如 "420102"；空 = 所看统计期排名最后的区县
PERIOD = "month"  # 统计周期：month（月）或 week（周）
CURRENT = ""  # 拆开看哪一期，如 "2024-12"；空 = 最近一期
N_WEAKEST = 3  # 列出失分最多的几项指标

# %%
data = lessons.sample_dir(DATA_DIR)
run = score_history(data / "incremental", WORK_DIR, by=PERIOD, domain=DOMAIN, store=HISTORY or None)
current = CURRENT or run.table["period"].max()
ranking = lessons.ranking_table(run.table, current, domain=DOMAIN)
code_column = lessons.ranking_columns(DOMAIN)[1]  # 区县代码（其他领域包按它的考核单位命名，如 中心代码）
district = DISTRICT or ranking.dropna(subset=["得分"])[code_column].iloc[-1]
mine = run.table[run.table["unit_code"] == district].sort_values("period")
if mine.empty:
    raise ValueError(f"得分中没有区县 {district}；可选：{', '.join(sorted(run.table['unit_code'].unique()))}")
name = mine["unit_name"].iloc[0]
row = ranking.set_index(code_column).loc[district]
print(
    f"{district} {name}：{current} 得分 {row['得分']} 分，等级 {row['等级']}，排名 {row['名次']}/{len(ranking)}"
)

# %% [markdown]
# ## 1. 各期得分、等级和排名，与全省平均比

# %%
history = mine.merge(run.trend[["period", "average"]], on="period")
history = pd.DataFrame(
    {
        "统计期": history["period"],
        "得分": history["score"],
        "等级": history["grade"],
        "名次": history["rank"].astype("Int64"),
        "区县数": history["period"].map(run.table.groupby("period")["unit_code"].size()),
        "全省平均分": history["average"],
        "高于平均": (history["score"] - history["average"]).round(2),
        "天数": history["n_days"],
    }
)
history.tail(12)

# %%
sns.set_theme(style="whitegrid")
fonts.setup_matplotlib()  # 内置的 Noto Sans CJK 中文字体；放在 seaborn 主题之后，否则会被主题覆盖
step = max(1, len(history) // 12)
fig, ax = plt.subplots(figsize=(10, 4))
sns.lineplot(
    data=history, x="统计期", y="全省平均分", color="#888888", linewidth=1.5, label="全省平均分", ax=ax
)
sns.lineplot(
    data=history, x="统计期", y="得分", color="#c0392b", linewidth=2.5, marker="o", label=name, ax=ax
)
ax.axhline(90, ls="--", lw=1, color="#1a9850", label="A4 达标线（90 分）")
ax.set_xticks(range(0, len(history), step), history["统计期"][::step], rotation=45, ha="right")
ax.set(title=f"{name}各期得分", xlabel="统计期", ylabel="得分")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. 各项指标的优、良、差（最近几期）
#
# 优 = 达到目标值，良 = 单项得分 ≥ 60，差 = 低于 60；空白 = 该期不参评（分母为 0）。

# %%
labels = lessons.toolkit_labels(DOMAIN)
ids = list(labels["indicator"])
recent = mine.tail(6).set_index("period")
levels = recent[[f"{i}_level" for i in ids]].T
levels.index = [labels["indicator"][i] for i in ids]
levels.columns.name = None
levels.style.map(lessons.level_css, config=run.period.config).format(na_rep="")

# %% [markdown]
# ## 3. 把一期的得分拆开
#
# 比率 = 分子 ÷ 分母；单项得分按目标值和底线之间的位置给分；实际权重 = 权重在参评指标之间重新归一到 100；
# 贡献 = 实际权重 × 单项得分 ÷ 100；失分 = 实际权重 − 贡献。
#
# 一天的综合得分就是各项贡献之和。一期（周、月）的综合得分是**各天得分的平均**（通报中的得分），
# 而下表的比率由各天的分子、分母相加算出，所以各项贡献之和是“把整期当作一天”算出的分数，与各天平均略有不同；
# 找失分的原因时看下表，比较区县时看综合得分。

# %%
exp = scoring.explain(run.period, district, current)
table = lessons.explain_table(exp)
print(
    f"{exp.district} {exp.district_name} {exp.period}：综合得分 {exp.score}（{exp.n_days} 天的平均），"
    f"等级 {exp.grade}，排名 {exp.rank}；按整期计数算出的各项贡献之和 {exp.indicators['contribution'].sum():.2f}"
)
table.style.map(lessons.level_css, config=run.period.config, subset=["单项等级"]).format(
    {
        "比率（%）": "{:.4f}",
        "目标值（%）": "{:g}",
        "底线（%）": "{:g}",
        "单项得分": "{:.1f}",
        "权重": "{:g}",
        "实际权重": "{:.2f}",
        "贡献": "{:.2f}",
        "失分": "{:.2f}",
    },
    na_rep="—",
).hide(axis="index")

# %% [markdown]
# ## 4. 失分最多的指标和背后的规则
#
# 问题说明和整改办法是规则自带的白话（与问题清单、通报中的相同），可以直接发给区县。

# %%
weak = lessons.weak_rules(exp, N_WEAKEST, domain=DOMAIN)
weak

# %% [markdown]
# ## 5. 失分出在哪几天
#
# 失分最多的那项指标逐日的分子、分母和单项得分：找到问题集中的日子，再用 `dq check` 检查那一天的批次，
# 或在 [03_common_errors](03_common_errors.ipynb) 中下钻到具体的记录。

# %%
worst = table[table["失分"] > 0].nlargest(1, "失分")
if worst.empty:
    print("这一期没有失分的指标。")
else:
    ind_id = worst["代码"].iloc[0]
    days = exp.daily["day"] if exp.daily is not None else pd.Series([current])
    daily = run.daily.indicators
    daily = daily[
        (daily["unit_code"] == district) & (daily["indicator"] == ind_id) & daily["period"].isin(days)
    ]
    daily = pd.DataFrame(
        {
            "日期": daily["period"],
            "分子": daily["numerator"],
            "分母": daily["denominator"],
            "比率（%）": (daily["rate"] * 100).round(4),
            "单项得分": daily["points"].round(1),
            "单项等级": daily["level"],
        }
    )
    print(
        f"{labels['indicator'][ind_id]}：{len(daily)} 天，其中未达到目标值（不是“优”）的 {(daily['单项等级'] != '优').sum()} 天"
    )
    display(daily[daily["单项等级"] != "优"].head(15))
