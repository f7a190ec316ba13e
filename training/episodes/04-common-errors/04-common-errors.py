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
# # 第 4 集 · 十大常见错误及改法
#
# 1. 复制一份批次做练习 → 2. 找出十大常见错误 → 3. 生成整理计划（`dq clean plan`）→ 4. 审核计划 →
# 5. 批准执行并重新检查（`dq clean apply`）→ 6. 看哪些问题消除了 → 7. 查记录、撤销（`dq clean log`、
# `dq clean undo`）。练习改的是副本，示例数据本身不变。

# %%
from pathlib import Path

import toolkit
from toolkit import clean, corrections, lessons

# %% tags=["parameters"]
# 参数（教员可以改）/ parameters
DOMAIN = "bdc"  # 领域包（expectations/ 下的文件夹名）
DATA_DIR = "../../../demo_out/bdc/sample"  # make demo 生成的示例数据
WORK_DIR = "../../../demo_out/bdc/training/04-common-errors"  # 练习副本、整理计划、备份和整理记录放在这里
BATCH = "stock"  # 练习用的批次：stock（存量），或某一天，如 "incremental/2024-12-31"
TOP_N = 10
APPROVER = "数据质量领导小组（练习）"  # 批准人：整理记录里写的就是这个名字

# %% [markdown]
# ## 1. 复制批次，检查

# %%
mode = "stock" if BATCH == "stock" else "incremental"
work = lessons.working_copy(lessons.sample_dir(DATA_DIR) / BATCH, WORK_DIR, name="批次")
before = toolkit.run_check(work, domain=DOMAIN, mode=mode)
print(f"练习副本：{work.resolve()}")
print(
    f"{before.batch.rows_read} 行，问题 {len(before.problems)} 个，严重规则未通过 {len(before.critical_failures)} 条"
)

# %% [markdown]
# ## 2. 十大常见错误

# %%
top = lessons.top_errors(before.problems, TOP_N, domain=DOMAIN)
top

# %% [markdown]
# 问题最多的那条规则的例子（值已脱敏；按文件和行号到批次中找原记录）：

# %%
lessons.examples(before.problems, top["规则编号"].iloc[0], 5, domain=DOMAIN) if len(top) else "没有问题。"

# %% [markdown]
# ## 3. 生成整理计划
#
# 格式问题不用手工一格一格地改：领域包声明了哪些字段可以用哪些**整理器**（日期写法、全角字符、小写 x、
# 多余空格、数字后的单位……），工具把能确定唯一正确写法的格式问题列成计划。这一步**不改任何文件**。
# 命令行的做法相同：`dq clean plan --domain bdc --input 批次 --out 整理计划`。

# %%
plan_dir = Path(WORK_DIR) / "整理计划"
plan = clean.make_plan(work, domain=DOMAIN)
paths = clean.write_plan(plan, plan_dir)
print(f"计划：{len(plan.changes)} 处改动，{len(plan.needs_person)} 处需人工；审核用 {paths['plan.xlsx'].resolve()}")
plan.summary()

# %% [markdown]
# ## 4. 审核计划
#
# 用 Excel/WPS 打开 `整理计划/plan.xlsx`：“改动”表是每一处改动（文件、行号、字段、原值和新值都已脱敏，
# “改法”一列说明改了哪些字符），“需人工”表是工具**不猜**的问题和原因（校验码不对、日期读不出来、
# Excel 日期序列号……），要查档案改。先看前十处改动：

# %%
plan.changes_table()[["file", "row", "field_label", "fixers", "old_masked", "new_masked", "detail"]].head(10)

# %% [markdown]
# 需人工的问题，按原因数一数：

# %%
plan.needs_person_table().groupby(["field_label", "reason_zh"]).size().sort_values(ascending=False).head(10)

# %% [markdown]
# ## 5. 批准执行，重新检查
#
# 审核批准后执行（命令行：`dq clean apply --plan 整理计划 --approved-by 批准人 --in-place`）。
# 工具先核对批次在生成计划后没有被改动过（文件哈希），改动过就拒绝；再把要改的原文件备份（SHA-256 核对），
# 只改计划中的单元格（编码、列顺序、行顺序、其他字节都不变），每一处改动记入整理记录（值已脱敏）。
# 练习直接改练习副本（`in_place=True`）；不加时写到新文件夹，原批次不动。

# %%
log = Path(WORK_DIR) / "整理记录.sqlite"
result = clean.apply_plan(plan_dir, approved_by=APPROVER, log=log, in_place=True)
print(f"运行 {result.run_id}：改动 {result.changes} 处，{len(result.files)} 个文件；备份（含个人信息）：{result.backup}")
after = toolkit.run_check(work, domain=DOMAIN, mode=mode)
print(f"整理前问题 {len(before.problems)} 个 → 整理后 {len(after.problems)} 个")

# %% [markdown]
# ## 6. 哪些问题消除了？
#
# 十大错误逐条看（最后一行“合计”是这十条规则的合计）：

# %%
in_top = before.problems["rule_id"].isin(top["规则编号"])
corrections.closure_summary(
    before.problems[in_top], after.problems[after.problems["rule_id"].isin(top["规则编号"])]
)

# %% [markdown]
# 改出来的新问题（一处改正暴露了另一处错误）：

# %%
compared = corrections.compare_problems(before.problems, after.problems)
compared[compared["状态"] == "新出现"]

# %% [markdown]
# ## 7. 查记录、撤销
#
# 整理记录只能追加：谁在什么时候批准、改了哪个文件哪一行哪个字段、原值和新值（已脱敏）及其哈希。
# 命令行：`dq clean log --log 整理记录.sqlite`，`dq clean log --run 运行编号`。

# %%
clean.log_changes(log, result.run_id)[["file", "row", "field", "fixers", "old_masked", "new_masked"]].head(5)

# %% [markdown]
# 撤销（`dq clean undo 运行编号`）：从备份逐字节恢复原文件，并核对哈希。恢复后的文件与整理前一模一样：

# %%
undo = clean.undo_run(result.run_id, log=log, by=APPROVER)
same = all(clean.sha256_file(work / name) == plan.files[name].sha256 for name in plan.changed_files)
print(f"已撤销 {undo.undone}，恢复 {len(undo.restored)} 个文件；与整理前逐字节相同：{same}")
clean.log_runs(log)[["run_id", "kind", "actor", "changes", "status"]].tail(2)
