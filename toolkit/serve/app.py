"""The self-check service's HTTP application (``dq serve``; contract: shared/spec/selfcheck-api.md).

:func:`create_app` builds a FastAPI application around :class:`~toolkit.serve.standards.Standards`
(compiled once, before the first request) and an :class:`~toolkit.serve.standards.Evaluator`:

* ``POST /v1/{domain}/check`` one business, ``POST /v1/{domain}/check-batch`` up to ``max_items``;
  ``GET /v1/{domain}/rules``; ``GET /healthz`` (no token); ``GET /metrics`` (Prometheus text);
  ``GET /docs`` (an offline HTML page of the API, Chinese first) and ``GET /openapi.json``.
* The outer guard (:class:`Guard`, plain ASGI, before FastAPI sees anything) gives every request an id,
  checks the bearer token (401), reads the body within ``max_body`` bytes (413) and ``read_timeout``
  seconds (408), counts the request in the metrics and appends the call to the call log with its status.
* Every refusal is a JSON body ``{"error": {status, code, message, message_zh, message_en, where,
  fix_zh, fix_en}, "request_id"}`` with a Chinese and an English message naming the place in the request;
  no value from the request is echoed unmasked (pydantic's ``input`` is never returned).
* A verdict that takes longer than ``timeout`` seconds is answered 503 (``busy``) — never a verdict of
  pass; an unexpected defect is answered 500 with the request id only (its details are not sent).
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from toolkit.errors import ServeError
from toolkit.masking import scrub_text
from toolkit.serve.auth import ANY_UNIT, TokenStore
from toolkit.serve.calllog import CallLog
from toolkit.serve.metrics import Metrics
from toolkit.serve.models import (
    BatchRequest,
    BatchVerdict,
    CheckRequest,
    ErrorBody,
    Health,
    RulesAnswer,
    Verdict,
)
from toolkit.serve.payload import Business, Limits, parse_business
from toolkit.serve.standards import Evaluator, Prepared, Standards
from toolkit.text import printable

__all__ = ["PUBLIC_PATHS", "ServeSettings", "create_app", "default_workers"]

#: Paths answered without a token: liveness and the API's description (no data, no rule).
PUBLIC_PATHS = frozenset({"/healthz", "/docs", "/openapi.json"})

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


class ServeSettings:
    """Limits and timeouts of the service (all have safe defaults)."""

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        timeout: float = 10.0,
        read_timeout: float = 10.0,
        workers: int | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.timeout = timeout
        self.read_timeout = read_timeout
        self.workers = max(1, workers) if workers is not None else default_workers()


def default_workers() -> int:
    """Verdict threads by default: one of the cores this process may run on (its CPU affinity, which a
    container or ``taskset`` limits; else the machine's) is left to the HTTP event loop, the others check
    (at least one). On 2 cores one verdict thread batches more businesses into each DuckDB pass and costs
    less CPU per request than two (``benchmarks/bench_serve.py``: 5.0 against 6.4–6.6 ms at 200/s)."""
    affinity = getattr(os, "sched_getaffinity", None)
    cores = len(affinity(0)) if affinity is not None else os.cpu_count()
    return max(1, (cores or 2) - 1)


_FROZEN = {"apps": 0}
_FROZEN_LOCK = threading.Lock()


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """While a service runs, what is loaded by then (the compiled standards, Great Expectations, pandas:
    some 400,000 objects) is out of the cyclic garbage collector's reach: a full collection while requests
    are answered takes under a millisecond instead of ~200 ms, which was the 99th-percentile latency under
    load (``benchmarks/bench_serve.py``). The heap is process-wide: the first service to start freezes it,
    the last to stop unfreezes it."""
    with _FROZEN_LOCK:
        if _FROZEN["apps"] == 0:
            gc.collect()
            gc.freeze()
        _FROZEN["apps"] += 1
    try:
        yield
    finally:
        with _FROZEN_LOCK:
            _FROZEN["apps"] -= 1
            if _FROZEN["apps"] == 0:
                gc.unfreeze()


def _error_body(exc: ServeError, request_id: str) -> dict[str, Any]:
    return {
        "error": {
            "status": exc.status,
            "code": exc.code,
            "message": f"{exc.zh} / {exc.en}",
            "message_zh": exc.zh,
            "message_en": exc.en,
            "where": exc.where,
            "fix_zh": exc.fix_zh,
            "fix_en": exc.fix_en,
        },
        "request_id": request_id,
    }


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def _endpoint(path: str) -> str:
    """A bounded label for metrics and the log (never the raw path)."""
    if path in ("/healthz", "/metrics", "/docs", "/openapi.json"):
        return path.lstrip("/")
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "v1" and parts[2] in ("check", "check-batch", "rules"):
        return parts[2]
    return "other"


# --------------------------------------------------------------------------------------------- guard


class Guard:
    """Request id, token, body limits, metrics and the call log, around the whole application."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: TokenStore,
        settings: ServeSettings,
        metrics: Metrics,
        log: CallLog | None,
        version: str,
        domain: str,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.settings = settings
        self.metrics = metrics
        self.log = log
        self.version = version
        self.domain = domain

    async def _refuse(
        self, send, exc: ServeError, request_id: str, headers: dict[str, str] | None = None
    ) -> None:
        response = _json(exc.status, _error_body(exc, request_id), headers)
        await response({"type": "http"}, _no_receive, send)

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        state = scope.setdefault("state", {})
        state.update(request_id=request_id, unit=None, log_items=None, error_code=None)
        status_box = {"status": 500}

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
                headers = list(message.get("headers") or [])
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        path = scope.get("path", "")
        endpoint = _endpoint(path)
        try:
            if path not in PUBLIC_PATHS:
                unit = self._unit(scope)
                if unit is None:
                    state["error_code"] = "unauthorized"
                    await self._refuse(
                        send_wrapper,
                        ServeError(
                            401,
                            "unauthorized",
                            "缺少令牌或令牌无效。",
                            "missing or invalid token.",
                            where="headers.Authorization",
                            fix_zh="在请求头中写 Authorization: Bearer <本单位的令牌>；令牌由省级平台发放。",
                            fix_en="send the header Authorization: Bearer <your unit's token>, issued by the "
                            "provincial platform.",
                        ),
                        request_id,
                        {"WWW-Authenticate": 'Bearer realm="dq-selfcheck"'},
                    )
                    return
                state["unit"] = unit
            if scope.get("method") in ("POST", "PUT", "PATCH"):
                try:
                    body = await self._read_body(scope, receive)
                except ServeError as exc:
                    state["error_code"] = exc.code
                    await self._refuse(send_wrapper, exc, request_id, {"Connection": "close"})
                    return
                receive = _replay(body)
            await self.app(scope, receive, send_wrapper)
        finally:
            seconds = time.perf_counter() - started
            status = status_box["status"]
            self.metrics.observe(endpoint, str(scope.get("method", "")), status, seconds)
            if self.log is not None and endpoint not in ("healthz", "metrics", "docs", "openapi.json"):
                client = scope.get("client") or ("", 0)
                self.log.append(
                    {
                        "request_id": request_id,
                        "domain": self.domain,
                        "endpoint": endpoint,
                        "unit": state.get("unit"),
                        "status": status,
                        "error": state.get("error_code"),
                        "ms": round(seconds * 1000, 2),
                        "client": str(client[0]),
                        "standard_version": self.version,
                        "items": state.get("log_items") or [],
                    }
                )

    def _unit(self, scope: Scope) -> str | None:
        header = None
        for name, value in scope.get("headers") or []:
            if name == b"authorization":
                header = value
                break
        if header is None:
            return None
        try:
            text = header.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
            return None
        scheme, _, token = text.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.tokens.unit_of(token.strip())

    async def _read_body(self, scope: Scope, receive) -> bytes:
        limit = self.settings.limits.max_body
        too_big = ServeError(
            413,
            "body_too_large",
            f"请求体超过 {limit:,} 字节的上限。",
            f"the request body is larger than the limit of {limit:,} bytes.",
            where="body",
            fix_zh="一次只提交一件业务，或把批量请求分成几次。",
            fix_en="send one business per call, or split the batch into several calls.",
        )
        for name, value in scope.get("headers") or []:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    raise too_big
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.settings.read_timeout
        while True:
            left = deadline - time.monotonic()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(left, 0.001))
            except TimeoutError:
                raise ServeError(
                    408,
                    "read_timeout",
                    f"请求体在 {self.settings.read_timeout:g} 秒内没有传完。",
                    f"the request body did not arrive within {self.settings.read_timeout:g} seconds.",
                    where="body",
                    fix_zh="请检查网络后重试。",
                    fix_en="check the network and try again.",
                ) from None
            if message["type"] == "http.disconnect":
                raise ServeError(
                    400, "disconnected", "连接已断开。", "the client disconnected.", where="body"
                )
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_big
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


async def _no_receive() -> dict:  # pragma: no cover - a response never reads
    return {"type": "http.disconnect"}


def _replay(body: bytes):
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # pragma: no cover - the app has read the whole body
        return {"type": "http.disconnect"}  # pragma: no cover

    return receive


# -------------------------------------------------------------------------------------- validation


_TYPE_ZH = {
    "json_invalid": ("请求体不是有效的 JSON", "the body is not valid JSON"),
    "missing": ("缺少必填项", "a required item is missing"),
    "extra_forbidden": ("不认识的项", "an unknown item"),
    "string_type": ("应为文本（字符串）或 null", "must be text (a string) or null"),
    "dict_type": ("应为 JSON 对象", "must be a JSON object"),
    "list_type": ("应为 JSON 数组（列表）", "must be a JSON array (list)"),
    "model_attributes_type": ("应为 JSON 对象", "must be a JSON object"),
    "literal_error": ("取值不在允许的范围内", "is not one of the allowed values"),
    "too_short": ("不能为空", "must not be empty"),
    "too_long": ("项数过多", "has too many entries"),
}


def _loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if p == "body":
            continue
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            text = printable(str(scrub_text(str(p))))[:60]
            parts.append(("." if parts else "") + text)
    return "".join(parts) or "body"


def validation_error(exc: RequestValidationError) -> ServeError:
    """A pydantic/FastAPI validation failure as a bilingual :class:`ServeError` (no input echoed)."""
    errors = list(exc.errors())
    first = errors[0] if errors else {"type": "", "loc": ("body",)}
    kind = str(first.get("type", ""))
    where = _loc(tuple(first.get("loc") or ()))
    if kind == "json_invalid":
        return ServeError(
            400,
            "bad_json",
            "请求体不是有效的 JSON。",
            "the request body is not valid JSON.",
            where="body",
            fix_zh='请求体应为 UTF-8 编码的 JSON，如 {"stage": "dengbu", "tables": {…}}，并带 Content-Type: application/json。',
            fix_en='send UTF-8 JSON such as {"stage": "dengbu", "tables": {…}} with Content-Type: application/json.',
        )
    zh, en = _TYPE_ZH.get(kind, ("格式不对", "has the wrong form"))
    more = len(errors) - 1
    tail_zh = f"（另有 {more} 处）" if more > 0 else ""
    tail_en = f" ({more} more)" if more > 0 else ""
    code = "bad_type" if kind.endswith("_type") or kind == "json_type" else "bad_request"
    if kind == "missing" and where == "body":
        zh, en, code = "缺少请求体", "the request body is missing", "bad_json"
    return ServeError(
        422,
        code,
        f"请求中 {where} {zh}{tail_zh}。",
        f"in the request, {where} {en}{tail_en}.",
        where=where,
        fix_zh='格式见 GET /docs：{"stage": "dengbu"|"huijiao", "tables": {"表代码": [{"字段代码": "文本值"}]}}。',
        fix_en='see GET /docs: {"stage": "dengbu"|"huijiao", "tables": {"TABLE": [{"FIELD": "text"}]}}.',
    )


# ------------------------------------------------------------------------------------------- the app


def create_app(
    standards: Standards,
    *,
    tokens: TokenStore,
    log: CallLog | None = None,
    settings: ServeSettings | None = None,
) -> FastAPI:
    """The self-check application (see the module docstring)."""
    settings = settings or ServeSettings()
    limits = settings.limits
    domain = standards.domain
    metrics = Metrics()
    evaluator: dict[str, Evaluator] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        evaluator["e"] = Evaluator(standards, workers=settings.workers)
        try:
            with _frozen_heap():
                yield
        finally:
            evaluator.pop("e").close()
            if log is not None:
                log.close()

    label = domain.label if isinstance(domain.label, str) else domain.name
    app = FastAPI(
        title=f"数据自检服务 / self-check service — {label}",
        description=(
            "登记系统在登簿前、汇交报文前调用本服务检查一件业务的数据：格式、代码、单元号、权利人等与省级质检（dq check）"
            "使用同一套规则，结论相同。每次调用（/healthz 除外）须带 Authorization: Bearer <令牌>；一个单位只能检查本单位的数据。"
            "出错时返回 4xx 和中英文说明。\n\n"
            "Registration systems call this service before recording a registration (dengbu) and before "
            "submitting its message (huijiao). The rules and verdicts equal the province's checks (dq check). "
            "Every call except /healthz needs Authorization: Bearer <token>; a unit may check its own rows only."
        ),
        version=standards.version,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )

    # -------------------------------------------------------------------- errors

    @app.exception_handler(ServeError)
    async def _serve_error(request: Request, exc: ServeError) -> JSONResponse:
        request.state.error_code = exc.code
        headers = {"Retry-After": "1"} if exc.status == 503 else None
        return _json(exc.status, _error_body(exc, request.state.request_id), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        err = validation_error(exc)
        request.state.error_code = err.code
        return _json(err.status, _error_body(err, request.state.request_id))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:
            err = ServeError(
                405,
                "method_not_allowed",
                "该地址不支持这种请求方法。",
                "this method is not allowed here.",
                where="method",
            )
        elif exc.status_code == 404:
            err = ServeError(
                404,
                "not_found",
                "没有这个地址。",
                "no such address.",
                where="path",
                fix_zh="地址见 GET /docs。",
                fix_en="see GET /docs.",
            )
        elif exc.status_code == 400:  # FastAPI could not read the body (e.g. not UTF-8)
            err = validation_error(RequestValidationError([{"type": "json_invalid", "loc": ("body",)}]))
        else:
            err = ServeError(
                exc.status_code, "bad_request", "请求无法处理。", "the request cannot be handled."
            )
        request.state.error_code = err.code
        return _json(err.status, _error_body(err, request.state.request_id), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _defect(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - a defect
        request.state.error_code = "internal"
        rid = request.state.request_id
        err = ServeError(
            500,
            "internal",
            f"服务内部错误（请求编号 {rid}），结论不能算作通过。",
            f"internal error (request {rid}); this is not a pass.",
            fix_zh="请稍后重试，并把请求编号告知省级平台。",
            fix_en="try again later and give the request id to the provincial platform.",
        )
        return _json(500, _error_body(err, rid))

    # -------------------------------------------------------------------- helpers

    def _domain(name: str) -> None:
        if name != domain.name:
            raise ServeError(
                404,
                "unknown_domain",
                f"本服务只检查领域 {domain.name}。",
                f"this service checks the domain {domain.name} only.",
                where="path.domain",
                fix_zh=f"地址写 /v1/{domain.name}/…",
                fix_en=f"use /v1/{domain.name}/…",
            )

    def _own_rows(business: Business, unit: str) -> None:
        if unit == ANY_UNIT:
            return
        head = f"items[{business.item}]." if business.item is not None else ""
        for code, rows in business.tables.items():
            column = domain.unit.column_of(code)
            for i, row in enumerate(rows):
                value = row.get(column)
                if value is not None and value != unit:
                    raise ServeError(
                        403,
                        "other_unit",
                        f"表 {code} 第 {i + 1} 行的 {column} 不是本单位（令牌所属单位 {unit}）：只能检查本单位的数据。",
                        f"table {code}, row {i + 1}: {column} is not your unit ({unit}, the token's unit); a unit may "
                        "check its own rows only.",
                        where=f"{head}tables.{code}[{i}].{column}",
                        fix_zh="请用该行所属单位的令牌检查，或更正该行的单位代码。",
                        fix_en="check it with the token of the row's unit, or correct the row's unit code.",
                    )

    def _prepare(raw: dict[str, Any], unit: str, item: int | None) -> Prepared:
        business = parse_business(raw, tables=standards.tables, limits=limits, item=item)
        _own_rows(business, unit)
        return standards.prepare(business)

    async def _verdicts(prepared: list[Prepared]) -> list[dict[str, Any]]:
        future = evaluator["e"].submit(prepared)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=settings.timeout)
        except TimeoutError:
            future.cancel()
            raise ServeError(
                503,
                "busy",
                f"检查未能在 {settings.timeout:g} 秒内完成（服务繁忙），结论不能算作通过。",
                f"the check did not finish within {settings.timeout:g} seconds (the service is busy); this is "
                "not a pass.",
                fix_zh="请稍后重试。",
                fix_en="try again later.",
            ) from None

    def _log_item(answer: dict[str, Any], prepared: Prepared) -> dict[str, Any]:
        units: list[str] = []
        for code, rows in prepared.business.tables.items():
            column = domain.unit.column_of(code)
            for row in rows:
                v = row.get(column)
                if v is not None and v not in units:
                    units.append(v)
        return {
            "stage": answer["stage"],
            "keys": list(prepared.keys),
            "units": [str(scrub_text(u)) for u in units],
            "verdict": answer["verdict"],
            "pass": answer["pass"],
            "failed_rules": answer["failed_rules"],
            "tables": {code: len(rows) for code, rows in prepared.business.tables.items()},
        }

    def _finish(answer: dict[str, Any], request: Request) -> dict[str, Any]:
        answer.update(request_id=request.state.request_id, domain=domain.name, unit_code=request.state.unit)
        metrics.verdict(answer["stage"], answer["verdict"])
        return answer

    bad = {
        400: {"model": ErrorBody, "description": "请求体不是 JSON / not JSON"},
        401: {"model": ErrorBody, "description": "缺少令牌或令牌无效 / no or a wrong token"},
        403: {"model": ErrorBody, "description": "不是本单位的数据 / another unit's rows"},
        404: {"model": ErrorBody, "description": "没有这个领域 / unknown domain"},
        408: {"model": ErrorBody, "description": "请求体传输超时 / body read timed out"},
        413: {
            "model": ErrorBody,
            "description": "请求过大或项数过多 / body too large, too many items or rows",
        },
        422: {
            "model": ErrorBody,
            "description": "表、字段、类型或取值不对 / unknown table or field, wrong type",
        },
        503: {"model": ErrorBody, "description": "服务繁忙，未能按时完成 / busy: not finished in time"},
    }

    # -------------------------------------------------------------------- routes

    @app.post(
        "/v1/{domain_name}/check",
        summary="检查一件业务 / check one business",
        description="提交一件业务新增的各表数据，返回是否通过和问题清单（个人信息已脱敏）。"
        "需要其他表（如日志）才能执行的规则列在 not_evaluated 中，不算通过。 / Send the rows a business adds; "
        "get the verdict and its problems (personal data masked).",
        response_model=None,
        responses={200: {"model": Verdict, "description": "自检结论 / the verdict"}, **bad},
        tags=["自检 / self-check"],
    )
    async def check(domain_name: str, body: CheckRequest, request: Request) -> JSONResponse:
        _domain(domain_name)
        prepared = _prepare(body.model_dump(), request.state.unit, None)
        [answer] = await _verdicts([prepared])
        request.state.log_items = [_log_item(answer, prepared)]
        return JSONResponse(_finish(answer, request))

    @app.post(
        "/v1/{domain_name}/check-batch",
        summary="批量检查多件业务 / check several businesses",
        description=f"一次最多 {limits.max_items} 件业务，每件一个结论；任何一件的格式有误时整个请求被拒绝（4xx，where 指出第几件）。 / Up "
        f"to {limits.max_items} businesses, one verdict each.",
        response_model=None,
        responses={200: {"model": BatchVerdict, "description": "各件业务的结论 / the verdicts"}, **bad},
        tags=["自检 / self-check"],
    )
    async def check_batch(domain_name: str, body: BatchRequest, request: Request) -> JSONResponse:
        _domain(domain_name)
        if len(body.items) > limits.max_items:
            raise ServeError(
                413,
                "too_many_items",
                f"一次最多检查 {limits.max_items} 件业务，本次有 {len(body.items)} 件。",
                f"at most {limits.max_items} businesses per call; this call has {len(body.items)}.",
                where="items",
                fix_zh="分成几次提交。",
                fix_en="split them over several calls.",
            )
        unit = request.state.unit
        prepared = [_prepare(item.model_dump(), unit, i) for i, item in enumerate(body.items)]
        answers = await _verdicts(prepared)
        request.state.log_items = [_log_item(a, p) for a, p in zip(answers, prepared, strict=True)]
        items = [_finish(a, request) for a in answers]
        return JSONResponse(
            {
                "pass": all(a["pass"] for a in items),
                "items": items,
                "request_id": request.state.request_id,
                "standard_version": standards.version,
            }
        )

    @app.get(
        "/v1/{domain_name}/rules",
        summary="适用的规则 / the rules that apply",
        response_model=None,
        responses={200: {"model": RulesAnswer, "description": "规则清单 / the rules"}, **bad},
        tags=["规则 / rules"],
    )
    async def rules(domain_name: str) -> JSONResponse:
        _domain(domain_name)
        return JSONResponse(rules_body)

    @app.get(
        "/healthz",
        summary="存活检查 / liveness",
        response_model=None,
        responses={200: {"model": Health, "description": "服务正常 / up"}},
        tags=["运维 / operations"],
    )
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "standard_version": standards.version})

    @app.get(
        "/metrics",
        summary="调用计数与耗时（Prometheus 文本格式）/ request counts and latency (Prometheus)",
        response_class=PlainTextResponse,
        responses={401: bad[401]},
        tags=["运维 / operations"],
    )
    async def metrics_text() -> Response:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    rules_body = {
        "domain": domain.name,
        "label_zh": label,
        "mode": standards.mode,
        "standard_version": standards.version,
        "business_key": standards.key_columns,
        "unit_column": {code: domain.unit.column_of(code) for code in standards.tables},
        "tables": {code: list(spec["fields"]) for code, spec in standards.tables.items()},
        "rules": standards.rules_listing(),
    }

    docs_page: dict[str, str] = {}

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if "html" not in docs_page:
            from toolkit.serve.docs import render_docs

            docs_page["html"] = render_docs(app.openapi(), domain.name, rules_body)
        return HTMLResponse(
            docs_page["html"],
            headers={
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; font-src data:"
            },
        )

    def openapi() -> dict[str, Any]:
        """FastAPI's document, with the pack's tables and fields spelled out for ``tables`` (the request
        model is generic: any pack)."""
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            doc = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            tables_schema = {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": False,
                "description": doc["components"]["schemas"]["CheckRequest"]["properties"]["tables"].get(
                    "description", ""
                ),
                "properties": {
                    code: {
                        "type": "array",
                        "description": str(spec.get("label_zh", code)),
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                f: {
                                    "anyOf": [{"type": "string"}, {"type": "null"}],
                                    "description": str(fs.get("label_zh", f)) if isinstance(fs, dict) else f,
                                }
                                for f, fs in spec["fields"].items()
                            },
                        },
                    }
                    for code, spec in standards.tables.items()
                },
            }
            for name, model in doc["components"]["schemas"].items():
                if name.startswith("CheckRequest"):
                    model["properties"]["tables"] = tables_schema
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    guarded = Guard(
        app,
        tokens=tokens,
        settings=settings,
        metrics=metrics,
        log=log,
        version=standards.version,
        domain=domain.name,
    )
    app.state.guard = guarded
    app.state.metrics = metrics
    return app  # the guard is installed by :func:`asgi_app`


def asgi_app(app: FastAPI) -> Guard:
    """The application with its guard (what uvicorn serves)."""
    return app.state.guard
