"""Fuzzing the self-check service from its own OpenAPI document (schemathesis): no 5xx, ever.

Schemathesis generates requests from ``/openapi.json`` — which spells out the pack's tables and fields,
so generated businesses reach the verdict, not only the refusals — and sends them, with a valid token,
to the real server on a loopback port. Every answer must be below 500 and, for 2xx, match the documented
schema. The run in CI is short (``DQ_FUZZ_EXAMPLES`` examples per operation, default 25);
``DQ_FUZZ_EXAMPLES=500 pytest tests/test_serve_fuzz.py`` is the long run.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import response_schema_conformance

from toolkit.serve.auth import add_token
from toolkit.serve.server import BackgroundServer, build_app

EXAMPLES = int(os.environ.get("DQ_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    token = add_token(tmp / "tokens", "*")
    asgi, _ = build_app("bdc", tokens=tmp / "tokens", log_dir=tmp / "log")
    with BackgroundServer(asgi) as server:
        yield server.url, token


@pytest.fixture(scope="module")
def api_schema(served):
    url, _ = served
    return schemathesis.openapi.from_url(f"{url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_server_error(case, served):
    url, token = served
    if "{domain_name}" in case.path:
        case.path_parameters = {**(case.path_parameters or {}), "domain_name": "bdc"}
    response = case.call(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
    if response.status_code < 300 and case.path != "/metrics":
        case.validate_response(response, checks=[response_schema_conformance])


# --------------------------------------------------------------------------- mutations of real businesses
# Generated requests rarely look like a registration; these start from real businesses of a sample day
# and change values, so that the verdict code (rules, views, masking) meets hostile values.


@pytest.fixture(scope="module")
def real_businesses(tmp_path_factory):
    from test_serve_verdicts import businesses

    from toolkit.domain import load_domain
    from toolkit.samples import generate_sample

    root = tmp_path_factory.mktemp("fuzz_sample")
    generate_sample("bdc", root, seed=9, districts=1, days=1, stock_rows=10, error_scale=1.0)
    day = sorted((root / "incremental").iterdir())[-1]
    return [{c: rows for c, (_, rows) in t.items()} for _, t in businesses(load_domain("bdc"), day)][:8]


VALUES = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(
        ["", " ", "\u3000", "9" * 400, "2024-02-30 25:61:00", "-1e309", "NaN", "=1+1", "\x1b[31m", "ｘ"]
    ),
    st.from_regex(r"[0-9]{6,30}[Xx]?", fullmatch=True),
)


@settings(max_examples=EXAMPLES * 2, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
def test_mutated_businesses_never_get_a_server_error(served, real_businesses, data):
    import copy

    import httpx

    url, token = served
    biz = copy.deepcopy(data.draw(st.sampled_from(real_businesses)))
    for _ in range(data.draw(st.integers(1, 6))):
        table = data.draw(st.sampled_from(sorted(t for t, rows in biz.items() if rows) or sorted(biz)))
        if not biz[table]:
            continue
        row = data.draw(st.sampled_from(biz[table]))
        row[data.draw(st.sampled_from(sorted(row)))] = data.draw(VALUES)
    stage = data.draw(st.sampled_from(["dengbu", "huijiao"]))
    r = httpx.post(
        f"{url}/v1/bdc/check",
        json={"stage": stage, "tables": biz},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code < 500, r.text[:300]
    if r.status_code == 200:
        body = r.json()
        assert body["verdict"] in ("pass", "fail") and body["pass"] is (body["verdict"] == "pass")
    else:
        assert r.json()["error"]["message_zh"]
