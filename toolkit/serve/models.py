"""The JSON shapes of the self-check API (pydantic): what the OpenAPI document describes and requests are
validated against. Descriptions are Chinese first (the vendors' developers read them), English after."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BatchRequest",
    "BatchVerdict",
    "CheckRequest",
    "ErrorBody",
    "ErrorDetail",
    "Health",
    "NotEvaluated",
    "Problem",
    "RuleInfo",
    "RulesAnswer",
    "Verdict",
]

Rows = dict[str, list[dict[str, str | None]]]


class CheckRequest(BaseModel):
    """一件业务的自检请求 / one business to check."""

    model_config = ConfigDict(extra="forbid")

    stage: Literal["dengbu", "huijiao"] = Field(
        description="自检环节：dengbu 登簿前，huijiao 汇交报文前 / the stage: before recording or before submitting"
    )
    tables: Rows = Field(
        min_length=1,
        description="这件业务新增的各表数据：表代码 → 行的列表，每行是 字段代码 → 文本值（空值写 null 或省略）/ the "
        "business's rows per table: TABLE → list of {FIELD: text or null}",
    )
    as_of: str | None = Field(
        default=None,
        description="数据截止时间 YYYY-MM-DD HH:MM:SS；不填时取业务数据中最晚的时间（与 dq check 相同）/ as-of; "
        "default: the latest time in the rows, as dq check",
    )


class BatchRequest(BaseModel):
    """多件业务一次自检 / several businesses in one call."""

    model_config = ConfigDict(extra="forbid")

    items: list[CheckRequest] = Field(
        min_length=1, description="要检查的业务，每件一个结论 / the businesses, one verdict each"
    )


class Problem(BaseModel):
    """一个问题：某行不符合某条规则 / one failing row × rule."""

    rule_id: str = Field(description="规则编号 / rule id")
    table: str = Field(description="表代码 / table")
    field: str = Field(description="字段代码 / field")
    row: int | None = Field(
        description="该表列表中的第几行（从 1 开始）/ position of the row in its table's list, from 1"
    )
    severity: str = Field(description="严重程度 critical | warning")
    dimension: str = Field(description="维度 / dimension")
    message_zh: str = Field(description="问题说明 / what is wrong (Chinese)")
    fix_zh: str = Field(description="整改办法 / how to fix it (Chinese)")
    detail_zh: str = Field(description="补充说明 / detail")
    value_masked: str | None = Field(
        description="出问题的值（个人信息已脱敏）/ the value, personal data masked"
    )
    record_key: str = Field(description="记录键 / record key")
    unit_code: str | None = Field(description="考核对象代码 / unit code of the row")
    unit_name: str = Field(description="考核对象名称 / unit name")


class NotEvaluated(BaseModel):
    rule_id: str
    reason: str = Field(description="未执行的原因 / why the rule was not evaluated")


class Verdict(BaseModel):
    """一件业务的自检结论 / the verdict for one business."""

    model_config = ConfigDict(populate_by_name=True)

    pass_: bool = Field(
        alias="pass", description="是否通过：有严重规则不通过即为 false / false when a critical rule fails"
    )
    verdict: Literal["pass", "fail", "error"] = Field(
        description="pass 通过 | fail 不通过 | error 规则执行出错"
    )
    stage: str
    business_keys: list[str] = Field(description="业务号等业务键 / the business keys found in the rows")
    problems: list[Problem]
    checked_rules: int = Field(description="执行了的规则数 / rules evaluated")
    failed_rules: list[str]
    critical_failures: list[str]
    errors: list[str]
    not_evaluated: list[NotEvaluated] = Field(
        description="未执行的规则（不算通过）/ rules not evaluated (never passed)"
    )
    as_of: str | None
    as_of_source: str
    warnings: list[str]
    standard_version: str = Field(
        description="规则集版本（规则集与地方规则的摘要）/ hash of the suites and overlay"
    )
    request_id: str
    domain: str
    unit_code: str = Field(description="令牌所属单位 / the token's unit")


class BatchVerdict(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    pass_: bool = Field(alias="pass", description="全部通过 / every business passed")
    items: list[Verdict]
    request_id: str
    standard_version: str


class ErrorDetail(BaseModel):
    status: int
    code: str = Field(description="错误代码 / machine-readable reason")
    message: str = Field(description="中文在前、英文在后 / Chinese, then English")
    message_zh: str
    message_en: str
    where: str = Field(description="请求中出错的位置，如 tables.X[0].F / where in the request")
    fix_zh: str
    fix_en: str


class ErrorBody(BaseModel):
    error: ErrorDetail
    request_id: str


class RuleInfo(BaseModel):
    rule_id: str
    table: str
    field: str
    dimension: str
    severity: str
    stages: list[str]
    requires: list[str] = Field(description="规则需要的表 / the tables the rule needs")
    message_zh: str
    fix_zh: str
    standard: str
    engine: str


class RulesAnswer(BaseModel):
    domain: str
    label_zh: str
    mode: str
    standard_version: str
    business_key: list[str]
    unit_column: dict[str, str] = Field(description="各表的考核对象（单位）字段 / each table's unit column")
    tables: dict[str, list[str]] = Field(description="可提交的表及其字段 / tables and their fields")
    rules: list[RuleInfo]


class Health(BaseModel):
    status: str
    standard_version: str
