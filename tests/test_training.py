"""The training lesson (``training/``): structure, glossary, generated files, and facts that must agree
with the toolkit (rule ids, indicator settings, labels).

Conventions checked here (see training/README.md):

* an episode is ``training/episodes/NN-name/`` with ``index.md`` and a paired notebook named in its front
  matter; the front matter gives ``title``, ``teaching`` and ``exercises`` (minutes) and ``glossary`` (the
  glossary terms the episode uses);
* ``index.md`` has the ``##`` sections 目标, 时长, 正文, 练习, 教员提示, 要点 in that order; 时长 states the
  same minutes as the front matter; every ``###`` exercise is followed by a ``<details>`` 答案 block;
* every term an episode lists is in ``glossary.yaml`` and occurs in the episode's text; glossary terms of
  a kind the toolkit labels (dimension, severity, indicator, field, …) are the toolkit's own labels;
* rule ids quoted in the course exist; ``glossary.md``, ``handout.html`` and the generated blocks of the
  episodes are up to date (``python training/build.py check``).

``training/build.py`` builds the course; it is not part of the installed package, so it is loaded here
from its file.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit import lessons, load_domain, scoring

REPO = Path(__file__).resolve().parent.parent


def _load_build():
    spec = importlib.util.spec_from_file_location("training_build", REPO / "training" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


build = _load_build()
TRAINING = build.TRAINING_DIR
EPISODES = sorted(TRAINING.glob("episodes/*/index.md"))
IDS = [p.parent.name for p in EPISODES]
SECTIONS = ["目标", "时长", "正文", "练习", "教员提示", "要点"]


@pytest.fixture(scope="module")
def glossary() -> list[dict]:
    return build.load_glossary(TRAINING / "glossary.yaml")


@pytest.fixture(scope="module")
def labels() -> dict:
    return lessons.toolkit_labels("bdc")


def test_there_are_at_least_five_episodes_numbered_in_order():
    assert len(EPISODES) >= 5
    numbers = [int(p.parent.name.split("-")[0]) for p in EPISODES]
    assert numbers == list(range(1, len(EPISODES) + 1))
    names = [p.parent.name for p in EPISODES]
    assert names[:5] == ["01-score", "02-bulletin", "03-ids", "04-common-errors", "05-closed-loop"]


@pytest.mark.parametrize("path", EPISODES, ids=IDS)
def test_episode_front_matter(path):
    ep = build.read_episode(path)
    assert ep.meta.get("title"), "front matter needs a title"
    for key in ("teaching", "exercises"):
        assert isinstance(ep.meta.get(key), int) and ep.meta[key] > 0, key
    notebook = path.parent / ep.meta["notebook"]
    assert notebook.suffix == ".ipynb" and notebook.exists()
    assert notebook.with_suffix(".py").exists()
    assert isinstance(ep.meta.get("glossary"), list) and ep.meta["glossary"]


@pytest.mark.parametrize("path", EPISODES, ids=IDS)
def test_episode_sections_in_order(path):
    ep = build.read_episode(path)
    firsts = [h.split()[0] for h in ep.headings]
    assert firsts == SECTIONS, f"## headings should be {SECTIONS}, found {firsts}"
    for word in SECTIONS:
        assert ep.section(word).strip(), f"section {word} is empty"


@pytest.mark.parametrize("path", EPISODES, ids=IDS)
def test_timing_section_states_the_minutes(path):
    ep = build.read_episode(path)
    timing = ep.section("时长")
    assert re.search(rf"讲授 {ep.meta['teaching']} 分钟", timing), timing
    assert re.search(rf"练习 {ep.meta['exercises']} 分钟", timing), timing
    total = ep.meta["teaching"] + ep.meta["exercises"]
    assert f"合计 {total} 分钟" in timing


@pytest.mark.parametrize("path", EPISODES, ids=IDS)
def test_every_exercise_has_a_solution_a_trainer_can_reveal(path):
    exercises = build.read_episode(path).section("练习")
    blocks = re.split(r"^### ", exercises, flags=re.M)[1:]
    assert len(blocks) >= 2, "at least two exercises"
    for block in blocks:
        title = block.splitlines()[0]
        details = re.findall(r"<details>\s*<summary>(.*?)</summary>(.*?)</details>", block, re.S)
        assert len(details) == 1, f"exercise {title!r}: one <details> block"
        summary, body = details[0]
        assert "答案" in summary, f"exercise {title!r}: <summary> should say 答案"
        assert body.strip(), f"exercise {title!r}: empty solution"
        assert block.index("<details>") > len(title), "the question comes before its solution"


@pytest.mark.parametrize("path", EPISODES, ids=IDS)
def test_instructor_notes_and_objectives_are_lists(path):
    ep = build.read_episode(path)
    for word in ("目标", "教员提示", "要点"):
        items = re.findall(r"^\s*(?:[-*]|\d+\.)\s+\S", ep.section(word), re.M)
        assert len(items) >= 2, f"{word}: at least two items"


@pytest.mark.parametrize("path", EPISODES, ids=IDS)
def test_episode_glossary_terms_exist_and_are_used(path, glossary):
    ep = build.read_episode(path)
    known = {t["term"] for t in glossary}
    missing = [t for t in ep.meta["glossary"] if t not in known]
    assert not missing, f"not in glossary.yaml: {missing}"
    unused = [t for t in ep.meta["glossary"] if t not in ep.body]
    assert not unused, f"listed but not used in the text: {unused}"


def test_glossary_is_well_formed_and_uses_the_toolkits_labels(glossary, labels):
    assert build.glossary_problems(glossary, labels) == []
    kinds = {t["kind"] for t in glossary}
    assert {"dimension", "severity", "indicator", "field", "state", "concept"} <= kinds


def test_glossary_covers_every_dimension_severity_and_indicator(glossary, labels):
    for kind in ("dimension", "severity", "indicator"):
        codes = {t.get("code") for t in glossary if t["kind"] == kind}
        assert codes == set(labels[kind]), kind


def test_ledger_states_in_the_glossary(glossary, labels):
    if not labels["state"]:
        pytest.skip("toolkit.ledger is not installed")
    states = {t["term"] for t in glossary if t["kind"] == "state"}
    assert states == set(labels["state"].values())


def test_dimension_labels_agree_with_the_scoring_model():
    """The dimension labels (domain.yaml ``labels:``, else the defaults) label every dimension of the
    scoring model, and the pack's own labels are the ones the course uses."""
    dom = load_domain("bdc")
    own = dom.config.get("labels") or {}
    labels = lessons.toolkit_labels("bdc")
    if own:
        assert labels["dimension"] == own["dimensions"]
        assert labels["severity"] == own["severities"]
        assert own["dimensions"] == lessons.DEFAULT_DIMENSION_LABELS
        assert own["severities"] == lessons.DEFAULT_SEVERITY_LABELS
    assert {i.dimension for i in scoring.load_scoring(dom).indicators} <= set(labels["dimension"])


def test_generated_files_are_up_to_date():
    for path, text in build.outputs(TRAINING, domain="bdc").items():
        assert path.read_text(encoding="utf-8") == text, f"{path}: run python training/build.py build"
    for path in EPISODES:
        text = path.read_text(encoding="utf-8")
        assert text == build.fill_generated_blocks(text, "bdc"), f"{path}: run python training/build.py build"


def test_the_build_script_runs_from_the_command_line():
    """The documented entry point: ``python training/build.py check`` (from any folder)."""
    done = subprocess.run(
        [sys.executable, str(REPO / "training" / "build.py"), "check"],
        capture_output=True,
        text=True,
        cwd=REPO / "tests",
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def test_handout_is_self_contained_printable_and_has_no_solutions():
    html = (TRAINING / "handout.html").read_text(encoding="utf-8")
    assert "@page" in html and "size: A4" in html
    assert not re.search(r"<link|<script|<img|<iframe|@import|url\(", html)
    assert "<details" not in html and "答案 Answer key" not in html
    for ep in build.episodes(TRAINING):
        assert ep.title in html
    assert "日程 Agenda" in html and "术语表 Glossary" in html
    assert "TODO" not in html


def test_rule_ids_quoted_in_the_course_exist():
    rules = {r.rule_id for r in load_domain("bdc").rules}
    quoted: dict[str, set[str]] = {}
    for path in [
        *TRAINING.glob("*.md"),
        *TRAINING.glob("episodes/*/*.md"),
        *TRAINING.glob("episodes/*/*.py"),
    ]:
        for rid in re.findall(r"\bbdc\.[a-z]+\.[a-z0-9_]+\.[a-z0-9_]+\b", path.read_text(encoding="utf-8")):
            quoted.setdefault(rid, set()).add(path.name)
    assert quoted, "the course should quote rule ids"
    unknown = {rid: sorted(files) for rid, files in quoted.items() if rid not in rules}
    assert not unknown


def test_indicator_table_of_episode_1_matches_the_scoring_model():
    config = scoring.load_scoring("bdc")
    model = {i.id: i for i in config.indicators}
    text = (TRAINING / "episodes/01-score/index.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| (\S+) \| `([a-z0-9_]+)` \| ([↑↓]) \| (\d+) \| ([\d.]+)% \| ([\d.]+)% \|$", text, re.M
    )
    assert {r[1] for r in rows} == set(model), "one row per indicator"
    for label, iid, arrow, weight, target, floor in rows:
        ind = model[iid]
        assert label == ind.label_zh
        assert arrow == ("↑" if ind.direction == "up" else "↓"), iid
        assert int(weight) == ind.weight, iid
        assert float(target) / 100 == pytest.approx(ind.target), iid
        assert float(floor) / 100 == pytest.approx(ind.floor), iid
    assert sum(ind.weight for ind in config.indicators) == 100


def test_agenda_is_a_timed_half_day_covering_every_episode():
    text = (TRAINING / "agenda.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d\d:\d\d) \| (\d*) \| (.*?) \|", text, re.M)
    times = [int(t[:2]) * 60 + int(t[3:]) for t, _, _ in rows]
    assert times == sorted(times)
    for (start, minutes, _), nxt in zip(rows, times[1:], strict=False):
        assert int(start[:2]) * 60 + int(start[3:]) + int(minutes) == nxt, f"{start} + {minutes} min"
    assert 180 <= times[-1] - times[0] <= 270, "a half day"
    for ep in build.episodes(TRAINING):
        link = f"episodes/{ep.path.parent.name}/index.md"
        row = next(r for r in rows if link in r[2])
        assert int(row[1]) == ep.meta["teaching"] + ep.meta["exercises"], link


def test_no_placeholders_left_in_the_course():
    """The scoring, bulletin and ledger APIs have landed: no TODO remains in the course or the notebooks."""
    paths = [
        *TRAINING.glob("*.md"),
        *TRAINING.glob("episodes/*/index.md"),
        *TRAINING.glob("episodes/*/*.py"),
        *TRAINING.parent.glob("notebooks/*.py"),
        TRAINING.parent / "notebooks" / "README.md",
    ]
    left = [p.name for p in paths if "TODO" in p.read_text(encoding="utf-8")]
    assert not left
    for ep in build.episodes(TRAINING):
        assert "todo" not in ep.meta, ep.path


def test_episodes_use_the_real_scores_bulletin_and_ledger():
    uses = {
        "01-score": ("scoring.explain", "lessons.explain_table"),
        "02-bulletin": ("report.run_report", "score_history"),
        "05-closed-loop": ("ledger.sync_check", "ledger.update", "ledger.ledger_figures"),
    }
    for name, calls in uses.items():
        code = (TRAINING / "episodes" / name / f"{name}.py").read_text(encoding="utf-8")
        for call in calls:
            assert call in code, f"{name}: {call}"


def test_quiz_has_an_answer_for_every_question():
    text = (TRAINING / "quiz.md").read_text(encoding="utf-8")
    questions = re.findall(r"^\*\*(\d+)\.\*\*", text, re.M)
    key = text.split("## 答案")[1]
    answers = re.findall(r"^\| (\d+) \| ([A-D]) \|", key, re.M)
    assert [int(q) for q in questions] == list(range(1, len(questions) + 1)) and len(questions) >= 10
    assert [int(a) for a, _ in answers] == [int(q) for q in questions]


def test_index_setup_and_links():
    readme = (TRAINING / "README.md").read_text(encoding="utf-8")
    for path in EPISODES:
        assert f"episodes/{path.parent.name}/index.md" in readme
    setup = (TRAINING / "setup.md").read_text(encoding="utf-8")
    assert "make demo" in setup and "make lab" in setup and "demo_out/bdc/sample" in setup
    for md in [*TRAINING.glob("*.md"), *TRAINING.glob("episodes/*/index.md")]:
        for target in re.findall(r"\]\(([^)#]+)\)", md.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://")):
                continue
            assert (md.parent / target).exists(), f"{md.name}: broken link {target}"


# ------------------------------------------------------------------------------------------- build.py


def test_indicator_table_and_generated_blocks():
    table = build.indicator_table("bdc")
    assert table.count("\n| ") == 17  # one row per indicator
    assert "| 空项率 | `empty_rate` | ↓ |" in table and table.endswith("权重合计 100。")
    text = "前\n<!-- indicators:begin -->\n旧表\n<!-- indicators:end -->\n后"
    filled = build.fill_generated_blocks(text, "bdc")
    assert "旧表" not in filled and table in filled and filled.startswith("前\n") and filled.endswith("\n后")
    assert build.fill_generated_blocks(filled, "bdc") == filled
    assert build.fill_generated_blocks("no markers", "bdc") == "no markers"


def test_glossary_problems_finds_wrong_labels():
    labels = {"dimension": {"completeness": "完整性"}, "field": {"QXDM": "区县代码"}, "state": {}}
    terms = [
        {"term": "完整率", "en": "x", "kind": "dimension", "code": "completeness", "definition": "d"},
        {"term": "区县代码", "en": "x", "kind": "field", "code": "QXDM", "definition": "d"},
        {"term": "区县代码", "en": "x", "kind": "field", "code": "QXDM", "definition": "d"},
        {"term": "乡镇代码", "en": "x", "kind": "field", "code": "XZDM", "definition": "d"},
        {
            "term": "发现",
            "en": "x",
            "kind": "state",
            "code": "found",
            "definition": "d",
        },  # no ledger: skipped
        {"term": "批次", "en": "", "kind": "concept", "definition": "d"},
    ]
    found = build.glossary_problems(terms, labels)
    assert found == [
        "完整率: 工具包中 dimension completeness 的名称是“完整性”",
        "区县代码: 重复",
        "乡镇代码: field 中没有代码 'XZDM'",
        "批次: 缺少 en",
    ]


def test_read_episode(tmp_path):
    path = tmp_path / "index.md"
    path.write_text(
        "---\ntitle: T\nteaching: 5\nglossary: [批次]\n---\n\n## 目标 Objectives\n\n- a\n\n## 练习 Exercises\n\n"
        "### 1\n\n<details>\n<summary>答案</summary>\n\nx\n\n</details>\n",
        encoding="utf-8",
    )
    ep = build.read_episode(path)
    assert ep.title == "T" and ep.meta["teaching"] == 5 and ep.meta["glossary"] == ["批次"]
    assert ep.headings == ["目标 Objectives", "练习 Exercises"]
    assert ep.section("目标") == "- a" and "<details>" in ep.section("练习") and ep.section("要点") == ""


def test_handout_build_and_check(tmp_path, capsys):
    tdir = tmp_path / "training"
    shutil.copytree(TRAINING, tdir, ignore=shutil.ignore_patterns("*.ipynb", "*.py"))
    (tdir / "handout.html").unlink(missing_ok=True)
    assert build.main(["check", str(tdir)]) == 1
    assert "handout.html" in capsys.readouterr().err
    assert build.main(["build", str(tdir)]) == 0
    assert build.main(["check", str(tdir)]) == 0
    html = (tdir / "handout.html").read_text(encoding="utf-8")
    assert html == build.build_handout(tdir)  # deterministic
    assert "python training/build.py build" in html
    assert build.main([]) == 2
    assert build.main(["check", str(tmp_path)]) == 2  # not the course folder


def test_check_reports_a_glossary_term_that_disagrees_with_the_toolkit(tmp_path, capsys):
    tdir = tmp_path / "training"
    shutil.copytree(TRAINING, tdir, ignore=shutil.ignore_patterns("*.ipynb", "*.py"))
    glossary = tdir / "glossary.yaml"
    glossary.write_text(
        glossary.read_text(encoding="utf-8").replace("term: 完整性", "term: 完整率", 1), encoding="utf-8"
    )
    assert build.main(["build", str(tdir)]) == 1
    assert "完整率" in capsys.readouterr().err


def test_no_course_tool_is_left_in_the_package():
    """The course is built by training/build.py; the docs say so and nothing names the old entry point."""
    assert not hasattr(lessons, "main") and not hasattr(lessons, "build_handout")
    for path in [
        REPO / "README.md",
        *TRAINING.glob("*.md"),
        *TRAINING.glob("*.html"),
        *TRAINING.glob("*.yaml"),
    ]:
        assert "toolkit.lessons build" not in path.read_text(encoding="utf-8"), path.name
    readme = (TRAINING / "README.md").read_text(encoding="utf-8")
    setup = (TRAINING / "setup.md").read_text(encoding="utf-8")
    assert "python training/build.py build" in readme and "python training/build.py build" in setup
    assert "training/build.py" in (REPO / "README.md").read_text(encoding="utf-8")
