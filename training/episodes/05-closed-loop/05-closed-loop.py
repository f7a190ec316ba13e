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
# 发现 → 下发 → 整改 → 复核 → 销号。本笔记本把一天的问题记进**问题台账**（与 `dq check --ledger`、
# `dq ledger` 相同），一步步走完闭环：每个问题的状态、整改期限、责任人和流转记录都在台账里。

# %%
import datetime as dt
from pathlib import Path

import pandas as pd

import toolkit
from toolkit import corrections, ledger, lessons
from toolkit.workdays import WorkdayCalendar

# %% tags=["parameters"]
# 参数（教员可以改）/ parameters
DOMAIN = "bdc"  # 领域包（expectations/ 下的文件夹名）
DATA_DIR = "../../../demo_out/bdc/sample"  # make demo 生成的示例数据
WORK_DIR = "../../../demo_out/bdc/training/05-closed-loop"  # 练习副本、台账和各区县的改正表放在这里
DAY = ""  # 检查哪一天的增量批次，如 "2024-12-31"；空 = 最早的一天（示例数据越早，错误越多）
FOUND_DATE = ""  # 发现日期，如 "2024-09-27"；空 = 所检查批次的日期
CALENDAR_DAYS = 21  # 日历列出发现日之后多少天

# %% [markdown]
# ## 1. 发现：检查一天的增量批次，问题进入台账
#
# 台账是一个文件（这里是 `WORK_DIR` 下的 `问题台账.sqlite`，每次运行重新建立）。问题第一次出现时进入台账，
# 状态为“发现”，按严重程度算出整改期限，从区县名单带出责任人。

# %%
work_dir = Path(WORK_DIR)
day = lessons.sample_dir(DATA_DIR) / "incremental" / DAY if DAY else lessons.day_batches(DATA_DIR)[0]
work = lessons.working_copy(day, work_dir, name="批次")
ledger_path = work_dir / "问题台账.sqlite"
for old in work_dir.glob("问题台账.sqlite*"):
    old.unlink()
found = toolkit.run_check(work, domain=DOMAIN, mode="incremental")
print(f"批次 {day.name}：{ledger.sync_check(ledger_path, found).line()}")
headings = ledger.labels_zh(ledger.ledger_info(ledger_path))  # 中文表头（区县代码、责任人……）
cols = [
    "problem_id",
    "state",
    "unit_code",
    "rule_id",
    "severity",
    "deadline",
    "responsible",
    "responsible_unit",
]
ledger.problems_frame(ledger_path, as_of=found.as_of)[cols].rename(columns=headings)

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
# 台账用同样的方法算期限（`ledger.deadline_for`）：

# %%
print(
    f"严重问题：{ledger.deadline_for(start, 3, calendar)}；警告：{ledger.deadline_for(start, 10, calendar)}"
)

# %% [markdown]
# ## 3. 下发：每个区县一份改正表，台账状态改为“已下发”
#
# 下一个工作日上午下发给各区县的责任人；台账中的每一步都写明谁、什么时候。

# %%
found_day = found.as_of.date()
next_day = ledger.deadline_for(found_day, 1, calendar)
ids = ledger.problems_frame(ledger_path)["problem_id"].tolist()
ledger.update(ledger_path, ids, "已下发", actor="市局质检员", at=f"{next_day} 09:00:00", note="下发改正表")
problems = found.problems
sheets = {}
for qxdm, group in problems.assign(unit_code=problems["unit_code"].fillna("")).groupby("unit_code"):
    sheets[qxdm] = work_dir / f"改正表_{qxdm or '未填区县'}.xlsx"
    corrections.write_sheet(group, sheets[qxdm], domain=DOMAIN)
pd.DataFrame({"改正表": [p.name for p in sheets.values()]}, index=list(sheets))

# %% [markdown]
# ## 4. 整改：区县按改正表改正（这里用教员答案代替），台账状态改为“整改中”

# %%
ledger.update(ledger_path, ids, "整改中", actor="区县登记员", at=f"{next_day} 14:00:00", note="对照原件整改")
changed = 0
for path in sheets.values():
    corrections.fill_suggestions(path, work, domain=DOMAIN)
    changed += len(corrections.apply_sheet(path, work, domain=DOMAIN))
print(f"改正 {changed} 处")

# %% [markdown]
# ## 5. 复核：重新检查同一批记录
#
# 不再出现的问题自动转入“待复核”并销号；仍然出现的继续整改（已经提请复核的则“退回”）。

# %%
review_day = ledger.deadline_for(next_day, 1, calendar)
rechecked = toolkit.run_check(work, domain=DOMAIN, mode="incremental")
print(
    ledger.sync_check(ledger_path, rechecked, as_of=f"{review_day} 10:00:00", actor="dq check（复核）").line()
)
after = ledger.problems_frame(ledger_path, as_of=review_day)
after.groupby("state").size().rename("问题数").rename_axis("状态").to_frame()

# %%
after[after["state"] != "已销号"][["problem_id", "state", "rule_id", "unit_code", "message_zh"]].rename(
    columns=headings
).head(10)

# %% [markdown]
# 一个已销号问题的流转记录（台账只追加记录，不改、不删）：

# %%
closed = after.loc[after["state"] == "已销号", "problem_id"]
events = (
    ledger.events_frame(ledger_path, int(closed.iloc[0])) if len(closed) else ledger.events_frame(ledger_path)
)
events[["seq", "at", "actor", "from_state", "to_state", "note"]].rename(columns=headings)

# %% [markdown]
# ## 6. 销账率和整改及时率
#
# 一个月后统计：到期的问题中，复核后已销号的比例是**销账率**，在整改期限前改好的比例是**整改及时率**。

# %%
figures = ledger.ledger_figures(ledger_path, "month", as_of=found_day + dt.timedelta(days=30))
pd.DataFrame(
    {
        "区县代码": figures["unit_code"].replace("", "（未填区县）"),
        "统计期": figures["period"],
        "到期问题数": figures["problems_due"],
        "复核后销号": figures["closed_after_recheck"],
        "期限内改好": figures["fixed_before_deadline"],
        "销账率（%）": (figures["reconcile_rate"] * 100).round(1),
        "整改及时率（%）": (figures["fix_on_time"] * 100).round(1),
    }
)
