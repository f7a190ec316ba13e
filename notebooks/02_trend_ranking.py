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
# # 得分趋势与区县排名 · Score trend and district ranking
#
# 给全部每日增量批次打分（`dq score --history`），按月（或周）汇总：全省平均分的走势、各区县各期得分、
# 最近一期的排名和等级、进步和退步最大的区县、各项指标的优良差。
#
# 规则计数保存在历史库（DuckDB 文件）中：每个批次只计数一次，新增或改动的批次才重新计数，所以再次运行很快。
# 得分只由计数算出，不含任何个人信息。

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from toolkit import fonts, lessons
from toolkit.history import score_history

# %% tags=["parameters"]
# 参数 / parameters
DOMAIN = "bdc"  # 领域包（expectations/ 下的文件夹名）
DATA_DIR = "../demo_out/bdc/sample"  # make demo 生成的示例数据（incremental/ 下每天一个批次文件夹）
HISTORY = "../demo_out/bdc/scores/history.duckdb"  # 规则计数历史库（make demo 已写好；不存在时新建，首次较慢）
WORK_DIR = "../demo_out/bdc/notebooks/02_trend_ranking"  # scores.csv、trend.csv 写在这里
PERIOD = "month"  # 统计周期：month（月）或 week（周）
CURRENT = ""  # 排名看哪一期，如 "2024-12"；空 = 最近一期
TOP_N = 3  # 进步、退步最大的区县各列几个

# %%
data = lessons.sample_dir(DATA_DIR)
run = score_history(data / "incremental", WORK_DIR, by=PERIOD, domain=DOMAIN, store=HISTORY or None)
labels = lessons.toolkit_labels(DOMAIN)
current = CURRENT or run.table["period"].max()
u = run.update
print(
    f"每日批次 {u.batches} 个，本次新计数 {u.counted} 个（其余沿用历史库中的计数），用时 {u.seconds:.1f} 秒"
)
print(
    f"统计期 {run.trend['period'].iloc[0]} 至 {run.trend['period'].iloc[-1]}，共 {len(run.trend)} 期；排名看 {current}"
)
print(f"得分表：{Path(WORK_DIR) / 'scores.csv'}")

# %% [markdown]
# ## 1. 全省平均分的走势
#
# 一期的区县得分 = 该期每日得分的平均；全省平均分 = 各区县得分的平均。A4（90 分）是达到国家汇交标准的最低等级。

# %%
trend = run.trend.rename(
    columns={
        "period": "统计期",
        "districts": "区县数",
        "average": "全省平均分",
        "min": "最低分",
        "max": "最高分",
        "meeting_standard": "达标区县数（A4 及以上）",
        "grade": "平均分等级",
    }
)
first, last = trend.iloc[0], trend.iloc[-1]
print(
    f"全省平均分：{first['统计期']} {first['全省平均分']:.2f} 分（{first['平均分等级']}）→ "
    f"{last['统计期']} {last['全省平均分']:.2f} 分（{last['平均分等级']}）"
)
trend.tail(12)

# %%
sns.set_theme(style="whitegrid")
fonts.setup_matplotlib()  # 内置的 Noto Sans CJK 中文字体；放在 seaborn 主题之后，否则会被主题覆盖
scored = run.table.dropna(subset=["score"])
step = max(1, len(run.trend) // 12)
fig, ax = plt.subplots(figsize=(10, 4.5))
sns.lineplot(
    data=scored,
    x="period",
    y="score",
    units="unit_name",
    estimator=None,
    color="#b8b8b8",
    linewidth=0.8,
    ax=ax,
)
sns.lineplot(
    data=run.trend,
    x="period",
    y="average",
    color="#c0392b",
    linewidth=2.5,
    marker="o",
    label="全省平均分",
    ax=ax,
)
ax.axhline(90, ls="--", lw=1, color="#1a9850", label="A4 达标线（90 分）")
ax.set_xticks(range(0, len(run.trend), step), run.trend["period"][::step], rotation=45, ha="right")
ax.set(title="增量数据质量得分走势（灰线为各区县）", xlabel="统计期", ylabel="得分")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. 各区县各期得分
#
# 每行一个区县（按最近一期得分从高到低），颜色越绿越好。

# %%
grid = scored.pivot_table(index="unit_name", columns="period", values="score")
grid = grid.loc[grid[current].sort_values(ascending=False).index] if current in grid else grid
fig, ax = plt.subplots(figsize=(10, 0.45 * len(grid) + 1.5))
sns.heatmap(
    grid,
    cmap="RdYlGn",
    vmin=70,
    vmax=100,
    annot=grid.shape[1] <= 12,
    fmt=".1f",
    cbar_kws={"label": "得分"},
    ax=ax,
)
ax.set(title="各区县各期得分", xlabel="统计期", ylabel="")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. 最近一期的排名和等级
#
# 同分同名次；名次变化和得分变化与上一期比。等级每 2.5 分一档，A4 及以上达标。

# %%
ranking = lessons.ranking_table(run.table, current, domain=DOMAIN)
print(
    f"{current}：{ranking['得分'].notna().sum()} 个区县参评，"
    f"达标（A4 及以上）{ranking['等级'].astype(str).str.startswith('A').sum()} 个"
)
ranking.style.background_gradient(subset=["得分"], cmap="RdYlGn", vmin=70, vmax=100).format(
    {"得分": "{:.1f}", "上期得分": "{:.1f}", "得分变化": "{:+.1f}"}, na_rep="—"
).hide(axis="index")

# %% [markdown]
# ## 4. 进步和退步最大的区县

# %%
moved = ranking.dropna(subset=["得分变化"])
movers = pd.concat(
    {
        "进步": moved[moved["得分变化"] > 0].nlargest(TOP_N, "得分变化"),
        "退步": moved[moved["得分变化"] < 0].nsmallest(TOP_N, "得分变化"),
    }
)
movers[[lessons.ranking_columns(DOMAIN)[2], "上期得分", "得分", "得分变化", "上期名次", "名次", "名次变化"]]

# %% [markdown]
# ## 5. 各项指标的优、良、差（最近一期）
#
# 优 = 达到目标值，良 = 单项得分 ≥ 60，差 = 低于 60；空白 = 本期不参评。先看“差”最多的指标。

# %%
ids = list(labels["indicator"])
cur_rows = run.table[run.table["period"] == current].set_index("unit_name")
levels = cur_rows[[f"{i}_level" for i in ids]].T
levels.index = [labels["indicator"][i] for i in ids]
summary = pd.DataFrame({lv: (levels == lv).sum(axis=1) for lv in ("优", "良", "差")})
levels.insert(0, "差（个区县）", summary["差"])
levels = levels.sort_values("差（个区县）", ascending=False)
levels.style.map(lessons.level_css, config=run.period.config).format(na_rep="")

# %% [markdown]
# 下一步：在 [04_district_deep_dive](04_district_deep_dive.ipynb) 中把参数 `DISTRICT` 设为某个区县代码，
# 看它每项指标的分子、分母和背后的规则；正式通报用 `dq report --history 数据目录 --period month` 生成。
