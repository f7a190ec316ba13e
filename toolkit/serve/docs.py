"""``GET /docs``: the API described on one offline HTML page (Chinese first), from the OpenAPI document.

FastAPI's own ``/docs`` loads Swagger UI from a CDN, which an intranet cannot reach; this page needs
nothing from outside (rendered by :func:`toolkit.render.render_html`, everything escaped, the Chinese font
embedded). The machine-readable description is ``GET /openapi.json``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["render_docs"]

_EXAMPLE = {
    "stage": "dengbu",
    "tables": {"<表代码 TABLE>": [{"<字段代码 FIELD>": "<文本值 text>", "<另一字段>": None}]},
}


def render_docs(openapi: dict[str, Any], domain: str, rules: dict[str, Any]) -> str:
    from toolkit.render import render_html

    operations = []
    for path, methods in openapi.get("paths", {}).items():
        for method, op in methods.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": path.replace("{domain_name}", domain),
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "responses": [
                        (code, r.get("description", ""))
                        for code, r in sorted(op.get("responses", {}).items())
                    ],
                }
            )
    return render_html(
        "selfcheck_api.html.j2",
        title=openapi.get("info", {}).get("title", ""),
        description=openapi.get("info", {}).get("description", ""),
        version=openapi.get("info", {}).get("version", ""),
        operations=operations,
        example=json.dumps(_EXAMPLE, ensure_ascii=False, indent=2),
        schemas=json.dumps(openapi.get("components", {}).get("schemas", {}), ensure_ascii=False, indent=1),
        rules=rules,
    )
