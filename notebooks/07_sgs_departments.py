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
# # 双公示：各部门的及时率、排名和常见问题 · 双公示: departments' timeliness, ranking and common problems
#
# 市信用办每天检查各部门上报的行政许可、行政处罚信息（双公示），把平台的技术性报错翻译成白话退回给部门，
# 每月按部门排名。这个笔记本用 `sgs` 领域包：
#
# 1. 全市 **及时率** 的走势：决定作出后 7 个工作日内上报并通过的记录 / 已判定的记录；
# 2. 最近一期的部门排名（及时率、合格率、得分、等级）；
# 3. 被退回的记录：在 7 个工作日内改正通过的仍算及时——各部门各有多少；
# 4. 最近一天的检查：省里的规则和东莞本地规则（本地法人库比对）各退回多少，本地规则去掉的是哪些误报；
# 5. 常见问题清单：平台提示（技术原文）→ 白话说明 → 怎么改。
#
# 所有输出中的个人信息（身份证号、自然人姓名、手机号）都已脱敏。

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from toolkit import fonts, lessons, run_check
from toolkit.common_problems import build_common_problems
from toolkit.history import score_history
from toolkit.timeliness import judge_records, timeliness_spec

# %% tags=["parameters"]
# 参数 / parameters
DOMAIN = "sgs"  # 领域包：双公示
DATA_DIR = "../demo_out/sgs/sample"  # make demo 生成的示例数据（incremental/ 下每个工作日一个批次文件夹）
HISTORY = "../demo_out/sgs/scores/history.duckdb"  # 规则计数历史库（make demo 已写好；不存在时新建）
WORK_DIR = "../demo_out/sgs/notebooks/07_sgs_departments"  # scores.csv 等写在这里
OVERLAY = "../expectations/sgs/overlays/dongguan.yaml"  # 东莞本地规则：与本地法人库比对
PERIOD = "month"  # 统计周期：month（月）或 week（周）

# %%
data = lessons.sample_dir(DATA_DIR)
run = score_history(data / "incremental", WORK_DIR, by=PERIOD, domain=DOMAIN, store=HISTORY or None)
limit = timeliness_spec(DOMAIN).working_days
u = run.update
print(
    f"每日批次 {u.batches} 个，本次新计数 {u.counted} 个，用时 {u.seconds:.1f} 秒；上报时限 {limit} 个工作日"
)

# %% [markdown]
# ## 1. 全市及时率的走势
#
# 一条记录（部门 + 决定文书号）以它**第一次通过验证的上报**来判定：决定日期之后 7 个工作日内（法定节假日、
# 调休按国家安排）通过的算及时；被退回、但在期限内改正重传通过的也算及时；期限过了仍未通过的算迟报。
# 全市及时率 = 全市及时的记录 / 全市已判定的记录（不是各部门比率的平均）。

# %%
ind = pd.read_csv(Path(WORK_DIR) / "indicators.csv", dtype={"unit_code": str}, encoding="utf-8-sig")
city = (
    ind[ind["indicator"].isin(["timely_rate", "pass_rate"])]
    .groupby(["period", "indicator"])[["numerator", "denominator"]]
    .sum()
    .reset_index()
)
city["rate"] = city["numerator"] / city["denominator"]
trend = city.pivot(index="period", columns="indicator", values="rate").rename(
    columns={"timely_rate": "及时率", "pass_rate": "合格率"}
)
print(
    f"全市及时率：{trend.index[0]} {trend['及时率'].iloc[0]:.1%} → {trend.index[-1]} {trend['及时率'].iloc[-1]:.1%}"
)
trend.tail(12).style.format("{:.1%}")

# %%
fonts.setup_matplotlib()
fig, ax = plt.subplots(figsize=(10, 4))
ax.plot(trend.index, trend["及时率"] * 100, marker="o", color="#c0392b", label="及时率")
ax.plot(trend.index, trend["合格率"] * 100, marker=".", color="#2471a3", label="合格率（上报一次通过）")
ax.axhline(97.3, ls="--", lw=1, color="#1a9850", label="97.3%（东莞市的全省第一）")
step = max(1, len(trend) // 12)
ax.set_xticks(range(0, len(trend), step), trend.index[::step], rotation=45, ha="right")
ax.set(title="全市双公示及时率走势", xlabel="统计期", ylabel="%")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. 最近一期的部门排名
#
# 考核对象是部门（数据来源单位，按其统一社会信用代码）；部门名称取自数据。没有地图：部门不是地方。

# %%
current = run.table["period"].max()
latest = run.table[run.table["period"] == current].sort_values(["rank", "unit_code"])
ranking = latest[["rank", "unit_name", "timely_rate", "late_rate", "pass_rate", "score", "grade"]].rename(
    columns={
        "rank": "名次",
        "unit_name": "部门",
        "timely_rate": "及时率",
        "late_rate": "迟报率",
        "pass_rate": "合格率",
        "score": "得分",
        "grade": "等级",
    }
)
print(f"{current}：{len(ranking)} 个部门")
ranking.style.format({"及时率": "{:.1%}", "迟报率": "{:.1%}", "合格率": "{:.1%}", "得分": "{:.1f}"}).hide()

# %% [markdown]
# ## 3. 被退回的记录：改得快，仍算及时
#
# 每条记录的命运：第一次上报的日期、第一次通过的日期、用了几个工作日。被退回后在 7 个工作日内改正通过的，
# 仍记为及时——这就是每天督促各部门尽快改正的意义。

# %%
records = judge_records(run.frames["uploads"], working_days=limit)
records["被退回过"] = records["first_upload"] != records["first_accepted"]
fate = (
    records[records["status"] != "pending"]
    .assign(
        部门=lambda f: f["unit_code"].map(dict(zip(latest["unit_code"], latest["unit_name"], strict=True)))
    )
    .groupby("部门")
    .agg(
        记录数=("record_key", "size"),
        及时=("status", lambda s: int((s == "timely").sum())),
        被退回后及时改正=(
            "status",
            lambda s: int(((s == "timely") & records.loc[s.index, "被退回过"]).sum()),
        ),
        迟报=("status", lambda s: int((s == "late").sum())),
    )
    .sort_values("迟报", ascending=False)
)
rescued = int(fate["被退回后及时改正"].sum())
print(
    f"已判定的记录 {int(fate['记录数'].sum()):,} 条，其中被退回后 {limit} 个工作日内改正通过、仍算及时的 {rescued:,} 条"
)
fate.head(15)

# %% [markdown]
# ## 4. 最近一天：省规则与东莞本地规则
#
# 省平台用省法人库核验主体，而新登记的企业要过几天才进省法人库，于是被误退回。东莞的本地规则不再比对省法人库，
# 改为比对本地法人库（`FRK_BD`）。同一批数据，两种规则的结果：

# %%
day = lessons.day_batches(data)[-1]
province = run_check(day, domain=DOMAIN, mode="incremental")
local = run_check(day, domain=DOMAIN, mode="incremental", overlay=OVERLAY)
compare = (
    pd.DataFrame(
        {
            "省规则": province.counts.groupby("rule_id")["unexpected_count"].sum(),
            "东莞本地规则": local.counts.groupby("rule_id")["unexpected_count"].sum(),
        }
    )
    .fillna(0)
    .astype(int)
)
changed = compare[compare["省规则"] != compare["东莞本地规则"]]
print(
    f"{day.name}：省规则下 {len(province.critical_failures)} 条严重规则未通过，"
    f"东莞本地规则下 {len(local.critical_failures)} 条；两者结果不同的规则："
)
changed

# %% [markdown]
# ## 5. 常见问题清单：平台提示 → 白话 → 怎么改
#
# 平台的报错是技术语言（如 `CF_NR_FK字段值不符合规则：decimal(18,6)`），部门经办人常常看不懂。清单把每类问题的
# 技术原文、白话说明和整改办法放在一起，按问题条数排序，示例已脱敏。

# %%
cp = build_common_problems(local.problems, domain=DOMAIN, period=day.name)
cols = [c for c in ["序号", "平台提示", "问题说明", "整改办法", "问题条数", "示例"] if c in cp.rules.columns]
cp.rules[cols].head(10).style.hide()
