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
# # 新规则与地方规则 · New rule and locality overlay
#
# 地方规则（overlay）在不改国家规则集的前提下：停用一条规则、调整严重程度或容差、增加本地规则。
# 本笔记本写一个地方规则文件，用它和不用它各检查一次同一个批次，对比结果。格式见 `toolkit/overlay.py` 开头。

# %%
from pathlib import Path

import pandas as pd

import toolkit
from toolkit import lessons

# %% tags=["parameters"]
# 参数 / parameters
DOMAIN = "bdc"  # 领域包（expectations/ 下的文件夹名）
DATA_DIR = "../demo_out/bdc/sample"  # make demo 生成的示例数据
BATCH = "stock"  # DATA_DIR 下的批次：stock，或某一天，如 "incremental/2024-12-31"
WORK_DIR = "../demo_out/bdc/notebooks/05_new_rule_overlay"  # 地方规则文件写在这里

# %% [markdown]
# ## 1. 地方规则文件
#
# - 停用联系电话格式规则 `bdc.qlr.dh.format`；
# - 建筑面积范围规则 `bdc.fdcq.jzmj.range` 降为警告，并允许 1% 的问题（容差）；
# - 新增本地规则：个人权利人的联系电话必须是手机号（便于短信通知）。

# %%
overlay_text = """\
name: 示例市本地规则
domain: bdc
rules:
  bdc.qlr.dh.format: {enabled: false}
  bdc.fdcq.jzmj.range: {severity: warning, tolerance: 0.01}
add:
  - suite: bdc.qlr
    type: expect_column_values_to_match_regex
    kwargs:
      column: DH
      regex: "^1[3-9][0-9]{9}$"
      row_condition: 'QLRLX=="1"'
      condition_parser: pandas
    meta:
      rule_id: local.qlr.dh.mobile
      table: ZTT_GY_QLR
      field: DH
      dimension: validity
      severity: warning
      applies_to: [stock, incremental]
      message_zh: 个人权利人的联系电话应为 11 位手机号（本市要求，便于短信通知）。
      fix_zh: 向权利人核实手机号码后补正；确无手机的，在备注中说明。
      standard: 示例市不动产登记数据补充规定
"""
overlay = Path(WORK_DIR) / "本地规则.yaml"
overlay.parent.mkdir(parents=True, exist_ok=True)
overlay.write_text(overlay_text, encoding="utf-8")
print(f"地方规则文件：{overlay.resolve()}")

# %% [markdown]
# ## 2. 不用 / 用地方规则各检查一次

# %%
batch = lessons.sample_dir(DATA_DIR) / BATCH
mode = "stock" if BATCH == "stock" else "incremental"
national = toolkit.run_check(batch, domain=DOMAIN, mode=mode)
local = toolkit.run_check(batch, domain=DOMAIN, mode=mode, overlay=overlay)
print(
    f"国家规则：{len(national.rules)} 条，问题 {len(national.problems)} 个，质检关口退出码 {national.exit_code}"
)
print(f"加地方规则：{len(local.rules)} 条，问题 {len(local.problems)} 个，质检关口退出码 {local.exit_code}")
pd.Series(local.domain.overlay, name="地方规则").to_frame()

# %% [markdown]
# ## 3. 哪些规则的结果变了

# %%
compare = (
    national.counts.groupby(["rule_id", "severity"])[["element_count", "unexpected_count"]]
    .sum()
    .reset_index()
    .merge(
        local.counts.groupby(["rule_id", "severity"])[["element_count", "unexpected_count"]]
        .sum()
        .reset_index(),
        on="rule_id",
        how="outer",
        suffixes=("_国家", "_地方"),
    )
)
changed = compare[
    (compare["severity_国家"].fillna("") != compare["severity_地方"].fillna(""))
    | (compare["unexpected_count_国家"].fillna(-1) != compare["unexpected_count_地方"].fillna(-1))
]
counted = [c for c in changed.columns if c.startswith(("element_count", "unexpected_count"))]
changed.astype(dict.fromkeys(counted, "Int64")).rename(columns={"rule_id": "规则编号"})

# %% [markdown]
# ## 4. 严重程度与容差如何影响质检关口
#
# 严重规则超出容差才算未通过；降为警告后，它仍然计入问题清单，但不再拦截上报。

# %%
pd.DataFrame(
    {
        "国家规则": {
            "严重规则未通过": len(national.critical_failures),
            "退出码": national.exit_code,
        },
        "加地方规则": {
            "严重规则未通过": len(local.critical_failures),
            "退出码": local.exit_code,
        },
    }
)

# %% [markdown]
# ## 5. 新增本地规则发现的问题（值已脱敏）

# %%
lessons.examples(local.problems, "local.qlr.dh.mobile", 10, domain=local.domain)
