"""Running the self-check service with uvicorn: in the foreground (``dq serve``) or, for tests and the
benchmark, on a loopback port in a background thread (:class:`BackgroundServer`)."""

from __future__ import annotations

import ipaddress
import threading
import time
from pathlib import Path

from toolkit.domain import load_domain
from toolkit.errors import ConfigError
from toolkit.serve.app import ServeSettings, asgi_app, create_app
from toolkit.serve.auth import TokenStore
from toolkit.serve.calllog import CallLog
from toolkit.serve.standards import Standards

__all__ = ["BackgroundServer", "build_app", "is_loopback", "uvicorn_config"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_app(
    domain: str | Path,
    *,
    tokens: str | Path,
    log_dir: str | Path | None,
    overlay: str | Path | None = None,
    settings: ServeSettings | None = None,
):
    """Load the pack and the tokens (ConfigError when unusable), compile the standards once and build the
    guarded application."""
    settings = settings or ServeSettings()
    store = TokenStore.load(tokens)
    dom = load_domain(domain, overlay=overlay)
    standards = Standards(dom, limits=settings.limits)
    log = CallLog(log_dir) if log_dir is not None else None
    app = create_app(standards, tokens=store, log=log, settings=settings)
    return asgi_app(app), standards


def uvicorn_config(app, host: str, port: int, *, concurrency: int = 256):
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # every call is in the call log (masked); the access log would add nothing
        server_header=False,
        limit_concurrency=concurrency,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=64 * 1024,
        lifespan="on",
    )


class BackgroundServer:
    """A uvicorn server on ``host`` and a free port, in a daemon thread (``with BackgroundServer(app) as
    s: s.url``)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, *, concurrency: int = 256) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn_config(app, host, port, concurrency=concurrency))
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.run, name="dq-serve", daemon=True)
        self.host = host
        self.port = port

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError("自检服务未能启动。", "the self-check service did not start.")
            time.sleep(0.02)
        sock = self.server.servers[0].sockets[0]
        self.port = sock.getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
