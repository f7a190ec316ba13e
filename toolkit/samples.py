"""Sample data of a domain: each pack may ship a small ``sample.py`` with ``generate(out, **options)``.

A pack is data: a pack from elsewhere (a locality's folder given by path) is never run. Only the
generators of the packs shipped with the toolkit (under :data:`toolkit.domain.EXPECTATIONS_DIR`) are
imported; for any other pack ``dq sample`` says so and stops.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from toolkit.domain import EXPECTATIONS_DIR, domain_path
from toolkit.errors import ConfigError


def sample_module(domain: str | Path) -> ModuleType:
    path = domain_path(domain) / "sample.py"
    shipped = EXPECTATIONS_DIR.resolve()
    if not path.resolve().is_relative_to(shipped):
        raise ConfigError(
            "只运行随工具包发布的领域包的示例数据生成器；其他来源的领域包是数据，不会被执行。",
            "only the sample generators of the packs shipped with the toolkit are run; a pack from "
            "elsewhere is data and is never executed.",
            path=path,
            fix_zh="请用该领域包自带的示例数据，或把领域包纳入工具包发布。",
            fix_en="use the pack's own sample data, or ship the pack with the toolkit.",
        )
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
