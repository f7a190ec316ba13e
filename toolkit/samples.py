"""Sample data of a domain: each pack may ship a small ``sample.py`` with ``generate(out, **options)``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from toolkit.domain import domain_path
from toolkit.errors import ConfigError


def sample_module(domain: str | Path) -> ModuleType:
    path = domain_path(domain) / "sample.py"
    if not path.exists():
        raise ConfigError("该领域没有示例数据生成器。", "this domain ships no sample generator.", path=path)
    spec = importlib.util.spec_from_file_location(f"dq_sample_{path.parent.name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate_sample(domain: str | Path, out: Path, **options: Any) -> dict[str, Any]:
    """Write the domain's sample data into ``out`` (see the domain's ``sample.py`` for the options)."""
    info = sample_module(domain).generate(Path(out), **options)
    return info if isinstance(info, dict) else {}
