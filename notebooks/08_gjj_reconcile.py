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
# # 住房公积金：报表核对、睡眠账户、一人多户和各中心的月度排名 · 住房公积金: report reconciliation, dormant and multiple accounts, the centres' monthly ranking
#
# 省住房公积金监管部门每月检查各住房公积金管理中心（按所在城市的地级区划代码 `CSDM` 识别）报来的月度数据，
# 把中心报送的统计报表（建金3-1，表 `TJBB`）与业务数据核对，每月给各中心打分、排名。这个笔记本用 `gjj` 领域包：
#
# 1. 全省平均分和一人多户率、睡眠账户率、报表一致率的月度走势；
# 2. 最近一期的中心排名（得分、等级、与上期相比的名次变化）；
# 3. 报表核对（`dq reconcile --domain gjj`）：报送值、应为、差额，差在哪一行，计算值背后是哪些业务记录；
# 4. 睡眠账户清单：最近一个月各中心有多少、涉及多少余额；
# 5. 一人多户清单：同一证件号码有两个以上正常账户的人，按稳定的哈希（`group_key`）分组，便于合并账户。
#
# 所有输出中的个人信息（姓名、证件号码、手机号）都已脱敏；报表核对和两张清单都从工具包写出的（已脱敏的）文件读取。

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from toolkit import fonts, lessons, run_check, write_outputs
from toolkit.history import score_history
from toolkit.reconcile import DIFFERS, reconcile, write_reconcile

# %% tags=["parameters"]
# 参数 / parameters
DOMAIN = "gjj"  # 领域包：住房公积金
DATA_DIR = "../demo_out/gjj/sample"  # make demo 生成的示例数据（incremental/ 下每月一个批次文件夹 YYYY-MM）
HISTORY = "../demo_out/gjj/scores/history.duckdb"  # 规则计数历史库（make demo 已写好；不存在时新建）
WORK_DIR = "../demo_out/gjj/notebooks/08_gjj_reconcile"  # scores.csv、reconcile.csv、清单等写在这里
PERIOD = "month"  # 统计周期：公积金的批次是月度的

# %%
data = lessons.sample_dir(DATA_DIR)
months = sorted(p for p in (data / "incremental").iterdir() if p.is_dir())
run = score_history(data / "incremental", WORK_DIR, by=PERIOD, domain=DOMAIN, store=HISTORY or None)
u = run.update
print(
    f"月度批次 {u.batches} 个（{months[0].name} 至 {months[-1].name}），本次新计数 {u.counted} 个，"
    f"用时 {u.seconds:.1f} 秒"
)

# %% [markdown]
# ## 1. 全省的月度走势
#
# 每个中心每月一个综合得分；全省平均分是各中心得分的平均。三项公积金特有的指标按全省合计的分子、分母计算
# （不是各中心比率的平均）：一人多户率（越低越好）、睡眠账户率（越低越好）、报表一致率（报送的建金3-1 各行
# 与业务数据核对一致的比例）。

# %%
ind = pd.read_csv(Path(WORK_DIR) / "indicators.csv", dtype={"unit_code": str}, encoding="utf-8-sig")
wanted = {"multi_rate": "一人多户率", "dormant_rate": "睡眠账户率", "report_ok": "报表一致率"}
province = (
    ind[ind["indicator"].isin(list(wanted))]
    .groupby(["period", "indicator"])[["numerator", "denominator"]]
    .sum()
    .reset_index()
)
province["rate"] = province["numerator"] / province["denominator"]
trend = province.pivot(index="period", columns="indicator", values="rate").rename(columns=wanted)
trend.insert(0, "全省平均分", run.trend.set_index("period")["average"])
print(
    f"全省平均分：{trend.index[0]} {trend['全省平均分'].iloc[0]:.1f} → "
    f"{trend.index[-1]} {trend['全省平均分'].iloc[-1]:.1f}"
)
trend.tail(12).style.format({"全省平均分": "{:.1f}", **{v: "{:.2%}" for v in wanted.values()}})

# %%
fonts.setup_matplotlib()
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
left.plot(trend.index, trend["全省平均分"], marker="o", color="#2471a3")
left.set(title="全省平均分", xlabel="统计期", ylabel="分")
for label, colour in [("一人多户率", "#c0392b"), ("睡眠账户率", "#7d3c98")]:
    right.plot(trend.index, trend[label] * 100, marker=".", color=colour, label=label)
right.set(title="一人多户率与睡眠账户率", xlabel="统计期", ylabel="%")
right.legend(loc="upper right")
step = max(1, len(trend) // 8)
for ax in (left, right):
    ax.set_xticks(range(0, len(trend), step), trend.index[::step], rotation=45, ha="right")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. 最近一期的中心排名
#
# 名次和等级取自评分模型（`expectations/gjj/scoring.yaml`），名次变化与上一期比较（↑ 进步、↓ 退步、— 不变）。

# %%
ranking = lessons.ranking_table(run.table, domain=DOMAIN)
print(f"{run.table['period'].max()}：{len(ranking)} 个中心")
ranking.style.format({"得分": "{:.1f}", "上期得分": "{:.1f}", "得分变化": "{:+.1f}"}, na_rep="").hide()

# %% [markdown]
# ## 3. 报表核对：建金3-1 的报送值与业务数据
#
# 与 `dq reconcile --domain gjj --history 数据目录` 相同：每个中心每月每一行有三种核对——
#
# - `matches`：由业务数据计算的行（如 108 本期实缴存额 = 当月汇缴、补缴发生额之和，折成万元）报送值与计算值比较，
#   个数要完全相等，金额允许 ±0.01 万元；
# - `identity`：表内勾稽关系（如 114 = 103 + 108）；
# - `carry`：期初行等于上月的期末行（如本月 103 = 上月 114），需要上个月的批次。
#
# 结果写成 `reconcile.csv`、`reconcile_basis.csv` 和 `reconcile.xlsx`（已脱敏），下面从写出的文件读取。

# %%
rec = reconcile(months, domain=DOMAIN)
paths = write_reconcile(rec, Path(WORK_DIR) / "reconcile")
rows = pd.read_csv(paths["reconcile"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
basis = pd.read_csv(paths["basis"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
by_month = pd.crosstab(rows["month"], rows["status"]).rename_axis(index="月份", columns="")
print(
    f"核对 {len(rec.batches)} 个月度批次、{len(rows):,} 项，其中{DIFFERS} {len(rec.differences)} 项，"
    f"用时 {rec.seconds:.1f} 秒；写出 {paths['xlsx'].name}"
)
by_month.tail(12)

# %% [markdown]
# 不一致的行：报送了多少、应为多少、差多少（报送 − 应为）、单位，以及计算值背后有几条业务记录（前几条的表名和
# 记录号）。勾稽和结转的不一致，“依据”一栏写的是所用的公式。

# %%
differs = rows[rows["status"] == DIFFERS]
per_centre = differs.groupby(["unit_code", "unit_name"]).size().rename("不一致项数").reset_index()
print(
    f"{len(differs)} 项不一致，涉及 {len(per_centre)} 个中心："
    + "、".join(f"{r.unit_name} {r.不一致项数} 项" for r in per_centre.itertuples())
)
differs[
    [
        "month",
        "unit_name",
        "line",
        "check",
        "filed",
        "expected",
        "difference",
        "line_unit",
        "basis_rows",
        "basis",
    ]
].rename(
    columns={
        "month": "月份",
        "unit_name": "中心",
        "line": "行次",
        "check": "核对",
        "filed": "报送值",
        "expected": "应为",
        "difference": "差额",
        "line_unit": "单位",
        "basis_rows": "业务记录数",
        "basis": "依据（业务记录或公式）",
    }
).head(15).style.hide()

# %% [markdown]
# 计算值背后的业务记录：取第一项 `matches` 不一致（没有时取一项一致的 108 行作示范），列出组成计算值的每一条
# 业务记录（表、记录号、计数的账号、金额）。中心据此核对是统计口径错了，还是业务数据错了。

# %%
computed = rows[rows["check"] == "matches"]
pick = pd.concat([computed[computed["status"] == DIFFERS], computed[computed["line"] == "108"]]).head(1)
one = pick.iloc[0]
behind = basis[
    (basis["batch"] == one["batch"])
    & (basis["unit_code"] == one["unit_code"])
    & (basis["line"] == one["line"])
]
print(
    f"{one['month']} {one['unit_name']} 第 {one['line']} 行（{one['status']}）：报送 {one['filed']}，"
    f"应为 {one['expected']}，差 {one['difference']} {one['line_unit']}；背后 {len(behind)} 条业务记录"
)
behind[["table", "record_key", "counted", "amount"]].rename(
    columns={"table": "表", "record_key": "记录号", "counted": "计数的账号", "amount": "金额（元）"}
).head(10).style.hide()

# %% [markdown]
# ## 4. 睡眠账户清单
#
# 检查最近一个月的批次（`dq check` 同时写出 `dormant.csv` 和 `multi_account.csv`）。睡眠账户（规则
# `gjj.grxx.dormant`，警告）：封存满 24 个月、且 24 个月以上没有任何业务的账户。

# %%
latest = months[-1]
result = run_check(latest, domain=DOMAIN, mode="incremental")
written = write_outputs(result, Path(WORK_DIR) / f"check_{latest.name}")
dormant = pd.read_csv(written["dormant"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
dormant["账户余额"] = pd.to_numeric(dormant["账户余额"], errors="coerce")
dormant_by_centre = (
    dormant.groupby("unit_name")
    .agg(睡眠账户数=("record_key", "size"), 余额合计_万元=("账户余额", lambda s: round(s.sum() / 10000, 2)))
    .sort_values("睡眠账户数", ascending=False)
    .rename_axis("中心")
)
print(
    f"{latest.name}：睡眠账户 {len(dormant)} 个，余额合计 {dormant['账户余额'].sum() / 10000:,.2f} 万元，"
    f"涉及 {len(dormant_by_centre)} 个中心"
)
dormant_by_centre

# %%
dormant.drop(columns=["unit_code", "record_key"]).head(8).style.hide()

# %% [markdown]
# ## 5. 一人多户清单
#
# 一人多户（规则 `gjj.grxx.zjhm.one_active_account`）：同一证件号码有两个以上状态为正常（01）的个人账户。
# 证件号码是判断“同一个人”的唯一依据；清单中证件号码已脱敏，同一个人的各个账户有相同的 `group_key`
# （证件号码的稳定哈希，每次运行、每张清单都相同），按它分组就能合并账户（保留一个，其余合并销户 03）。

# %%
multi = pd.read_csv(written["multi_account"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
people = multi.groupby(["unit_name", "group_key"]).size().rename("账户数").reset_index()
multi_by_centre = (
    people.groupby("unit_name")
    .agg(人数=("group_key", "size"), 账户数=("账户数", "sum"))
    .sort_values("人数", ascending=False)
    .rename_axis("中心")
)
print(f"{latest.name}：一人多户 {multi['group_key'].nunique()} 人、{len(multi)} 个账户")
multi_by_centre

# %%
multi.drop(columns=["unit_code", "record_key"]).head(10).style.hide()
