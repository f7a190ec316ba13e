"""The self-check service over HTTP: the real server (uvicorn) on a loopback port.

Pass and fail verdicts on a clean bdc business and hand-made faults; every class of bad input answered
with its 4xx and a bilingual message (never a 500, never a verdict); tokens (permissions, per unit,
never logged); limits and timeouts; the call log; metrics; the offline API page.
"""

from __future__ import annotations

import copy
import json
import os
import re
import socket
import time
from pathlib import Path

import httpx
import pytest
from test_serve_verdicts import businesses
from typer.testing import CliRunner

from toolkit.cli import app as cli_app
from toolkit.domain import load_domain
from toolkit.errors import ConfigError
from toolkit.samples import generate_sample
from toolkit.serve.app import ServeSettings
from toolkit.serve.auth import TokenStore, add_token
from toolkit.serve.calllog import read_calls
from toolkit.serve.payload import Limits
from toolkit.serve.server import BackgroundServer, build_app, is_loopback

CJK = re.compile(r"[\u4e00-\u9fff]")
MAX_BODY = 256 * 1024
MAX_ITEMS = 3


@pytest.fixture(scope="module")
def biz(tmp_path_factory) -> dict:
    """A clean bdc business with at least one person holder (citizen ID), as a request's tables."""
    root = tmp_path_factory.mktemp("serve_sample")
    generate_sample("bdc", root, seed=5, districts=2, days=1, stock_rows=10, error_scale=0.0)
    day = sorted((root / "incremental").iterdir())[-1]
    for _key, tables in businesses(load_domain("bdc"), day):
        qlr = tables["ZTT_GY_QLR"][1]
        if any(r.get("ZJZL") == "1" and r.get("ZJH") for r in qlr) and tables["QLT_FW_FDCQ_YZ"][1]:
            return {code: rows for code, (_, rows) in tables.items()}
    raise AssertionError("no business with a person holder in the sample")


@pytest.fixture(scope="module")
def env(tmp_path_factory, biz):
    tmp = tmp_path_factory.mktemp("serve_api")
    unit = biz["QLT_FW_FDCQ_YZ"][0]["QXDM"]
    tokens = tmp / "tokens"
    own = add_token(tokens, unit, "本单位")
    other = add_token(tokens, "429004", "另一单位")
    everyone = add_token(tokens, "*", "省中心")
    settings = ServeSettings(limits=Limits(max_body=MAX_BODY, max_items=MAX_ITEMS), read_timeout=1.0)
    asgi, standards = build_app("bdc", tokens=tokens, log_dir=tmp / "log", settings=settings)
    with BackgroundServer(asgi) as server:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {own}"}, timeout=30) as c:
            yield {
                "client": c,
                "url": server.url,
                "server": server,
                "unit": unit,
                "own": own,
                "other": other,
                "all": everyone,
                "tokens": tokens,
                "log": tmp / "log",
                "settings": settings,
                "standards": standards,
            }


def check(env, tables, *, stage="dengbu", token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return env["client"].post("/v1/bdc/check", json={"stage": stage, "tables": tables}, headers=headers)


# ------------------------------------------------------------------------------------------ verdicts


def test_clean_business_passes_and_lists_rules_it_could_not_evaluate(env, biz):
    r = check(env, biz)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pass"] is True and body["verdict"] == "pass"
    assert body["critical_failures"] == [] and body["errors"] == []
    assert body["unit_code"] == env["unit"] and body["domain"] == "bdc" and body["request_id"]
    assert body["business_keys"] == [biz["QLT_FW_FDCQ_YZ"][0]["YWH"]]
    # the daily log (DJ_DBRZ) was not sent: its rules are not evaluated, never passed
    not_eval = {n["rule_id"]: n["reason"] for n in body["not_evaluated"]}
    dbrz = {r.rule_id for r in env["standards"].rules if r.table == "DJ_DBRZ"}
    assert dbrz and dbrz <= set(not_eval)
    assert body["checked_rules"] + len(not_eval) == len(env["standards"].rules)
    assert body["standard_version"] == env["standards"].version


def test_wrong_citizen_id_fails_with_the_row_and_a_masked_value(env, biz):
    tables = copy.deepcopy(biz)
    rows = tables["ZTT_GY_QLR"]
    i = next(i for i, r in enumerate(rows) if r.get("ZJZL") == "1" and r.get("ZJH"))
    good = rows[i]["ZJH"]
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")  # the check digit no longer fits
    rows[i]["ZJH"] = bad
    r = check(env, tables)
    assert r.status_code == 200
    body = r.json()
    assert body["pass"] is False and "bdc.qlr.zjh.citizen_id" in body["critical_failures"]
    [p] = [p for p in body["problems"] if p["rule_id"] == "bdc.qlr.zjh.citizen_id"]
    assert (p["table"], p["field"], p["row"]) == ("ZTT_GY_QLR", "ZJH", i + 1)
    assert p["unit_code"] == env["unit"] and p["unit_name"]
    assert "*" in p["value_masked"] and bad not in r.text and good not in r.text
    for row in rows:  # no holder's name in clear anywhere in the answer
        assert row["QLRMC"] not in r.text


def test_missing_holder_is_a_cross_table_failure(env, biz):
    tables = copy.deepcopy(biz)
    tables["ZTT_GY_QLR"] = []
    body = check(env, tables).json()
    assert body["pass"] is False
    [p] = [p for p in body["problems"] if p["rule_id"] == "bdc.fdcq.qlr.present"]
    assert (p["table"], p["row"]) == ("QLT_FW_FDCQ_YZ", 1)


def test_batch_gives_one_verdict_per_business(env, biz):
    broken = copy.deepcopy(biz)
    broken["ZTT_GY_QLR"] = []
    items = [{"stage": "dengbu", "tables": biz}, {"stage": "huijiao", "tables": broken}]
    r = env["client"].post("/v1/bdc/check-batch", json={"items": items})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pass"] is False
    assert [i["pass"] for i in body["items"]] == [True, False]
    assert [i["stage"] for i in body["items"]] == ["dengbu", "huijiao"]


def test_rules_listing(env):
    r = env["client"].get("/v1/bdc/rules")
    assert r.status_code == 200
    body = r.json()
    assert len(body["rules"]) == len(env["standards"].rules)
    assert body["business_key"] == ["YWH"]
    assert body["unit_column"]["QLT_FW_FDCQ_YZ"] == "QXDM"
    rule = body["rules"][0]
    assert {"rule_id", "dimension", "severity", "stages", "message_zh", "fix_zh"} <= set(rule)
    assert CJK.search(rule["message_zh"])


# --------------------------------------------------------------------------------------- bad input


def _big(biz) -> bytes:
    return json.dumps({"stage": "dengbu", "tables": biz, "as_of": None, "x": "a" * MAX_BODY}).encode()


BAD = [
    # (name, method, path, body (bytes or JSON), token key, status, code)
    ("malformed JSON", "POST", "/v1/bdc/check", b'{"stage": "dengbu", "tables": {', "own", 400, "bad_json"),
    ("not UTF-8", "POST", "/v1/bdc/check", b'{"stage": "\xff\xfe"}', "own", 400, "bad_json"),
    ("empty body", "POST", "/v1/bdc/check", b"", "own", 422, None),
    (  # valid JSON, but \ud800 alone decodes to a lone surrogate, which no text can hold (was a 500)
        "lone surrogate in a value",
        "POST",
        "/v1/bdc/check",
        b'{"stage": "dengbu", "tables": {"ZTT_GY_QLR": [{"QLRMC": "\\ud800\\u5f20"}]}}',
        "own",
        422,
        "bad_value",
    ),
    ("array instead of object", "POST", "/v1/bdc/check", [], "own", 422, None),
    (
        "number as a value",
        "POST",
        "/v1/bdc/check",
        {"stage": "dengbu", "tables": {"ZTT_GY_QLR": [{"QLBL": 50}]}},
        "own",
        422,
        "bad_type",
    ),
    (
        "rows not a list",
        "POST",
        "/v1/bdc/check",
        {"stage": "dengbu", "tables": {"ZTT_GY_QLR": {"QLBL": "50"}}},
        "own",
        422,
        "bad_type",
    ),
    (
        "unknown stage",
        "POST",
        "/v1/bdc/check",
        {"stage": "later", "tables": {"ZTT_GY_QLR": [{"QLBL": "50"}]}},
        "own",
        422,
        None,
    ),
    (
        "unknown item",
        "POST",
        "/v1/bdc/check",
        {"stage": "dengbu", "tables": {"ZTT_GY_QLR": [{"QLBL": "5"}]}, "extra": 1},
        "own",
        422,
        None,
    ),
    ("no tables", "POST", "/v1/bdc/check", {"stage": "dengbu", "tables": {}}, "own", 422, None),
    (
        "unknown table",
        "POST",
        "/v1/bdc/check",
        {"stage": "dengbu", "tables": {"QLT_FW_FDCQ": [{"YWH": "1"}]}},
        "own",
        422,
        "unknown_table",
    ),
    (
        "unknown field",
        "POST",
        "/v1/bdc/check",
        {"stage": "dengbu", "tables": {"QLT_FW_FDCQ_YZ": [{"ywh": "1"}]}},
        "own",
        422,
        "unknown_field",
    ),
    (
        "empty row",
        "POST",
        "/v1/bdc/check",
        {"stage": "dengbu", "tables": {"QLT_FW_FDCQ_YZ": [{"YWH": " "}]}},
        "own",
        422,
        "empty_row",
    ),
    (
        "bad as_of",
        "POST",
        "/v1/bdc/check",
        {"stage": "dengbu", "tables": {"QLT_FW_FDCQ_YZ": [{"YWH": "1"}]}, "as_of": "2204-01-01"},
        "own",
        422,
        "bad_as_of",
    ),
    (
        "unknown domain",
        "POST",
        "/v1/gjj/check",
        {"stage": "dengbu", "tables": {"QLT_FW_FDCQ_YZ": [{"YWH": "1"}]}},
        "own",
        404,
        "unknown_domain",
    ),
    ("unknown path", "GET", "/v2/bdc/rules", None, "own", 404, "not_found"),
    ("wrong method", "GET", "/v1/bdc/check", None, "own", 405, "method_not_allowed"),
    ("missing token", "POST", "/v1/bdc/check", {"stage": "dengbu", "tables": {}}, None, 401, "unauthorized"),
    ("invalid token", "GET", "/v1/bdc/rules", None, "bogus", 401, "unauthorized"),
    ("metrics without token", "GET", "/metrics", None, None, 401, "unauthorized"),
]


def _call(env, method, path, body, token):
    headers = {}
    if token == "bogus":
        headers["Authorization"] = "Bearer " + "x" * 43
    elif token is not None:
        headers["Authorization"] = f"Bearer {env[token]}"
    content = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    if content is not None:
        headers["Content-Type"] = "application/json"
    with httpx.Client(base_url=env["url"], timeout=30) as c:
        return c.request(method, path, content=content, headers=headers)


def _assert_refusal(r, status, code):
    assert r.status_code == status, r.text
    body = r.json()
    assert "pass" not in body and "verdict" not in body
    err = body["error"]
    assert err["status"] == status and body["request_id"]
    if code:
        assert err["code"] == code
    assert CJK.search(err["message_zh"]), err  # Chinese first …
    assert re.search(r"[A-Za-z]{3,}", err["message_en"]) and not CJK.search(
        err["message_en"].replace("…", "")
    )
    assert err["message"].startswith(err["message_zh"])


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "token", "status", "code"), BAD, ids=[b[0] for b in BAD]
)
def test_bad_input_is_refused_with_a_bilingual_4xx(env, name, method, path, body, token, status, code):
    _assert_refusal(_call(env, method, path, body, token), status, code)


def test_unknown_field_message_names_table_row_field_and_a_fix(env):
    r = check(env, {"QLT_FW_FDCQ_YZ": [{"YWH": "1"}, {"YWH": "2", "Qxdm": "420102"}]})
    err = r.json()["error"]
    assert err["where"] == "tables.QLT_FW_FDCQ_YZ[1].Qxdm"
    assert (
        "QLT_FW_FDCQ_YZ" in err["message_zh"]
        and "第 2 行" in err["message_zh"]
        and "QXDM" in err["message_zh"]
    )
    assert err["fix_zh"] and err["fix_en"]


def test_another_units_rows_are_forbidden(env, biz):
    tables = copy.deepcopy(biz)
    r = check(env, tables, token=env["other"])
    _assert_refusal(r, 403, "other_unit")
    assert r.json()["error"]["where"].endswith(".QXDM")
    # a token of every unit (*) may check them
    assert check(env, tables, token=env["all"]).status_code == 200


def test_oversize_body_and_too_many_items(env, biz):
    _assert_refusal(_call(env, "POST", "/v1/bdc/check", _big(biz), "own"), 413, "body_too_large")
    items = [{"stage": "dengbu", "tables": biz}] * (MAX_ITEMS + 1)
    _assert_refusal(_call(env, "POST", "/v1/bdc/check-batch", {"items": items}, "own"), 413, "too_many_items")


def test_oversize_body_sent_in_chunks_without_length(env, biz):
    def chunks():
        yield b'{"stage": "dengbu", "tables": {"QLT_FW_FDCQ_YZ": [{"YWH": "'
        for _ in range(MAX_BODY // 4096 + 2):
            yield b"1" * 4096
        yield b'"}]}}'

    with httpx.Client(base_url=env["url"], timeout=30) as c:
        r = c.post(
            "/v1/bdc/check",
            content=chunks(),
            headers={"Authorization": f"Bearer {env['own']}", "Content-Type": "application/json"},
        )
    _assert_refusal(r, 413, "body_too_large")


def test_a_body_that_never_arrives_times_out_with_408(env):
    host, port = env["url"].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(
            b"POST /v1/bdc/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + env["own"].encode() + b'\r\nContent-Length: 100\r\n\r\n{"stage"'
        )
        started = time.monotonic()
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert time.monotonic() - started < 8


def test_a_check_that_takes_too_long_is_503_never_pass(env, biz):
    settings = env["settings"]
    before = settings.timeout
    settings.timeout = 1e-6
    try:
        r = check(env, biz)
    finally:
        settings.timeout = before
    _assert_refusal(r, 503, "busy")
    assert r.headers.get("retry-after") == "1"


# ------------------------------------------------------------------------------------------ tokens


def test_tokens_file_must_be_private(tmp_path):
    path = tmp_path / "tokens"
    add_token(path, "420102")
    TokenStore.load(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        TokenStore.load(path)
    result = CliRunner().invoke(cli_app, ["serve", "--tokens", str(path), "--log", str(tmp_path / "log")])
    assert result.exit_code == 2
    assert "chmod 600" in result.output


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("420102 short\n", "太短"),
        ("420102\n", "单位代码 令牌"),
        ("420102 sha256:abc\n", "64"),
        ("# only a comment\n", "没有任何令牌"),
    ],
)
def test_bad_tokens_files_are_refused(tmp_path, text, problem):
    path = tmp_path / "tokens"
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError, match=problem):
        TokenStore.load(path)


def test_token_is_matched_to_its_unit_only(tmp_path):
    path = tmp_path / "tokens"
    a, b = add_token(path, "420102"), add_token(path, "420103")
    store = TokenStore.load(path)
    assert (store.unit_of(a), store.unit_of(b)) == ("420102", "420103")
    assert store.unit_of(a[:-1]) is None and store.unit_of("") is None and store.unit_of(None) is None
    assert a not in path.read_text() and b not in path.read_text()  # only digests are stored


def test_binds_loopback_by_default():
    import inspect

    from toolkit.cli import serve

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")


# ------------------------------------------------------------------------------------ log, metrics


def test_call_log_records_every_call_masked_and_without_tokens(env, biz):
    tables = copy.deepcopy(biz)
    tables["ZTT_GY_QLR"] = []
    check(env, tables, stage="huijiao")
    check(env, {"NOPE": [{"A": "1"}]})
    calls = list(read_calls(env["log"]))
    assert calls
    checks = [c for c in calls if c["endpoint"] == "check" and c["status"] == 200]
    last = checks[-1]
    assert last["unit"] == env["unit"]
    [item] = last["items"]
    assert item["stage"] == "huijiao" and item["verdict"] == "fail" and item["pass"] is False
    assert item["keys"] == [biz["QLT_FW_FDCQ_YZ"][0]["YWH"]]
    assert "bdc.fdcq.qlr.present" in item["failed_rules"]
    assert any(c["status"] == 422 and c["error"] == "unknown_table" for c in calls)
    assert any(c["status"] == 401 and c["unit"] is None for c in calls)
    text = "".join(p.read_text(encoding="utf-8") for p in env["log"].iterdir())
    for token in (env["own"], env["other"], env["all"]):
        assert token not in text
    for row in biz["ZTT_GY_QLR"]:  # no value of the rows: names, ID numbers, phones
        for field in ("QLRMC", "ZJH", "DH"):
            assert not row.get(field) or row[field] not in text
    assert oct(os.stat(next(env["log"].iterdir())).st_mode & 0o777) == oct(0o600)


def test_metrics_count_requests_and_latency(env, biz):
    check(env, biz)
    text = env["client"].get("/metrics").text
    assert re.search(
        r'dq_selfcheck_requests_total\{endpoint="check",method="POST",status="200"\} [1-9]', text
    )
    assert 'dq_selfcheck_request_seconds_bucket{endpoint="check",le="+Inf"}' in text
    assert re.search(r'dq_selfcheck_verdicts_total\{stage="dengbu",verdict="pass"\} [1-9]', text)


def test_healthz_needs_no_token(env):
    r = httpx.get(env["url"] + "/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_docs_page_is_offline_and_chinese(env):
    r = httpx.get(env["url"] + "/docs", timeout=60)
    assert r.status_code == 200
    assert "检查一件业务" in r.text and "/v1/bdc/check" in r.text
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", r.text)
    spec = httpx.get(env["url"] + "/openapi.json").json()
    op = spec["paths"]["/v1/{domain_name}/check"]["post"]
    assert CJK.search(op["summary"]) and {"200", "401", "403", "413", "422"} <= set(op["responses"])


def test_cli_commands_are_listed():
    result = CliRunner().invoke(cli_app, ["--help"])
    for name in ("serve", "serve-token", "reconcile-calls"):
        assert name in result.output


def test_serve_token_prints_a_token_once(tmp_path):
    path = tmp_path / "t"
    result = CliRunner().invoke(cli_app, ["serve-token", "--unit", "420102", "--tokens", str(path)])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert TokenStore.load(path).unit_of(token) == "420102"
    assert token not in Path(path).read_text()
