"""The self-check service ``dq serve`` (contract: shared/spec/selfcheck-api.md).

Modules: :mod:`~toolkit.serve.app` (HTTP application, guard), :mod:`~toolkit.serve.auth` (tokens),
:mod:`~toolkit.serve.payload` (a request's business, read as the loader reads a batch),
:mod:`~toolkit.serve.standards` (the pack's rules prepared once; the verdict), :mod:`~toolkit.serve.evaluate`
(rules in Python with Great Expectations' semantics), :mod:`~toolkit.serve.views` (the pack's views in
DuckDB), :mod:`~toolkit.serve.calllog` (the call log), :mod:`~toolkit.serve.reconcile` (registrations
never self-checked), :mod:`~toolkit.serve.metrics`, :mod:`~toolkit.serve.models` (the JSON shapes),
:mod:`~toolkit.serve.server` (uvicorn).
"""
