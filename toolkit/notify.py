"""Work-group notifications (工作群通报、督办): a short Chinese summary posted to a group-robot webhook.

``dq report … --notify URL`` posts the bulletin's headline and its bottom units; ``dq ledger overdue
--notify URL`` the overdue problems with their responsible persons. The body is what the group robots of
WeCom (企业微信) and DingTalk (钉钉) accept — a Markdown message::

    WeCom:    {"msgtype": "markdown", "markdown": {"content": "…"}}
    DingTalk: {"msgtype": "markdown", "markdown": {"title": "…", "text": "…"}}

The style is taken from the URL (``oapi.dingtalk.com`` → DingTalk, otherwise WeCom) unless given. A
robot answers ``{"errcode": 0, "errmsg": "ok"}``; any other ``errcode`` is a failure. Connection errors,
timeouts, HTTP 429 and 5xx are retried (``retries`` times, with a growing pause); when every attempt
fails :class:`~toolkit.errors.NotifyError` says why in Chinese and English. The webhook's key (its query
string) is never shown in a message. The text passes through the free-text scrubber of
:mod:`toolkit.masking` (ID and phone numbers in it are masked) and is cut to the robots' size limit.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.errors import NotifyError
from toolkit.masking import scrub_text

__all__ = ["MAX_BYTES", "Delivery", "body_for", "bulletin_text", "overdue_text", "post", "style_of"]

#: WeCom's limit for a Markdown message is 4096 bytes (UTF-8); DingTalk's is larger.
MAX_BYTES = 4000
STYLES = ("wecom", "dingtalk")


@dataclass(frozen=True)
class Delivery:
    attempts: int
    status: int
    style: str


def style_of(url: str) -> str:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return "dingtalk" if "dingtalk" in host else "wecom"


def _where(url: str) -> str:
    """The webhook without its key: scheme, host and path only."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"


def _cut(text: str, limit: int = MAX_BYTES) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    tail = "\n…（已截断）"
    room = limit - len(tail.encode("utf-8"))
    return data[:room].decode("utf-8", errors="ignore").rstrip() + tail


def body_for(style: str, title: str, text: str) -> dict[str, Any]:
    """The JSON body of a Markdown message for ``style`` (``wecom`` | ``dingtalk``)."""
    content = _cut(str(scrub_text(f"### {title}\n{text}")))
    if style == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": str(scrub_text(title))[:60], "text": content}}
    return {"msgtype": "markdown", "markdown": {"content": content}}


def post(
    url: str,
    title: str,
    text: str,
    *,
    style: str | None = None,
    retries: int = 3,
    timeout: float = 5.0,
    backoff: float = 0.5,
) -> Delivery:
    """Post the message (see the module docstring); :class:`NotifyError` when it could not be delivered."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotifyError(
            "通知地址不是 http(s) 网址。",
            "the notification address is not an http(s) URL.",
            fix_zh="--notify 写群机器人的 Webhook 地址，如 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
            fix_en="give the group robot's webhook URL, e.g. https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
        )
    style = style or style_of(url)
    if style not in STYLES:
        raise NotifyError(f"不支持的消息格式 {style}。", f"unsupported message style {style}.")
    data = json.dumps(body_for(style, title, text), ensure_ascii=False).encode("utf-8")
    where = _where(url)
    last_zh, last_en = "", ""
    attempts = max(1, retries + 1)
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        retry = True
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = response.status
                raw = response.read(65536)
            try:
                answer = json.loads(raw.decode("utf-8") or "{}")
            except (UnicodeDecodeError, json.JSONDecodeError):
                answer = {}
            code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
            if code in (0, "0", None):
                return Delivery(attempt, status, style)
            msg = str(scrub_text(str(answer.get("errmsg", ""))))[:200]
            last_zh = f"群机器人拒绝了消息（errcode {code}：{msg}）"
            last_en = f"the group robot refused the message (errcode {code}: {msg})"
            retry = code in (45009, 130101, "45009", "130101")  # sending too often: wait and try again
        except urllib.error.HTTPError as exc:
            last_zh, last_en = f"HTTP {exc.code}", f"HTTP {exc.code}"
            retry = exc.code == 429 or exc.code >= 500
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            last_zh = f"无法连接（{type(reason).__name__}）"
            last_en = f"cannot connect ({type(reason).__name__})"
        if not retry or attempt == attempts:
            break
        time.sleep(backoff * (2 ** (attempt - 1)))
    raise NotifyError(
        f"通知未能发送到 {where}：{last_zh}，已尝试 {attempt} 次。",
        f"the notification could not be sent to {where}: {last_en}, after {attempt} attempt(s).",
        fix_zh="检查 Webhook 地址（key）是否正确、本机能否访问该地址；报告和台账本身已经写好，不受影响。",
        fix_en="check the webhook URL (its key) and that this machine can reach it; the report or ledger "
        "itself is written and not affected.",
    )


# ------------------------------------------------------------------------------------------ messages


def _num(value: Any, digits: int = 1) -> str:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return "—"
    return "—" if f != f else f"{f:.{digits}f}"


def bulletin_text(bulletin: Any, *, bottom: int = 3) -> tuple[str, str]:
    """The title and Markdown text of a bulletin (:class:`toolkit.report.Bulletin`): headline figures and
    the ``bottom`` units with their score, grade and the indicators advised."""
    h = bulletin.headline
    label = bulletin.unit_label
    change = h.get("average_change")
    lines = [
        f"**{bulletin.period_text}**",
        f"> 参评{label} {h['units']} 个，{bulletin.average_label} **{_num(h.get('average'), 2)}**"
        + (f"（较上期 {'+' if (change or 0) >= 0 else ''}{_num(change, 2)}）" if change is not None else ""),
        f"> 达到 {bulletin.pass_grade} 的 {h['meets_standard']} 个，未达到的 {h['below_standard']} 个，"
        f"较上期下降的 {h['falling']} 个",
    ]
    ranking = bulletin.ranking
    scored = ranking[ranking["scored"]] if "scored" in ranking else ranking
    tail = scored.sort_values(["rank", "unit_code"], ascending=[False, False], kind="mergesort").head(bottom)
    if len(tail):
        lines.append(f"\n**排名靠后的{label}**")
        for row in tail.itertuples():
            lines.append(
                f"- 第 {int(row.rank)} 名 {row.unit_name or row.unit_code}：{_num(row.score)} 分（{row.grade}）"
            )
    for adv in bulletin.advice[:bottom]:
        weak = [str(i.get("label", "")) for i in (adv.get("weakest") or [])[:3] if isinstance(i, Mapping)]
        if weak:
            lines.append(
                f"  - {adv.get('unit_name') or adv.get('unit_code', '')} 重点整改：{'、'.join(weak)}"
            )
    lines.append("\n详见通报全文（HTML / Excel）。")
    return bulletin.title, "\n".join(lines)


def overdue_text(
    records: Iterable[Mapping[str, Any]], *, unit_label: str = "单位", limit: int = 10
) -> tuple[str, str]:
    """The title and Markdown text of the overdue problems (rows of :func:`toolkit.ledger.problems_frame`
    with ``overdue=True``): counts per unit and responsible person, then the longest overdue problems."""
    rows = list(records)
    title = f"逾期问题督办（{len(rows)} 条）"
    if not rows:
        return title, "目前没有逾期问题。"
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for r in rows:
        key = (
            str(r.get("unit_code") or ""),
            str(r.get("unit_name") or ""),
            str(r.get("responsible") or "未指定"),
        )
        groups.setdefault(key, []).append(r)

    def days(r: Mapping[str, Any]) -> int:
        try:
            return int(r.get("overdue_workdays") or 0)
        except (TypeError, ValueError):
            return 0

    lines = [f"**按{unit_label}和责任人**"]
    for (code, name, who), rs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(
            f"- {name or code}　责任人 {who}：{len(rs)} 条，最长逾期 {max(days(r) for r in rs)} 个工作日"
        )
    lines.append("\n**逾期最久的问题**")
    for r in sorted(rows, key=lambda r: -days(r))[:limit]:
        what = str(r.get("message_zh") or r.get("rule_id") or "")
        lines.append(
            f"- [{r.get('problem_id', r.get('id', ''))}] {r.get('unit_name') or r.get('unit_code') or ''} "
            f"{what[:40]}（责任人 {r.get('responsible') or '未指定'}，逾期 {days(r)} 个工作日）"
        )
    lines.append("\n请责任人尽快整改并在台账中更新状态。")
    return title, "\n".join(lines)


def notify_report(
    url: str,
    *,
    period: str,
    domain: Any,
    out_dir: Any,
    history: Any = None,
    scores: Any = None,
    trace: Any = None,
    problems: Any = None,
    counts: Any = None,
    current: str | None = None,
    bottom: int = 3,
    store: Any = None,
) -> Delivery:
    """After ``dq report`` (same arguments): build the bulletin again from the same inputs — the history
    file already holds the counts, so nothing is counted twice — and post its summary."""
    from pathlib import Path

    from toolkit import report as rp

    dom = rp._load_domain(domain)
    sc, tr = rp._read_csv(scores, dom), rp._read_csv(trace, dom)
    pr, ct = rp._read_csv(problems, dom), rp._read_csv(counts, dom)
    if sc is None and history is not None:
        got = rp.scores_from_history(
            history, period, domain=dom, store=store or Path(out_dir) / "history.duckdb"
        )
        sc, tr = got["scores"], tr if tr is not None else got["trace"]
        ct = ct if ct is not None else got["counts"]
    if pr is None and history is not None:
        pr = rp.problems_in(history, period, domain=dom)
    b = rp.build_bulletin(
        sc, domain=dom, period=period, trace=tr, problems=pr, counts=ct, current=current, bottom=bottom
    )
    title, text = bulletin_text(b, bottom=bottom)
    return post(url, title, text)
