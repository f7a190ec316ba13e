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
# # 第 2 集 · 读懂通报
#
# 先用示例数据生成一份**真实的通报**（与 `dq score`、`dq report` 相同）：给每天的增量数据打分，
# 写出 HTML 和 Excel 两个文件；再在笔记本里逐部分读它：全省概况、排名、指标优良差、整改建议，
# 最后从整改建议追到问题清单里的具体记录。

# %%
from pathlib import Path

import pandas as pd

import toolkit
from toolkit import lessons, report, scoring
from toolkit.history import score_history

# %% tags=["parameters"]
# 参数（教员可以改）/ parameters
DOMAIN = "bdc"  # 领域包（expectations/ 下的文件夹名）
DATA_DIR = "../../../demo_out/bdc/sample"  # make demo 生成的示例数据
HISTORY = "../../../demo_out/bdc/scores/history.duckdb"  # 规则计数历史库（make demo 已写好；不存在时新建，较慢）
WORK_DIR = "../../../demo_out/bdc/training/02-bulletin"  # 通报写在这里
PERIOD = "day"  # 通报的周期：day 日报、week 周报、month 月报
TOP_N = 5  # 给最后一名区县列出几条规则

# %% [markdown]
# ## 1. 打分并生成通报
#
# 每天的批次都按规则计数、打分；一期（日、周、月）的得分是该期每日得分的平均。通报写成两个文件：
# HTML（用浏览器打开，可打印为 A4）和 Excel（各部分一个工作表）；同时写出本期的常见问题清单。

# %%
data = lessons.sample_dir(DATA_DIR)
run = score_history(
    data / "incremental", Path(WORK_DIR) / "scores", by=PERIOD, domain=DOMAIN, store=HISTORY or None
)
counts = run.frames["counts"].assign(
    period=run.frames["counts"]["period"].map(lambda d: scoring.period_label(d, PERIOD))
)
scored = {"scores": run.table, "trace": run.period.indicators, "counts": counts}
paths = report.run_report(period=PERIOD, out_dir=WORK_DIR, domain=DOMAIN, scored=scored)
for kind, path in paths.items():
    print(f"{kind:>22}：{path}")

# %% [markdown]
# ## 2. 标题、统计期和全省概况

# %%
b = report.build_bulletin(run.table, period=PERIOD, trace=run.period.indicators, counts=counts, domain=DOMAIN)
h = b.headline
print(f"{b.title}（{b.period_text}）")
print(f"参评区县 {h['units']} 个，全省平均分 {h['average']} 分", end="")
print(
    f"（上期 {h['prev_average']} 分，变化 {h['average_change']:+.2f}）"
    if h["prev_average"] is not None
    else ""
)
print(
    f"达到 {b.config.pass_grade} 的区县 {h['meets_standard']} 个，低于 {b.config.pass_grade} 的 {h['below_standard']} 个；"
    f"最高 {h['max']} 分，最低 {h['min']} 分"
)

# %% [markdown]
# ## 3. 排名：分数、等级、名次和名次变化

# %%
lessons.ranking_table(run.table, b.current, domain=DOMAIN)

# %% [markdown]
# ## 4. 指标的优、良、差
#
# 优 = 达到目标值，良 = 单项得分 ≥ 60，差 = 低于 60；空白 = 本期不参评。先找“差”。

# %%
labels = lessons.toolkit_labels(DOMAIN)
levels = b.levels.rename(columns=labels["indicator"])
levels.index = [
    f"{q} {n}"
    for q, n in zip(
        levels.index, b.ranking.set_index("unit_code").loc[levels.index, "unit_name"], strict=True
    )
]
levels.T.style.map(lessons.level_css, config=run.period.config).format(na_rep="")

# %% [markdown]
# ## 5. 整改建议：排名靠后的区县
#
# 通报给排名最后的几个区县写出失分最多的指标，以及背后的规则、白话原因和整改办法（按问题数从多到少）。

# %%
for advice in b.advice:
    print(advice["summary"])
last = b.advice[0]["unit_code"] if b.advice else b.ranking["unit_code"].iloc[-1]
items = pd.DataFrame(b.advice[0]["items"] if b.advice else [], columns=["rule_id", "message", "fix", "n"])
items.rename(columns={"rule_id": "规则编号", "message": "问题说明", "fix": "整改办法", "n": "问题数"})

# %% [markdown]
# ## 6. 追到具体记录
#
# 检查通报统计期最后一天的批次（与 `dq check` 相同），在问题清单中筛出最后一名区县的问题：
# 问题最多的规则、维度、白话原因和整改办法，再看几条具体记录（文件、Excel 行号、脱敏后的值）。

# %%
batch = lessons.day_batches(DATA_DIR)[-1]
result = toolkit.run_check(batch, domain=DOMAIN, mode="incremental")
p_last = result.problems[result.problems["unit_code"] == last]
top_last = lessons.top_errors(p_last, TOP_N, domain=DOMAIN)
print(f"批次 {batch.name}：{last} 的问题 {len(p_last)} 个")
top_last

# %%
rule = items["rule_id"].iloc[0] if len(items) else (top_last["规则编号"].iloc[0] if len(top_last) else "")
print(f"规则 {rule} 的例子：")
lessons.examples(p_last, rule, 5, domain=DOMAIN)
