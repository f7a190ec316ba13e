"""The self-check application's lifespan (:func:`toolkit.serve.app.create_app`); its API is tested in
``test_serve_api.py``."""

from __future__ import annotations

import gc

import httpx
import pytest

from toolkit.serve.app import ServeSettings, default_workers
from toolkit.serve.auth import add_token
from toolkit.serve.server import BackgroundServer, build_app


def test_what_the_service_loaded_is_frozen_out_of_the_collectors_way_while_it_runs(tmp_path):
    """A full collection over the compiled standards and the libraries (some 400,000 objects) took ~200 ms
    in the middle of requests: the 99th-percentile latency under load. The service freezes them at start
    and unfreezes them when it stops."""
    before = gc.get_freeze_count()
    token = add_token(tmp_path / "tokens", "*", "省中心")
    asgi, _ = build_app("bdc", tokens=tmp_path / "tokens", log_dir=None)
    with BackgroundServer(asgi) as server:
        frozen = gc.get_freeze_count()
        tracked = len(gc.get_objects())  # what a full collection walks (the frozen objects excluded)
        r = httpx.get(server.url + "/v1/bdc/rules", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert r.status_code == 200  # the service answers with its standards frozen
    assert frozen > before + 100_000 and frozen > 10 * tracked
    assert gc.get_freeze_count() == before


def test_two_services_in_one_process_keep_the_heap_frozen_until_the_last_stops(tmp_path):
    add_token(tmp_path / "tokens", "*", "省中心")
    first, _ = build_app("bdc", tokens=tmp_path / "tokens", log_dir=None)
    second, _ = build_app("bdc", tokens=tmp_path / "tokens", log_dir=None)
    with BackgroundServer(first):
        with BackgroundServer(second):
            assert gc.get_freeze_count() > 100_000
        assert gc.get_freeze_count() > 100_000, "the first service still runs: its heap stays frozen"
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize(
    ("allowed", "machine", "threads"),
    [({0}, 64, 1), ({0, 1}, 64, 1), (set(range(8)), 64, 7), (None, 4, 3), (None, None, 1)],
)
def test_verdict_threads_leave_one_allowed_core_to_the_event_loop(monkeypatch, allowed, machine, threads):
    """The cores this process may use (a container's or taskset's), not the host's: 2 of 64 → 1 thread."""
    if allowed is None:
        monkeypatch.delattr("toolkit.serve.app.os.sched_getaffinity", raising=False)
    else:
        monkeypatch.setattr("toolkit.serve.app.os.sched_getaffinity", lambda pid: allowed, raising=False)
    monkeypatch.setattr("toolkit.serve.app.os.cpu_count", lambda: machine)
    assert default_workers() == threads
    assert ServeSettings().workers == threads


@pytest.mark.parametrize(("asked", "threads"), [(3, 3), (1, 1), (0, 1), (-2, 1)])
def test_verdict_threads_asked_for_are_at_least_one(asked, threads):
    assert ServeSettings(workers=asked).workers == threads
