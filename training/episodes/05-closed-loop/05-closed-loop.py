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
# # 第 5 集 · 从发现问题到销号：闭环整改
#
# 发现 → 下发 → 整改 → 复核 → 销号。本笔记本用两次检查的对照说明这个过程；
# 正式的状态、期限和责任人由问题台账记录（见最后一个单元格的说明）。

# %%
import datetime as dt
from pathlib import Path

import pandas as pd

import toolkit
from toolkit import lessons
from toolkit.workdays import WorkdayCalendar

# %% tags=["parameters"]
# 参数（教员可以改）/ parameters
DATA_DIR = "../../../demo_out/sample"  # make demo 生成的示例数据
WORK_DIR = "../../../demo_out/training/05-closed-loop"  # 练习副本和各区县的改正表放在这里
DAY = ""  # 检查哪一天的增量批次，如 "2024-12-31"；空 = 最早的一天（示例数据越早，错误越多）
FOUND_DATE = ""  # 发现日期，如 "2024-09-27"；空 = 所检查批次的日期
CALENDAR_DAYS = 21  # 日历列出发现日之后多少天

# %% [markdown]
# ## 1. 发现：检查一天的增量批次（练习副本）

# %%
day = lessons.sample_dir(DATA_DIR) / "incremental" / DAY if DAY else lessons.day_batches(DATA_DIR)[0]
work = lessons.working_copy(day, WORK_DIR, name="批次")
found = toolkit.run_check(work, mode="incremental")
problems = found.problems
print(
    f"批次 {day.name}：发现问题 {len(problems)} 个（严重 {int((problems['severity'] == 'critical').sum())} 个）"
)
problems.groupby(["QXDM", "severity"]).size().unstack(fill_value=0)

# %% [markdown]
# ## 2. 整改期限：按工作日数
#
# 发现当天是第 0 天；“已用工作日”第一次等于 3 的日期是严重问题的期限，等于 10 的是警告的期限。

# %%
start = dt.date.fromisoformat(FOUND_DATE or day.name)
calendar = WorkdayCalendar()
dates = [start + dt.timedelta(days=i) for i in range(CALENDAR_DAYS)]
pd.DataFrame(
    {
        "日期": dates,
        "星期": ["一二三四五六日"[d.weekday()] for d in dates],
        "工作日": ["是" if calendar.is_workday(d) else "" for d in dates],
        "已用工作日": [calendar.workdays_elapsed(start, d) for d in dates],
    }
)

# %% [markdown]
# ## 3. 下发：每个区县一份改正表
#
# 真实工作中发给区县的责任人；这里写在 `WORK_DIR` 里。

# %%
sheets = {}
for qxdm, group in problems.assign(QXDM=problems["QXDM"].fillna("")).groupby("QXDM"):
    sheets[qxdm] = Path(WORK_DIR) / f"改正表_{qxdm or '未填区县'}.xlsx"
    lessons.fix_sheet(group, sheets[qxdm])
pd.DataFrame({"改正表": [p.name for p in sheets.values()]}, index=list(sheets))

# %% [markdown]
# ## 4. 整改：区县按改正表改正（这里用教员答案代替）

# %%
changed = 0
for path in sheets.values():
    lessons.fill_suggestions(path, work)
    changed += len(lessons.apply_fix_sheet(path, work))
print(f"改正 {changed} 处")

# %% [markdown]
# ## 5. 复核：重新检查同一批记录
#
# 已消除 → 待复核（复核通过即销号）；仍存在 → 退回；新出现 → 作为新问题“发现”。

# %%
rechecked = toolkit.run_check(work, mode="incremental")
compared = lessons.compare_problems(problems, rechecked.problems)
compared["下一个状态"] = compared["状态"].map(
    {"已消除": "待复核 → 已销号", "仍存在": "退回", "新出现": "发现"}
)
compared.groupby(["状态", "下一个状态"]).size().rename("问题数").to_frame()

# %%
compared[compared["状态"] == "仍存在"][["rule_id", "QXDM", "file", "row", "message_zh"]].head(10)

# %%
# TODO-ledger：台账 API（toolkit.ledger / dq ledger）合入后，第 3–5 节改用问题台账：
# 第一次检查写入台账（发现），dq ledger update 下发、开始整改，复核时由检查自动转入待复核或退回，
# 并显示每个问题的整改期限（toolkit.ledger.deadline_for）、责任人、事件记录，以及销账率和整改及时率。
