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
# # 第 3 集 · 不动产单元号和证件号：手算校验码
#
# 先拆单元号、手算校验码（不需要数据），最后在示例数据里找出这两类问题。
# 本集用到的号码都是国家标准或参考资料中公开的示例，或虚构的练习号码，不对应任何真实的人。

# %%
import toolkit
from toolkit import lessons, validators

# %% tags=["parameters"]
# 参数（练习时可以改）/ parameters
DOMAIN = "bdc"  # 领域包（expectations/ 下的文件夹名）
DATA_DIR = "../../../demo_out/bdc/sample"  # make demo 生成的示例数据
UNIT_NUMBER = "340111303004GB00165F00010490"  # 要拆的不动产单元号（练习 1 换成别的）
ID_BODY = "11010519491231002"  # 身份证号前 17 位（练习 2）
CREDIT_BODY = "91110000600037341"  # 统一社会信用代码前 17 位（练习 3）

# %% [markdown]
# ## 1. 拆单元号
#
# 七段：区县代码 6 + 地籍区 3 + 地籍子区 3 + 宗地特征码 2 + 宗地顺序号 5 + 定着物特征码 1 + 定着物单元编号 8。
# “检查”一列指出第一个错误（与问题清单的“具体原因”相同）。

# %%
lessons.unit_number_parts(UNIT_NUMBER)

# %%
print(validators.unit_number_problem(UNIT_NUMBER) or "结构正确")

# %% [markdown]
# 练习 1 的三个单元号：

# %%
for value in ["420102100302GA00001F00010001", "420102100302GB00001W00010001", "42010210030GB00001F00010001"]:
    print(value, "→", validators.unit_number_problem(value) or "结构正确")

# %% [markdown]
# ## 2. 身份证号的校验码
#
# 前 17 位 × 权重，求和，除以 11 取余数，按 `1 0 X 9 8 7 6 5 4 3 2` 对应。

# %%
lessons.check_digit_worksheet(ID_BODY)

# %%
check = validators.citizen_id_check_digit(ID_BODY)
print(f"校验码：{check}    完整号码是否有效：{validators.is_citizen_id(ID_BODY + check)}")
print(f"末位写成小写 x 是否有效：{validators.is_citizen_id(ID_BODY + check.lower())}")

# %% [markdown]
# **Excel 吞位**：18 位数字被当成数值时只保留 15 位有效数字，另存后末三位变成 000，校验码自然对不上。

# %%
numeric_id = "110102199101010078"  # 参考资料中的示例号码：末位是数字，Excel 会把它当成数值
excel_text = f"{float(numeric_id):.14E}"  # Excel 只保留 15 位有效数字
saved = f"{float(excel_text):.0f}"
print(f"原号码：{numeric_id}    Excel 中显示：{excel_text}    另存为 CSV 后：{saved}")
print(f"还是原来的号码吗？{saved == numeric_id}    能通过校验吗？{validators.is_citizen_id(saved)}")

# %% [markdown]
# 这个号码被截断后**碰巧仍能通过校验**：校验码只能发现大部分错误（约 10/11），发现不了全部。
# 所以导出和打开数据时就要防止截断，改正时要对照原件，而不是“校验通过就算对”。

# %% [markdown]
# ## 3. 统一社会信用代码的校验码
#
# 字符按在 `0123456789ABCDEFGHJKLMNPQRTUWXY` 中的位置取值 × 权重，求和；31 − (和 mod 31) 换回字符。

# %%
lessons.check_digit_worksheet(CREDIT_BODY, kind="credit_code")

# %%
code = CREDIT_BODY + validators.credit_code_check_char(CREDIT_BODY)
print(f"完整代码：{code}    有效：{validators.is_credit_code(code)}")
print(f"把数字 0 错写成字母 O：{validators.is_credit_code(code.replace('0', 'O', 1))}")

# %% [markdown]
# ## 4. 在示例数据中找这两类问题
#
# 检查存量批次，挑出单元号和证件号的规则。证件号已脱敏；按文件和行号到登记系统中查原记录。

# %%
result = toolkit.run_check(lessons.sample_dir(DATA_DIR) / "stock", domain=DOMAIN, mode="stock")
rules = [
    "bdc.fdcq.bdcdyh.format",
    "bdc.fdcq.bdcdyh.qxdm_prefix",
    "bdc.dyaq.bdcdyh.format",
    "bdc.dyaq.bdcdyh.qxdm_prefix",
    "bdc.qlr.zjh.citizen_id",
    "bdc.qlr.zjh.credit_code",
]
found = result.problems[result.problems["rule_id"].isin(rules)]
found.groupby("rule_id").size().rename("问题数").to_frame()

# %%
found[["rule_id", "unit_code", "file", "row", "value_masked", "detail_zh"]].rename(
    columns={"unit_code": "区县代码", "value_masked": "值（已脱敏）", "detail_zh": "具体原因"}
)

# %% [markdown]
# 单元号规范率（手算）：两条单元号规则的通过次数 ÷ 检查次数，按区县。

# %%
unit = result.counts[
    result.counts["rule_id"].str.contains(".bdcdyh.", regex=False) & result.counts["evaluated"]
]
unit = unit[unit["rule_id"].str.endswith((".format", ".qxdm_prefix")) & (unit["element_count"] > 0)]
per_district = unit.groupby("unit_code")[["element_count", "unexpected_count"]].sum()
per_district["单元号规范率（%）"] = (
    (per_district["element_count"] - per_district["unexpected_count"]) / per_district["element_count"] * 100
).round(3)
per_district
