"""Reading YAML from packs and overlays: the safe subset, and limits on size, aliases, expansion and depth."""

from __future__ import annotations

import os
import time

import pytest

from toolkit.errors import ConfigError
from toolkit.yamlfile import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, load_yaml, load_yaml_bytes, load_yaml_text


def laughs(levels: int, width: int = 9) -> str:
    text = f"a: &a [{', '.join(['lol'] * width)}]\n"
    prev = "a"
    for i in range(levels):
        name = f"l{i}"
        text += f"{name}: &{name} [{', '.join([f'*{prev}'] * width)}]\n"
        prev = name
    return text


@pytest.mark.parametrize(
    ("text", "word"),
    [
        (laughs(8), "expands"),  # ~600 bytes that would expand to 387 million strings
        ("x: !!python/object/apply:os.system ['id']\n", "constructor"),
        ("x: !!python/name:os.system\n", "constructor"),
        ("a: 1\na: 2\n", "duplicate"),
        ("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5), "nested"),
        ("k: &k v\n" + "".join(f"x{i}: *k\n" for i in range(MAX_ALIASES + 1)), "aliases"),
        ("a: [unclosed\n", "YAML"),
    ],
    ids=["billion-laughs", "python-object", "python-name", "duplicate-key", "deep", "many-aliases", "syntax"],
)
def test_hostile_yaml_is_refused_quickly(text, word):
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        load_yaml_text(text, "overlay.yaml")
    assert time.perf_counter() - t0 < 2
    assert word in info.value.en and "overlay.yaml" in info.value.message


def test_ordinary_yaml_and_a_few_aliases_are_fine(tmp_path):
    p = tmp_path / "ok.yaml"
    p.write_bytes("\ufeffbase: &b {severity: warning}\nrules:\n  r1: *b\n  r2: *b\n名称: 本地\n".encode())
    data, raw = load_yaml_bytes(p)
    assert data == {
        "base": {"severity": "warning"},
        "rules": {"r1": {"severity": "warning"}, "r2": {"severity": "warning"}},
        "名称": "本地",
    }
    assert raw == p.read_bytes()
    assert load_yaml(tmp_path / "missing.yaml", missing_ok=True) is None


@pytest.mark.parametrize("case", ["too-big", "not-utf8", "missing", "directory", "fifo"])
def test_unreadable_files_are_config_errors_naming_the_file(tmp_path, case):
    p = tmp_path / "pack.yaml"
    if case == "too-big":
        p.write_bytes(b"# " + b"x" * MAX_BYTES + b"\n")
    elif case == "not-utf8":
        p.write_bytes("名称: 本地\n".encode("gb18030"))
    elif case == "directory":
        p.mkdir()
    elif case == "fifo":
        os.mkfifo(p)  # never opened: it would block
    with pytest.raises(ConfigError) as info:
        load_yaml(p)
    assert "pack.yaml" in info.value.message
