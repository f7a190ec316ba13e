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
# # 第 7 集 · 住房公积金：十类常见错误、报表核对、一人多户和睡眠账户
#
# 给住房公积金管理中心工作人员的练习：公积金数据最常见的十类错误、读懂一条报表核对差异（行次、报送值、应为、
# 差额、背后的业务记录）、按稳定哈希合并一人多户的账户，以及睡眠账户清单。示例数据是虚构的甘肃省各中心的
# 月度数据，个人信息在所有输出中都已脱敏。

# %%
from pathlib import Path

import pandas as pd

from toolkit import lessons, load_domain
from toolkit.history import score_history
from toolkit.lists import group_key
from toolkit.reconcile import DIFFERS, reconcile, write_reconcile

# %% tags=["parameters"]
# 参数 / parameters
DOMAIN = "gjj"  # 领域包：住房公积金
DATA_DIR = "../../../demo_out/gjj/sample"  # make demo 生成的示例数据（incremental/ 下每月一个批次）
CHECK_DIR = (
    "../../../demo_out/gjj/check_stock"  # make demo 对存量数据的检查结果（含 dormant.csv、multi_account.csv）
)
HISTORY = "../../../demo_out/gjj/scores/history.duckdb"  # 规则计数历史库（不存在时新建，首次较慢）
WORK_DIR = "../../../demo_out/gjj/training/07-gjj-centres"  # 练习的输出写在这里

# %% [markdown]
# ## 1. 公积金十类常见错误
#
# 把全部月度批次的规则计数加起来（每个月、每个中心、每条规则有多少行不符合），问题最多的十条规则就是常见错误。
# 每条给出白话说明、整改办法和严重程度（严重的会让质检关口不通过，警告不拦截但要改）。

# %%
dom = load_domain(DOMAIN)
rules = {r.rule_id: r for r in dom.rules}
severity = lessons.toolkit_labels(DOMAIN)["severity"]
data = lessons.sample_dir(DATA_DIR)
months = sorted(p for p in (data / "incremental").iterdir() if p.is_dir())
run = score_history(data / "incremental", WORK_DIR, by="month", domain=DOMAIN, store=HISTORY or None)
counts = run.frames["counts"]
top = counts.groupby("rule_id")["unexpected_count"].sum().sort_values(ascending=False, kind="stable")
top = top[top > 0].head(10)
print(f"{months[0].name} 至 {months[-1].name} 共 {len(months)} 个月，问题最多的 {len(top)} 条规则：")
pd.DataFrame(
    {
        "规则": top.index,
        "问题数（各月合计）": top.values,
        "严重程度": [severity.get(rules[r].severity, rules[r].severity) for r in top.index],
        "问题说明": [rules[r].meta.get("message_zh", "") for r in top.index],
        "整改办法": [rules[r].meta.get("fix_zh", "") for r in top.index],
    }
).style.hide()

# %% [markdown]
# ## 2. 读一条报表核对差异
#
# `dq reconcile --domain gjj` 把每个中心每月报送的建金3-1 与业务数据核对，写出 `reconcile.csv`（已脱敏）。
# 每一项有：月份、中心、行次、核对方式（`matches` 计算值、`identity` 勾稽关系、`carry` 期初等于上月期末）、
# 报送值、应为、差额（报送 − 应为）、单位、状态，以及计算值背后的业务记录。

# %%
rec = reconcile(months, domain=DOMAIN)
paths = write_reconcile(rec, Path(WORK_DIR) / "reconcile")
rows = pd.read_csv(paths["reconcile"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
basis = pd.read_csv(paths["basis"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
differs = rows[rows["status"] == DIFFERS]
print(f"核对 {len(rows):,} 项，{DIFFERS} {len(differs)} 项：")
differs[
    ["month", "unit_name", "line", "check", "filed", "expected", "difference", "line_unit", "basis"]
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
        "basis": "依据",
    }
).head(10).style.hide()

# %% [markdown]
# 计算值背后的业务记录：第 108 行“本期实缴存额”是当月汇缴（01）、补缴（02）发生额之和折成万元。下面取最近
# 一个月一个中心的 108 行，列出组成它的业务明细（表、业务流水号、金额），并把金额加起来与“应为”对照。

# %%
line = rows[(rows["check"] == "matches") & (rows["line"] == "108")].iloc[-1]
behind = basis[
    (basis["batch"] == line["batch"]) & (basis["unit_code"] == line["unit_code"]) & (basis["line"] == "108")
]
total = pd.to_numeric(behind["amount"]).sum()
print(
    f"{line['month']} {line['unit_name']} 第 108 行：报送 {line['filed']} 万元，应为 {line['expected']} 万元；"
    f"{len(behind)} 条业务明细合计 {total:,.2f} 元 = {total / 10000:.2f} 万元"
)
behind[["table", "record_key", "amount"]].rename(
    columns={"table": "表", "record_key": "业务流水号", "amount": "发生额（元）"}
).head(8).style.hide()

# %% [markdown]
# ## 3. 一人多户：按稳定哈希合并账户
#
# 证件号码是判断“同一个人”的唯一依据。清单中证件号码已脱敏，但同一个证件号码总得到同一个 `group_key`
# （稳定哈希）：每次运行、每张清单都一样，看不出证件号码本身。先用国家标准的示例号码试一试：

# %%
example = "11010519491231002X"  # GB 11643-1999 的示例号码，不是真实的人
pd.DataFrame(
    {
        "证件号码": [example, example, "110102199101010078"],
        "group_key": [
            group_key(DOMAIN, example),
            group_key(DOMAIN, example),
            group_key(DOMAIN, "110102199101010078"),
        ],
    }
).style.hide()

# %% [markdown]
# 存量数据的一人多户清单（`multi_account.csv`）：同一个 `group_key` 的几行就是同一个人的几个正常账户。
# 核实后保留一个账户，其余账户的余额转入、办理合并销户（账户状态 03）。

# %%
multi = pd.read_csv(
    Path(CHECK_DIR) / "multi_account.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
)
people = multi.groupby("group_key").size()
print(
    f"一人多户 {len(people)} 人、{len(multi)} 个账户；每人的账户数：{people.value_counts().sort_index().to_dict()}"
)
multi[
    ["unit_name", "group_key", "个人账号", "单位账号", "姓名", "证件号码", "账户状态", "开户日期", "账户余额"]
].head(8).style.hide()

# %% [markdown]
# ## 4. 睡眠账户清单
#
# 睡眠账户：封存满 24 个月、且 24 个月以上没有任何业务的账户（警告）。清单按中心列出封存月数、无业务月数和余额，
# 中心按“五步法”清理：补全信息、通知单位和本人、引导办理转移或销户提取。

# %%
dormant = pd.read_csv(Path(CHECK_DIR) / "dormant.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
dormant["封存月数"] = pd.to_numeric(dormant["封存月数"], errors="coerce")
dormant["账户余额"] = pd.to_numeric(dormant["账户余额"], errors="coerce")
dormant["封存时长"] = pd.cut(
    dormant["封存月数"], bins=[0, 35, 59, 10_000], labels=["2 年多", "3–4 年", "5 年以上"], right=True
)
print(f"睡眠账户 {len(dormant)} 个，余额合计 {dormant['账户余额'].sum() / 10000:,.2f} 万元")
pd.crosstab(dormant["unit_name"], dormant["封存时长"], margins=True, margins_name="合计").rename_axis(
    index="中心", columns="封存时长"
)
