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
# # 第 6 集 · 双公示：读懂退回原因，7 个工作日内改好
#
# 给各部门双公示经办人的练习：读懂一条退回（平台提示 → 白话 → 怎么改）、双公示十类常见错误、按工作日数
# 7 天的上报时限，以及为什么退回的记录改得快就仍算及时。示例数据是虚构的东莞市各部门的上报记录，
# 个人信息在所有输出中都已脱敏。

# %%
import datetime as dt

import pandas as pd

from toolkit import lessons, load_domain, run_check, workdays
from toolkit.common_problems import build_common_problems
from toolkit.history import score_history
from toolkit.timeliness import deadline, judge_records, timeliness_spec

# %% tags=["parameters"]
# 参数 / parameters
DOMAIN = "sgs"  # 领域包：双公示
DATA_DIR = "../../../demo_out/sgs/sample"  # make demo 生成的示例数据
CHECK_DIR = "../../../demo_out/sgs/check_stock"  # make demo 对存量数据的检查结果（problems.csv）
HISTORY = "../../../demo_out/sgs/scores/history.duckdb"  # 规则计数历史库（不存在时新建，首次较慢）
WORK_DIR = "../../../demo_out/sgs/training/06-sgs-disclosure"  # 练习的输出写在这里

# %% [markdown]
# ## 1. 读一条退回
#
# 检查最近一天各部门的上报，取问题最多的部门，看它的前几条问题：哪个文件、第几行、哪个字段，
# 平台的技术原文（平台提示）、白话说明和整改办法。值已脱敏。

# %%
dom = load_domain(DOMAIN)
tech = {r.rule_id: r.meta.get("message_tech_zh", "") for r in dom.rules}
day = lessons.day_batches(DATA_DIR)[-1]
result = run_check(day, domain=DOMAIN, mode="incremental")
problems = result.problems
worst = problems["unit_name"].value_counts()
print(
    f"{day.name}：{len(problems)} 条问题，涉及 {len(worst)} 个部门；问题最多的是 {worst.index[0]}（{worst.iloc[0]} 条）"
)
one = problems[problems["unit_name"] == worst.index[0]].assign(平台提示=lambda f: f["rule_id"].map(tech))
one[["file", "row", "field", "value_masked", "平台提示", "message_zh", "fix_zh", "severity"]].rename(
    columns={
        "file": "文件",
        "row": "行号",
        "field": "字段",
        "value_masked": "值（已脱敏）",
        "message_zh": "问题说明",
        "fix_zh": "整改办法",
        "severity": "严重程度",
    }
).head(5)

# %% [markdown]
# ## 2. 双公示十类常见错误
#
# 把存量数据的问题按规则一数，问题最多的十类就是常见错误。每类都给出平台提示（技术原文）、白话说明和整改办法，
# 这就是市信用办发给各部门的“常见问题清单”。

# %%
_, stock_problems, _ = lessons.load_check_output(CHECK_DIR)
cp = build_common_problems(stock_problems, domain=DOMAIN)
cols = [c for c in ["序号", "平台提示", "问题说明", "整改办法", "问题条数"] if c in cp.rules.columns]
print(f"存量数据共 {cp.total} 条问题、{len(cp.rules)} 类；前十类：")
cp.rules[cols].head(10)

# %% [markdown]
# ## 3. 数工作日：7 个工作日的上报时限
#
# 2024 年 9 月 27 日（周五）作出的决定。从下一天数起，只数工作日：国庆假期不算，调休上班的周日、周六要算。

# %%
calendar = workdays.active_calendar()
limit = timeliness_spec(DOMAIN).working_days
decided = dt.date(2024, 9, 27)
days = [d.date() for d in pd.date_range(decided + dt.timedelta(days=1), periods=25)]
counted = [d for d in days if calendar.is_workday(d)][:9]
count_table = pd.DataFrame(
    {
        "第几个工作日": range(1, len(counted) + 1),
        "日期": [d.isoformat() for d in counted],
        "星期": ["一二三四五六日"[d.weekday()] for d in counted],
        "是否在时限内": ["是" if i <= limit else "否（迟报）" for i in range(1, len(counted) + 1)],
    }
)
print(f"决定日期 {decided}，上报时限的最后一天：{deadline(decided, limit, calendar)}")
count_table

# %% [markdown]
# ## 4. 改得快，仍算及时
#
# 一条记录（部门 + 决定文书号）按它**首次通过的上报**判定。下表只看被退回过的记录：从决定日期到首次通过
# 用了几个工作日，及时的和迟报的各有多少。

# %%
run = score_history(
    lessons.sample_dir(DATA_DIR) / "incremental", WORK_DIR, by="month", domain=DOMAIN, store=HISTORY or None
)
records = judge_records(run.frames["uploads"], working_days=limit)
rejected = records[(records["first_upload"] != records["first_accepted"]) & records["first_accepted"].notna()]
print(
    f"被退回过、后来改正通过的记录 {len(rejected)} 条，其中仍算及时的 "
    f"{int((rejected['status'] == 'timely').sum())} 条"
)
pd.crosstab(
    rejected["working_days"].astype(int), rejected["status"].map({"timely": "及时", "late": "迟报"})
).rename_axis(index="用了几个工作日", columns="")
