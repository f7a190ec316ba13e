"""构建课程材料 / build the course material of ``training/`` (not part of the installed package).

Run it from the top of the repository with the project's virtualenv::

    .venv/bin/python training/build.py build            # write what is out of date
    .venv/bin/python training/build.py check            # exit 1 if anything is out of date
    .venv/bin/python training/build.py build --domain bdc path/to/training

It generates, from the course's own files and the domain pack:

* ``glossary.md`` from ``glossary.yaml`` (:func:`render_glossary`);
* ``handout.html``, the printable A4 handout — agenda, each episode's objectives, key points and exercises
  without their solutions, the glossary, the quiz without its answer key (:func:`build_handout`);
* the generated blocks of the episodes' ``index.md``: the scoring model's indicator table between
  ``<!-- indicators:begin -->`` and ``<!-- indicators:end -->`` (:func:`fill_generated_blocks`), read
  with :func:`toolkit.scoring.load_scoring`.

``check`` also lists glossary terms that disagree with the toolkit's own labels
(:func:`glossary_problems`, :func:`toolkit.lessons.toolkit_labels`). The same files always give the same
output, so ``tests/test_training.py`` can assert that the generated files are up to date. Exit codes:
0 up to date / written, 1 out of date or glossary problems (``check``), 2 wrong usage.

The domain pack is a command-line option (``--domain``, default ``bdc``, the pack the course teaches);
every function below takes it explicitly.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit import lessons, scoring
from toolkit.yamlfile import load_yaml, load_yaml_text

__all__ = [
    "TRAINING_DIR",
    "Episode",
    "build_handout",
    "episodes",
    "fill_generated_blocks",
    "glossary_problems",
    "indicator_table",
    "load_glossary",
    "main",
    "outputs",
    "read_episode",
    "render_glossary",
]

#: The course folder: the folder of this file.
TRAINING_DIR = Path(__file__).resolve().parent
#: How to run this file, as the generated files and messages say it.
COMMAND = "python training/build.py build"


# ================================================================================================ glossary


def load_glossary(path: str | Path) -> list[dict[str, Any]]:
    """The glossary (术语表): a list of terms with ``term``, ``en``, ``kind``, ``code`` and ``definition``."""
    data = load_yaml(path) or {}
    return list(data.get("terms") or [])


def glossary_problems(
    terms: Sequence[Mapping[str, Any]], labels: Mapping[str, Mapping[str, str]]
) -> list[str]:
    """What is wrong with a glossary: missing keys, duplicates, and terms whose kind has a toolkit label
    (dimension, severity, indicator, field, table, code, mode, grade, level, state) that differ from it."""
    out = []
    seen: set[str] = set()
    for t in terms:
        name = t.get("term", "?")
        for key in ("term", "en", "kind", "definition"):
            if not t.get(key):
                out.append(f"{name}: 缺少 {key}")
        if name in seen:
            out.append(f"{name}: 重复")
        seen.add(name)
        kind = t.get("kind")
        if kind in labels and kind != "concept":
            code = str(t.get("code", ""))
            known = labels[kind]
            if not known:
                continue  # e.g. the ledger is not installed
            if code not in known:
                out.append(f"{name}: {kind} 中没有代码 {code!r}")
            elif known[code] != name:
                out.append(f"{name}: 工具包中 {kind} {code} 的名称是“{known[code]}”")
    return out


_KIND_ZH = {
    "dimension": "维度",
    "severity": "严重程度",
    "indicator": "指标",
    "grade": "等级",
    "level": "单项等级",
    "state": "台账状态",
    "field": "字段",
    "table": "数据表",
    "code": "代码值",
    "mode": "检查模式",
    "concept": "概念",
}


def render_glossary(terms: Sequence[Mapping[str, Any]], *, domain: str) -> str:
    """``glossary.md``: one table per kind, in the order of the YAML file."""
    lines = [
        "# 术语表 Glossary",
        "",
        f"<!-- 本文件由 glossary.yaml 生成，请勿手改：{COMMAND} -->",
        "",
        f"术语的中文名称与工具包自己的标签一致（维度、严重程度、指标、字段名等取自 `expectations/{domain}/`）。",
        "Terms use the toolkit's own labels; the code column is the identifier used in files and rules.",
        "",
    ]
    kinds = list(dict.fromkeys(t["kind"] for t in terms))
    for kind in kinds:
        lines += [
            f"## {_KIND_ZH.get(kind, kind)} {kind}",
            "",
            "| 术语 | English | 代码 | 释义 |",
            "|---|---|---|---|",
        ]
        for t in terms:
            if t["kind"] != kind:
                continue
            code = f"`{t['code']}`" if t.get("code") else ""
            definition = " ".join(str(t["definition"]).split()).replace("|", "\\|")
            lines.append(f"| **{t['term']}** | {t['en']} | {code} | {definition} |")
        lines.append("")
    return "\n".join(lines)


# ================================================================================================ episodes


@dataclass
class Episode:
    """One episode of the lesson: its folder, front matter and ``## `` sections."""

    path: Path
    meta: dict[str, Any]
    sections: dict[str, str]
    body: str
    headings: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.meta.get("title", self.path.parent.name))

    def section(self, word: str) -> str:
        """The text of the section whose heading starts with ``word`` (e.g. ``目标``), or ``""``."""
        for heading, text in self.sections.items():
            if heading.split()[0] == word:
                return text
        return ""


def read_episode(path: str | Path) -> Episode:
    """Parse an episode's ``index.md``: YAML front matter between ``---`` lines, then ``## `` sections."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    meta: dict[str, Any] = {}
    body = text
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if m:
        meta = load_yaml_text(m.group(1)) or {}
        body = text[m.end() :]
    sections: dict[str, str] = {}
    headings: list[str] = []
    current = None
    buf: list[str] = []
    for line in body.splitlines():
        if line.startswith("## "):
            if current is not None:
                sections[current] = "\n".join(buf).strip()
            current = line[3:].strip()
            headings.append(current)
            buf = []
        elif current is not None:
            buf.append(line)
    if current is not None:
        sections[current] = "\n".join(buf).strip()
    return Episode(path=path, meta=meta, sections=sections, body=body, headings=headings)


def episodes(training_dir: str | Path) -> list[Episode]:
    """All episodes of the lesson, in order (``episodes/NN-name/index.md``)."""
    return [read_episode(p) for p in sorted(Path(training_dir).glob("episodes/*/index.md"))]


# ================================================================================================ handout
_HANDOUT_CSS = """
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
       "WenQuanYi Micro Hei", "SimHei", sans-serif; font-size: 10.5pt; line-height: 1.55; color: #111;
       max-width: 180mm; margin: 0 auto; }
h1 { font-size: 18pt; margin: 0 0 4mm; border-bottom: 2px solid #333; }
h2 { font-size: 14pt; margin: 7mm 0 2mm; border-bottom: 1px solid #999; break-after: avoid; }
h3 { font-size: 12pt; margin: 4mm 0 1.5mm; break-after: avoid; }
section.episode { break-before: page; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; font-size: 9.5pt; }
th, td { border: 1px solid #999; padding: 1mm 1.5mm; vertical-align: top; text-align: left; }
th { background: #eee; }
tr { break-inside: avoid; }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 9pt; }
pre { background: #f4f4f4; padding: 2mm; white-space: pre-wrap; font-size: 9pt; }
.meta { color: #444; font-size: 9.5pt; }
.blank { display: inline-block; min-width: 30mm; border-bottom: 1px solid #333; }
footer { margin-top: 8mm; font-size: 8.5pt; color: #555; }
"""


def _markdown(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


def _drop_solutions(text: str) -> str:
    return re.sub(r"<details>.*?</details>\s*", "", text, flags=re.S)


def _drop_sections(markdown: str, words: Sequence[str]) -> str:
    """Remove the ``## `` sections whose heading starts with one of ``words``."""
    out, skip = [], False
    for line in markdown.splitlines():
        if line.startswith("## "):
            skip = line[3:].strip().split()[0] in words
        if not skip:
            out.append(line)
    return "\n".join(out)


def _strip_front_matter(text: str) -> str:
    m = re.match(r"---\n.*?\n---\n", text, re.S)
    return text[m.end() :] if m else text


def _shift_headings(markdown: str, by: int = 1) -> str:
    return re.sub(r"^(#{1,5}) ", lambda m: "#" * (len(m.group(1)) + by) + " ", markdown, flags=re.M)


def build_handout(training_dir: str | Path) -> str:
    """The printable handout (讲义) as one self-contained HTML page (A4, no external resources).

    It holds the agenda, per episode the objectives, key points and exercises (without solutions), the
    glossary and the quiz (without the answer key). Built only from the course's markdown and YAML, so
    the same files always give the same page.
    """
    tdir = Path(training_dir)
    parts = ["<h1>政务登记数据质量 · 培训讲义</h1>"]
    parts.append(
        '<p class="meta">不动产登记数据质量工具包（dq-toolkit）半天课程。讲义由 <code>training/</code> 的'
        f"课程文件生成（<code>{COMMAND}</code>）；练习答案在教员版中。</p>"
    )
    agenda = _strip_front_matter((tdir / "agenda.md").read_text(encoding="utf-8"))
    agenda = _drop_sections(agenda, ["教员提示", "待办"])
    parts.append(_markdown(_shift_headings(re.sub(r"^# .*\n", "## 日程 Agenda\n", agenda, count=1), 0)))
    for ep in episodes(tdir):
        minutes = f"讲授 {ep.meta.get('teaching', '?')} 分钟 · 练习 {ep.meta.get('exercises', '?')} 分钟"
        parts.append('<section class="episode">')
        parts.append(f"<h2>{html.escape(ep.title)}</h2>")
        parts.append(f'<p class="meta">{minutes}</p>')
        for word, heading in (
            ("目标", "目标 Objectives"),
            ("要点", "要点 Key points"),
            ("练习", "练习 Exercises"),
        ):
            text = ep.section(word)
            if not text:
                continue
            if word == "练习":
                text = re.sub(r"^### ", "#### ", _drop_solutions(text), flags=re.M)
            parts.append(f"<h3>{heading}</h3>")
            parts.append(_markdown(text))
        parts.append("</section>")
    terms = load_glossary(tdir / "glossary.yaml")
    parts.append('<section class="episode"><h2>术语表 Glossary</h2>')
    rows = "".join(
        f"<tr><td><strong>{html.escape(t['term'])}</strong></td><td>{html.escape(t['en'])}</td>"
        f"<td>{html.escape(' '.join(str(t['definition']).split()))}</td></tr>"
        for t in terms
    )
    parts.append(
        f"<table><thead><tr><th>术语</th><th>English</th><th>释义</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    parts.append("</section>")
    quiz = _strip_front_matter((tdir / "quiz.md").read_text(encoding="utf-8"))
    quiz = _drop_sections(quiz, ["答案"])
    parts.append('<section class="episode">')
    parts.append(_markdown(_shift_headings(quiz, 1)))
    parts.append("</section>")
    parts.append(
        "<footer>个人信息一律脱敏：身份证号 420102********123X、手机号 138****5678、姓名 张*。</footer>"
    )
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        "<title>政务登记数据质量 · 培训讲义</title>\n"
        f"<style>{_HANDOUT_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _percent(value: float) -> str:
    return f"{value * 100:.4f}".rstrip("0").rstrip(".") + "%"


# ================================================================================================ generated blocks


def indicator_table(domain: str | Path) -> str:
    """The indicators of the scoring model (:func:`toolkit.scoring.load_scoring`) as a markdown table
    (label, id, direction, weight, target, floor), for episode 1; :func:`fill_generated_blocks` writes it
    between the markers ``<!-- indicators:begin -->`` and ``<!-- indicators:end -->``."""
    config = scoring.load_scoring(domain)
    lines = ["| 指标 | 代码 | 方向 | 权重 | 目标值 | 底线 |", "|---|---|---|---|---|---|"]
    for ind in config.indicators:
        arrow = "↑" if ind.direction == "up" else "↓"
        lines.append(
            f"| {ind.label_zh} | `{ind.id}` | {arrow} | {ind.weight:g} | {_percent(ind.target)} "
            f"| {_percent(ind.floor)} |"
        )
    total = sum(ind.weight for ind in config.indicators)
    return "\n".join([*lines, "", f"权重合计 {total:g}。"])


_BLOCK_RE = re.compile(r"(<!-- indicators:begin -->\n).*?(<!-- indicators:end -->)", re.S)


def fill_generated_blocks(text: str, domain: str | Path) -> str:
    """``text`` with its generated blocks (the indicator table) written afresh."""
    if not _BLOCK_RE.search(text):
        return text
    table = indicator_table(domain)
    return _BLOCK_RE.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text)


# ================================================================================================ command


def outputs(training_dir: str | Path, *, domain: str) -> dict[Path, str]:
    """Every generated file of the course and the text it should have (the handout from the episodes as
    they are on disk: ``build`` writes twice, so that it follows the episodes it just wrote)."""
    tdir = Path(training_dir)
    out = {}
    for path in sorted(tdir.glob("episodes/*/index.md")):
        text = path.read_text(encoding="utf-8")
        if _BLOCK_RE.search(text):
            out[path] = fill_generated_blocks(text, domain)
    out[tdir / "glossary.md"] = render_glossary(load_glossary(tdir / "glossary.yaml"), domain=domain)
    out[tdir / "handout.html"] = build_handout(tdir)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python training/build.py build|check [--domain PACK] [TRAINING_DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python training/build.py",
        description="生成或核对课程的术语表、讲义和各集中生成的表格 / build or check the course's generated files",
    )
    parser.add_argument(
        "action", choices=("build", "check"), help="build：写出；check：只核对 / write or verify"
    )
    parser.add_argument(
        "training_dir", nargs="?", type=Path, default=TRAINING_DIR, help="课程文件夹 / the course folder"
    )
    parser.add_argument("--domain", default="bdc", help="领域包 / domain pack (default: bdc)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on a usage error, 0 for --help
        return int(exc.code or 0)
    tdir = args.training_dir
    if not (tdir / "glossary.yaml").is_file():
        print(
            f"[{tdir}] 不是课程文件夹（没有 glossary.yaml）。处理办法：给出 training 文件夹。\n"
            f"[{tdir}] is not the course folder (no glossary.yaml). Fix: give the training folder.",
            file=sys.stderr,
        )
        return 2
    stale: list[Path] = []
    for _ in range(2 if args.action == "build" else 1):  # the handout is built from the episodes just written
        for path, text in outputs(tdir, domain=args.domain).items():
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            if args.action == "build":
                path.write_text(text, encoding="utf-8")
                print(f"已写入 / written: {path}")
            else:
                stale.append(path)
    for path in stale:
        print(f"[{path}] 需要重新生成 / out of date. 处理办法 / fix: {COMMAND}", file=sys.stderr)
    problems = glossary_problems(load_glossary(tdir / "glossary.yaml"), lessons.toolkit_labels(args.domain))
    for problem in problems:
        print(
            f"[{tdir / 'glossary.yaml'}] 术语与工具包的标签不一致 / term disagrees with the toolkit: {problem}",
            file=sys.stderr,
        )
    return 1 if stale or problems else 0


if __name__ == "__main__":
    sys.exit(main())
