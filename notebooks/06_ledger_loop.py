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
# # 问题台账闭环 · The problem ledger's closed loop
#
# 发现 → 已下发 → 整改中 → 待复核 → 已销号（或退回）。本笔记本在一个新建的台账中把一天的问题走完整个闭环：
#
# 1. 检查一天的增量批次（练习副本），问题第一次出现时进入台账（`dq check --ledger`）：状态“发现”，
#    按严重程度算出整改期限（工作日），从区县名单带出责任人；
# 2. 市局下发、区县开始整改（`dq ledger update`），区县按改正表改正能在案头改的记录；
# 3. 重新检查同一批记录（复核）：不再出现的问题自动转入待复核并销号；区县说“改好了”、复核仍发现的退回；
# 4. 看每个问题的流转记录、逾期情况，以及计入评分的销账率和整改及时率。
#
# 台账中只存脱敏后的值；责任人是区县名单中的工作人员，不是登记的当事人。

# %%
import datetime as dt
from pathlib import Path

import pandas as pd

import toolkit
from toolkit import corrections, ledger, lessons

# %% tags=["parameters"]
# 参数 / parameters
DOMAIN = "bdc"  # 领域包（expectations/ 下的文件夹名）
DATA_DIR = "../demo_out/bdc/sample"  # make demo 生成的示例数据
WORK_DIR = "../demo_out/bdc/notebooks/06_ledger_loop"  # 练习副本、台账文件和改正表放在这里（每次运行重新建立）
DAY = ""  # 用哪一天的增量批次，如 "2024-12-02"；空 = 最早的一天（示例数据越早，错误越多）
DISTRICT = ""  # 看哪个区县的下发清单（区县代码）；空 = 问题最多的区县
PERIOD = "month"  # 销账率、整改及时率按什么周期统计：day、week、month
ISSUER = "市局质检员"  # 下发人
CLERK = "区县登记员"  # 整改人
REVIEWER = "dq check（复核）"  # 复核：重新检查

# %% [markdown]
# ## 1. 发现：检查并写入台账
#
# 台账是一个 SQLite 文件。问题按“规则 + 记录（业务号等）+ 字段”识别，重新导出、行号变了也还是同一个问题。

# %%
work_dir = Path(WORK_DIR)
day = lessons.sample_dir(DATA_DIR) / "incremental" / DAY if DAY else lessons.day_batches(DATA_DIR)[0]
work = lessons.working_copy(day, work_dir, name="批次")
ledger_path = work_dir / "问题台账.sqlite"
for old in work_dir.glob("问题台账.sqlite*"):  # 每次运行从空台账开始
    old.unlink()
found = toolkit.run_check(work, domain=DOMAIN, mode="incremental")
opened = ledger.sync_check(ledger_path, found, actor="dq check")
headings = ledger.labels_zh(ledger.ledger_info(ledger_path))  # 中文表头（区县代码、责任人……）
print(f"批次 {day.name}，数据截止时间 {found.as_of}")
print(opened.line())

# %%
show = ["problem_id", "state", "unit_code", "rule_id", "severity", "value_masked", "found_at", "deadline"]
staff = ["responsible", "responsible_unit", "phone_masked"]
problems = ledger.problems_frame(ledger_path, as_of=found.as_of)
problems[show + staff].rename(columns=headings)

# %% [markdown]
# 整改期限 = 发现之日起的工作日数（`expectations/bdc/ledger.yaml`：严重 3 个、警告 10 个工作日；
# 节假日和调休按国家安排）。

# %%
calendar = toolkit.WorkdayCalendar()
found_day = found.as_of.date()
config = ledger.load_config(DOMAIN)
pd.DataFrame(
    {
        "严重程度": ["严重（critical）", "警告（warning）"],
        "工作日": [config.workdays_for("critical"), config.workdays_for("warning")],
        "整改期限": [
            ledger.deadline_for(found_day, config.workdays_for(s), calendar) for s in ("critical", "warning")
        ],
    }
)

# %% [markdown]
# ## 2. 下发和整改
#
# 下一个工作日上午，市局把问题按区县下发给责任人（每个区县一份改正表）；区县当天开始整改。
# 每一步都写明操作人和时间，台账只追加记录，不改、不删历史。

# %%
next_day = ledger.deadline_for(found_day, 1, calendar)
ids = problems["problem_id"].tolist()
ledger.update(ledger_path, ids, "已下发", actor=ISSUER, at=f"{next_day} 09:00:00", note="按区县下发问题清单")
ledger.update(ledger_path, ids, "整改中", actor=CLERK, at=f"{next_day} 14:00:00", note="对照原件开始整改")
sheets = {}
for qxdm, group in found.problems.assign(unit_code=found.problems["unit_code"].fillna("")).groupby(
    "unit_code"
):
    sheets[qxdm] = work_dir / f"改正表_{qxdm or '未填区县'}.xlsx"
    corrections.write_sheet(group, sheets[qxdm], domain=DOMAIN)
district = DISTRICT or found.problems["unit_code"].value_counts().index[0]
print(f"改正表：{', '.join(p.name for p in sheets.values())}")
print(f"{district} 的下发清单：")
corrections.read_sheet(sheets[district])[
    ["序号", "规则编号", "文件", "行号", "字段名称", "当前值（已脱敏）", "问题说明"]
]

# %% [markdown]
# 区县按改正表改正能在案头改的记录（格式、多余空格、校验位；这里用教员答案代替）；其余需要调档案核实，
# 暂时改不了。

# %%
changed = 0
for path in sheets.values():
    corrections.fill_suggestions(path, work, domain=DOMAIN)
    changed += len(corrections.apply_sheet(path, work, domain=DOMAIN))
filled = pd.concat([corrections.read_sheet(p) for p in sheets.values()], ignore_index=True).astype(
    {"行号": int}
)
print(f"改正 {changed} 处；{(filled['改为'] == '').sum()} 个问题需要查阅档案，这次没有改")

# %% [markdown]
# 有个区县说一个问题“已经改好了”，提请复核（整改中 → 待复核）——其实这条记录没有改。

# %%
not_fixed = filled[filled["改为"] == ""].merge(
    problems, left_on=["规则编号", "文件", "行号"], right_on=["rule_id", "file", "row"]
)
claimed = int(not_fixed["problem_id"].iloc[0]) if len(not_fixed) else None
if claimed is not None:
    ledger.update(
        ledger_path, claimed, "待复核", actor=CLERK, at=f"{next_day} 17:00:00", note="区县称已整改，提请复核"
    )
print(f"提请复核的问题：{claimed}")

# %% [markdown]
# ## 3. 复核：重新检查同一批记录
#
# 只有重新检查了同一条记录、问题不再出现，才能销号（待复核 → 已销号）；仍然出现的，待复核的退回，整改中的继续整改。
# 记录没有出现在批次里不算改好。

# %%
review_day = ledger.deadline_for(next_day, 1, calendar)
rechecked = toolkit.run_check(work, domain=DOMAIN, mode="incremental")
report = ledger.sync_check(ledger_path, rechecked, as_of=f"{review_day} 10:00:00", actor=REVIEWER)
print(report.line())
after = ledger.problems_frame(ledger_path, as_of=review_day)
after.assign(unit_code=after["unit_code"].replace("", "（未填区县）")).groupby(
    ["unit_code", "state"]
).size().unstack(fill_value=0).rename_axis(index="区县代码", columns="状态")

# %% [markdown]
# 退回的问题回到“整改中”，重新整改。

# %%
returned = after.loc[after["state"] == "退回", "problem_id"].tolist()
if returned:
    ledger.update(
        ledger_path, returned, "整改中", actor=CLERK, at=f"{review_day} 14:00:00", note="退回后重新整改"
    )
after = ledger.problems_frame(ledger_path, as_of=review_day)
after[[*show, "closed_at"]].rename(columns=headings)

# %% [markdown]
# ## 4. 流转记录
#
# 每个问题的每一步：谁、什么时候、从什么状态到什么状态、为什么。先看一个已销号的，再看那个被退回的。

# %%
events = ledger.events_frame(ledger_path)
closed_ids = after.loc[after["state"] == "已销号", "problem_id"].tolist()
picked = closed_ids[:1] + ([claimed] if claimed is not None else [])
cols = ["problem_id", "seq", "at", "actor", "from_state", "to_state", "note"]
events[events["problem_id"].isin(picked)].sort_values(["problem_id", "seq"])[cols].rename(columns=headings)

# %% [markdown]
# ## 5. 逾期和闭环指标
#
# 一个月后再看：还没有销号、已过整改期限的问题算逾期（逾期工作日按工作日数）。
# 销账率 = 到期问题中已销号的比例，整改及时率 = 到期问题中在期限内改好（转入待复核）的比例；
# 它们是评分模型中“闭环”维度的两项指标。

# %%
month_later = found_day + dt.timedelta(days=30)
overdue = ledger.problems_frame(ledger_path, overdue=True, as_of=month_later)
print(f"{month_later} 逾期未销号的问题：{len(overdue)} 个")
overdue[
    ["problem_id", "state", "unit_code", "rule_id", "deadline", "overdue_workdays", "responsible"]
].rename(columns=headings)

# %%
figures = ledger.ledger_figures(ledger_path, PERIOD, as_of=month_later)
figures.assign(
    reconcile_rate=(figures["reconcile_rate"] * 100).round(1),
    fix_on_time=(figures["fix_on_time"] * 100).round(1),
).rename(
    columns={
        "unit_code": "区县代码",
        "period": "统计期",
        "period_start": "起",
        "period_end": "止",
        "problems_due": "到期问题数",
        "closed_after_recheck": "复核后销号",
        "fixed_before_deadline": "期限内改好",
        "reconcile_rate": "销账率（%）",
        "fix_on_time": "整改及时率（%）",
    }
)

# %% [markdown]
# 导出给各区县的台账（Excel：问题台账、流转记录两个工作表，表头为中文，值已脱敏）：

# %%
exported = ledger.export_ledger(ledger_path, work_dir / "问题台账.xlsx", as_of=month_later)
print(f"台账：{ledger_path}")
print(f"导出：{exported}")
