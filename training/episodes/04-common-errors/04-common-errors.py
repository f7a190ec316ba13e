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
# 1. 复制一份批次做练习 → 2. 找出十大常见错误 → 3. 生成改正表 → 4. 填写“改为” → 5. 写回并重新检查 →
# 6. 看哪些问题消除了。练习改的是副本，示例数据本身不变。

# %%
from pathlib import Path

import toolkit
from toolkit import corrections, lessons

# %% tags=["parameters"]
# 参数（教员可以改）/ parameters
DOMAIN = "bdc"  # 领域包（expectations/ 下的文件夹名）
DATA_DIR = "../../../demo_out/bdc/sample"  # make demo 生成的示例数据
WORK_DIR = "../../../demo_out/bdc/training/04-common-errors"  # 练习副本、改正表、备份和改正记录放在这里
BATCH = "stock"  # 练习用的批次：stock（存量），或某一天，如 "incremental/2024-12-31"
TOP_N = 10
ANSWER_KEY = True  # True：“改为”为空的地方用教员答案自动填写；学员自己在 Excel/WPS 中填写时改为 False

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
lessons.examples(before.problems, top["规则编号"].iloc[0], 5) if len(top) else "没有问题。"

# %% [markdown]
# ## 3. 生成改正表
#
# 十大错误的每个问题一行。用 Excel/WPS 打开，在“改为”一列填写正确的值（清空单元格填“（空）”），
# 直接保存。**只填“改为”和“备注”两列**（这两列已设为文本格式，18 位证件号不会变成科学计数法）。

# %%
sheet_path = Path(WORK_DIR) / "改正表.xlsx"
sheet = corrections.write_sheet(before.problems, sheet_path, domain=DOMAIN, rules=top["规则编号"])
print(f"改正表：{sheet_path.resolve()}（{len(sheet)} 条）")
sheet[["序号", "规则编号", "文件", "行号", "字段名称", "当前值（已脱敏）"]].head(10)

# %% [markdown]
# ## 4. 填写“改为”
#
# 现在去 Excel/WPS 中填写改正表并保存。`ANSWER_KEY = True` 时，空着的“改为”由教员答案填写：
# 只改格式类问题（时间写法、单位、括号、空格、小写 x），证件号按校验码重算（备注提醒：实际须对照原件）；
# 其余问题要查档案，留空。

# %%
sheet = (
    corrections.fill_suggestions(sheet_path, work, domain=DOMAIN)
    if ANSWER_KEY
    else corrections.read_sheet(sheet_path)
)
filled = sheet["改为"].str.strip() != ""
print(f"已填写“改为”：{int(filled.sum())} / {len(sheet)} 条")
filled.groupby(sheet["规则编号"]).agg(["sum", "size"]).rename(columns={"sum": "已填", "size": "问题数"})

# %% [markdown]
# ## 5. 写回批次并重新检查
#
# 先核对改正表：工具逐条找到批次中的单元格，列出要改的地方（值已脱敏），这一步不改任何文件。
# 文件名、行号、字段对不上，或“改为”像公式的，会在这里报错并说明怎么改。

# %%
plan = corrections.plan_corrections(sheet_path, work, domain=DOMAIN)
print(f"要改 {len(plan)} 处（涉及 {', '.join(plan.files) or '无'}），已经是正确值的 {plan.unchanged} 处")
plan.table().head(10)

# %% [markdown]
# 再写入练习副本：原文件先备份在 `批次_备份/`，每处改动记入 `改正记录.csv`（值已脱敏）；
# 没有改到的记录一个字节都不变。

# %%
changes = corrections.apply_corrections(plan)
print(f"改动 {len(changes)} 处；备份：{corrections.default_backup_dir(work).name}/")
changes.head(10)

# %%
after = toolkit.run_check(work, domain=DOMAIN, mode=mode)
print(f"改正前问题 {len(before.problems)} 个 → 改正后 {len(after.problems)} 个")

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
