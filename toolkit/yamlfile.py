"""Reading YAML files from packs, overlays and rosters — safely and with limits.

Overlays and whole domain packs travel between offices, so a YAML file is hostile until read:

* only the safe subset (``yaml.SafeLoader``: no Python objects, no tags that construct anything);
* at most :data:`MAX_BYTES` bytes, UTF-8 (a BOM is allowed);
* anchors and aliases are limited: at most :data:`MAX_ALIASES` aliases, and the document *as expanded*
  (every alias counted as a copy of what it points to) at most :data:`MAX_NODES` nodes — a 600-byte
  "billion laughs" file would otherwise expand to gigabytes when the toolkit walks or copies it;
* nesting at most :data:`MAX_DEPTH` levels;
* a key written twice in one mapping is an error (PyYAML would silently keep the last one).

Every problem is a :class:`~toolkit.errors.ConfigError` naming the file and, where YAML knows it, the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from toolkit.errors import ConfigError

__all__ = [
    "MAX_ALIASES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "load_yaml",
    "load_yaml_bytes",
    "load_yaml_text",
]

MAX_BYTES = 4 << 20
MAX_ALIASES = 200
MAX_NODES = 200_000
MAX_DEPTH = 40


class _Loader(yaml.SafeLoader):
    """SafeLoader refusing duplicate keys."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            dup = key in seen
        except TypeError:  # an unhashable key: let PyYAML report it
            dup = False
        if dup:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        if not isinstance(key, list | dict):
            seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _err(path: Path | str | None, zh: str, en: str) -> ConfigError:
    return ConfigError(
        zh,
        en,
        path=path,
        fix_zh="请检查该 YAML 文件（不要使用锚点 & 和引用 * 的多层嵌套）。",
        fix_en="check the YAML file (avoid nested anchors & and aliases *).",
    )


def _check_graph(root: yaml.Node | None, path: Path | str | None) -> None:
    """Count aliases, the expanded size and the depth of a composed node graph (memoised, so cheap)."""
    if root is None:
        return
    size: dict[int, int] = {}
    aliases = 0

    def walk(node: yaml.Node, depth: int) -> int:
        nonlocal aliases
        if depth > MAX_DEPTH:
            raise _err(
                path,
                f"YAML 嵌套超过 {MAX_DEPTH} 层（第 {node.start_mark.line + 1} 行）。",
                f"YAML nested deeper than {MAX_DEPTH} levels (line {node.start_mark.line + 1}).",
            )
        key = id(node)
        if key in size:  # the same node reached again: an alias
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _err(
                    path,
                    f"YAML 引用（别名）超过 {MAX_ALIASES} 个。",
                    f"more than {MAX_ALIASES} YAML aliases.",
                )
            return size[key]
        n = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                n += walk(child, depth + 1)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                n += walk(k, depth + 1) + walk(v, depth + 1)
        if n > MAX_NODES:
            raise _err(
                path,
                f"YAML 展开后超过 {MAX_NODES:,} 个节点（可能是恶意的“十亿笑声”文件）。",
                f"the YAML expands to more than {MAX_NODES:,} nodes (a 'billion laughs' file?).",
            )
        size[key] = n
        return n

    walk(root, 0)


def load_yaml_text(text: str, path: Path | str | None = None) -> Any:
    """Parse YAML text with the limits above."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _err(
            path, f"YAML 文件超过 {MAX_BYTES >> 20} MiB。", f"YAML file larger than {MAX_BYTES >> 20} MiB."
        )
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        _check_graph(node, path)
        return loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise _err(path, f"不是有效的 YAML：{exc}", f"not valid YAML: {exc}") from exc
    except RecursionError as exc:
        raise _err(path, "YAML 嵌套过深。", "YAML nested too deeply.") from exc
    finally:
        loader.dispose()


def load_yaml(path: str | Path, *, missing_ok: bool = False) -> Any:
    """Read and parse one YAML file (UTF-8, BOM allowed) with the limits above. A missing file is a
    :class:`ConfigError`, or ``None`` with ``missing_ok``."""
    return load_yaml_bytes(path, missing_ok=missing_ok)[0]


def load_yaml_bytes(path: str | Path, *, missing_ok: bool = False) -> tuple[Any, bytes]:
    """:func:`load_yaml`, also returning the bytes read (e.g. to record their SHA-256)."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise _err(
                p, f"YAML 文件超过 {MAX_BYTES >> 20} MiB。", f"YAML file larger than {MAX_BYTES >> 20} MiB."
            )
        if not p.is_file():
            raise _err(p, "该路径不是文件。", "the path is not a regular file.")
        raw = p.read_bytes()
    except FileNotFoundError as exc:
        if missing_ok:
            return None, b""
        raise ConfigError("找不到配置文件。", "configuration file not found.", path=p) from exc
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件：{exc.strerror or exc}", f"cannot read: {exc}", path=p) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _err(
            p,
            f"YAML 文件不是 UTF-8 编码（字节偏移 {exc.start}）。",
            f"the YAML file is not UTF-8 (byte offset {exc.start}).",
        ) from exc
    return load_yaml_text(text, p), raw
