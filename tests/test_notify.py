"""Work-group notifications against a local group-robot stand-in (an HTTP server on a loopback port):
the WeCom / DingTalk JSON bodies, retries, clear errors, masking; ``dq report --notify`` and
``dq ledger overdue --notify`` end to end."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import xpack
from report_fixtures import WEEKS, make_problems, make_scores
from typer.testing import CliRunner

from toolkit import ledger as L
from toolkit import notify
from toolkit.check import run_check
from toolkit.cli import app
from toolkit.errors import NotifyError


class Robot:
    """A group robot: records each POSTed JSON body and answers from a script of (status, JSON)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.script: list[tuple[int, dict]] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                robot.bodies.append(json.loads(self.rfile.read(n).decode("utf-8")))
                robot.paths.append(self.path)
                status, answer = (
                    robot.script.pop(0) if robot.script else (200, {"errcode": 0, "errmsg": "ok"})
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=SECRET-KEY-123"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wecom_body(robot):
    d = notify.post(robot.url, "通报", "正文 **加粗**", backoff=0)
    assert (d.attempts, d.status, d.style) == (1, 200, "wecom")
    assert robot.bodies == [{"msgtype": "markdown", "markdown": {"content": "### 通报\n正文 **加粗**"}}]
    assert robot.paths == ["/cgi-bin/webhook/send?key=SECRET-KEY-123"]


def test_dingtalk_body_and_style_from_the_address(robot):
    notify.post(robot.url, "通报", "正文", style="dingtalk", backoff=0)
    assert robot.bodies[0] == {"msgtype": "markdown", "markdown": {"title": "通报", "text": "### 通报\n正文"}}
    assert notify.style_of("https://oapi.dingtalk.com/robot/send?access_token=x") == "dingtalk"
    assert notify.style_of("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x") == "wecom"


def test_server_errors_are_retried(robot):
    robot.script = [(500, {}), (503, {}), (200, {"errcode": 0, "errmsg": "ok"})]
    d = notify.post(robot.url, "t", "x", retries=3, backoff=0)
    assert d.attempts == 3 and len(robot.bodies) == 3


def test_rate_limit_errcode_is_retried_other_errcodes_are_not(robot):
    robot.script = [(200, {"errcode": 45009, "errmsg": "api freq out of limit"})]
    assert notify.post(robot.url, "t", "x", backoff=0).attempts == 2
    robot.script = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})]
    with pytest.raises(NotifyError) as caught:
        notify.post(robot.url, "t", "x", retries=3, backoff=0)
    assert len(robot.bodies) == 3  # 2 + 1: no retry of a refusal
    assert "93000" in caught.value.zh and "invalid webhook url" in caught.value.en


def test_failure_after_retries_is_a_clear_bilingual_error_without_the_key(robot):
    robot.script = [(502, {})] * 4
    with pytest.raises(NotifyError) as caught:
        notify.post(robot.url, "t", "x", retries=2, backoff=0)
    err = caught.value
    assert len(robot.bodies) == 3
    assert "HTTP 502" in err.zh and "已尝试 3 次" in err.zh and "3 attempt" in err.en
    assert "SECRET-KEY-123" not in err.message and "/cgi-bin/webhook/send" in err.message


def test_unreachable_robot():
    url = f"http://127.0.0.1:{_free_port()}/send?key=SECRET"
    with pytest.raises(NotifyError) as caught:
        notify.post(url, "t", "x", retries=1, backoff=0, timeout=2)
    assert "无法连接" in caught.value.zh and "SECRET" not in caught.value.message


def test_not_a_url():
    with pytest.raises(NotifyError, match="http"):
        notify.post("file:///etc/passwd", "t", "x")


def test_personal_data_is_masked_and_long_text_cut(robot):
    notify.post(robot.url, "t", "联系人 13812345678，身份证 110102199101010078\n" + "长" * 3000, backoff=0)
    content = robot.bodies[0]["markdown"]["content"]
    assert "13812345678" not in content and "110102199101010078" not in content
    assert len(content.encode("utf-8")) <= notify.MAX_BYTES and content.endswith("（已截断）")


def test_overdue_text_groups_by_unit_and_person():
    rows = [
        {
            "problem_id": 1,
            "unit_code": "JG001",
            "unit_name": "东城窗口",
            "responsible": "赵主任",
            "overdue_workdays": 3,
            "message_zh": "证件号错误",
        },
        {
            "problem_id": 2,
            "unit_code": "JG001",
            "unit_name": "东城窗口",
            "responsible": "赵主任",
            "overdue_workdays": 7,
            "message_zh": "姓名为空",
        },
        {
            "problem_id": 3,
            "unit_code": "JG002",
            "unit_name": "西城窗口",
            "responsible": None,
            "overdue_workdays": 1,
            "message_zh": "重复",
        },
    ]
    title, text = notify.overdue_text(rows, unit_label="机构")
    assert title == "逾期问题督办（3 条）"
    assert "东城窗口　责任人 赵主任：2 条，最长逾期 7 个工作日" in text
    assert "西城窗口　责任人 未指定：1 条，最长逾期 1 个工作日" in text
    assert text.index("[2]") < text.index("[1]") < text.index("[3]")  # longest overdue first


def test_dq_report_notify(robot, tmp_path):
    scores, trace = make_scores()
    scores.to_csv(tmp_path / "scores.csv", index=False, encoding="utf-8-sig")
    trace.to_csv(tmp_path / "trace.csv", index=False, encoding="utf-8-sig")
    make_problems().to_csv(tmp_path / "problems.csv", index=False, encoding="utf-8-sig")
    args = [
        "report",
        "--period",
        "week",
        "--out",
        str(tmp_path / "out"),
        "--scores",
        str(tmp_path / "scores.csv"),
    ]
    args += ["--trace", str(tmp_path / "trace.csv"), "--problems", str(tmp_path / "problems.csv")]
    res = CliRunner().invoke(app, [*args, "--notify", robot.url])
    assert res.exit_code == 0, res.output
    [body] = robot.bodies
    content = body["markdown"]["content"]
    cur = scores[scores["period"] == WEEKS[-1]]
    worst = cur.sort_values("score").iloc[0]
    assert "排名靠后的区县" in content
    assert f"{worst['unit_name']}：{worst['score']:.1f} 分" in content
    assert f"参评区县 {len(cur)} 个" in content
    # a robot that refuses: the report is written, the command says so and exits 2
    robot.script = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})]
    res = CliRunner().invoke(app, [*args, "--notify", robot.url])
    assert res.exit_code == 2 and "93000" in res.output
    assert any(p.name.startswith("bulletin_") for p in (tmp_path / "out").iterdir())


def test_dq_ledger_overdue_notify(robot, tmp_path):
    day = tmp_path / "2024-03-04"
    injected = xpack.write_batch(day, xpack_day())
    per_office = {code: sum(n for (c, _), n in injected.items() if c == code) for code in xpack.OFFICES}
    db = tmp_path / "l.sqlite"
    L.sync_check(db, run_check(day, domain=xpack.PACK, mode="incremental"))
    res = CliRunner().invoke(
        app, ["ledger", "overdue", "--ledger", str(db), "--as-of", "2024-04-01", "--notify", robot.url]
    )
    assert res.exit_code == 0, res.output
    content = robot.bodies[0]["markdown"]["content"]
    # every injected failing row of tests/xpack.py is a problem, overdue on 2024-04-01
    assert content.startswith(f"### 逾期问题督办（{sum(injected.values())} 条）")
    assert f"东城窗口　责任人 赵主任：{per_office['JG001']} 条" in content
    assert f"西城窗口　责任人 钱主任：{per_office['JG002']} 条" in content
    assert "13700000001" not in content


def xpack_day():
    import datetime as dt

    return dt.date(2024, 3, 4)
