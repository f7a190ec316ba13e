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
* rule ids quoted in the course exist; ``glossary.md`` and ``handout.html`` are up to date.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from toolkit import lessons, load_domain

TRAINING = Path(lessons.TRAINING_DIR)
EPISODES = sorted(TRAINING.glob("episodes/*/index.md"))
IDS = [p.parent.name for p in EPISODES]
SECTIONS = ["目标", "时长", "正文", "练习", "教员提示", "要点"]


@pytest.fixture(scope="module")
def glossary() -> list[dict]:
    return lessons.load_glossary(TRAINING / "glossary.yaml")


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
    ep = lessons.read_episode(path)
    assert ep.meta.get("title"), "front matter needs a title"
    for key in ("teaching", "exercises"):
        assert isinstance(ep.meta.get(key), int) and ep.meta[key] > 0, key
    notebook = path.parent / ep.meta["notebook"]
    assert notebook.suffix == ".ipynb" and notebook.exists()
    assert notebook.with_suffix(".py").exists()
    assert isinstance(ep.meta.get("glossary"), list) and ep.meta["glossary"]


@pytest.mark.parametrize("path", EPISODES, ids=IDS)
def test_episode_sections_in_order(path):
    ep = lessons.read_episode(path)
    firsts = [h.split()[0] for h in ep.headings]
    assert firsts == SECTIONS, f"## headings should be {SECTIONS}, found {firsts}"
    for word in SECTIONS:
        assert ep.section(word).strip(), f"section {word} is empty"


@pytest.mark.parametrize("path", EPISODES, ids=IDS)
def test_timing_section_states_the_minutes(path):
    ep = lessons.read_episode(path)
    timing = ep.section("时长")
    assert re.search(rf"讲授 {ep.meta['teaching']} 分钟", timing), timing
    assert re.search(rf"练习 {ep.meta['exercises']} 分钟", timing), timing
    total = ep.meta["teaching"] + ep.meta["exercises"]
    assert f"合计 {total} 分钟" in timing


@pytest.mark.parametrize("path", EPISODES, ids=IDS)
def test_every_exercise_has_a_solution_a_trainer_can_reveal(path):
    exercises = lessons.read_episode(path).section("练习")
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
    ep = lessons.read_episode(path)
    for word in ("目标", "教员提示", "要点"):
        items = re.findall(r"^\s*(?:[-*]|\d+\.)\s+\S", ep.section(word), re.M)
        assert len(items) >= 2, f"{word}: at least two items"


@pytest.mark.parametrize("path", EPISODES, ids=IDS)
def test_episode_glossary_terms_exist_and_are_used(path, glossary):
    ep = lessons.read_episode(path)
    known = {t["term"] for t in glossary}
    missing = [t for t in ep.meta["glossary"] if t not in known]
    assert not missing, f"not in glossary.yaml: {missing}"
    unused = [t for t in ep.meta["glossary"] if t not in ep.body]
    assert not unused, f"listed but not used in the text: {unused}"


def test_glossary_is_well_formed_and_uses_the_toolkits_labels(glossary, labels):
    assert lessons.glossary_problems(glossary, labels) == []
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
    """The dimension labels (domain.yaml ``labels:``, else the defaults) are those of scoring.yaml's
    headings, and the pack's own labels are the ones the course uses."""
    dom = load_domain("bdc")
    own = dom.config.get("labels") or {}
    if own:
        assert lessons.toolkit_labels("bdc")["dimension"] == own["dimensions"]
        assert lessons.toolkit_labels("bdc")["severity"] == own["severities"]
        assert own["dimensions"] == lessons.DEFAULT_DIMENSION_LABELS
        assert own["severities"] == lessons.DEFAULT_SEVERITY_LABELS
    headings = lessons._dimension_headings(dom.path)
    if not headings:
        pytest.skip("no scoring.yaml")
    labels = lessons.toolkit_labels("bdc")["dimension"]
    assert {d: labels[d] for d in headings} == headings


def test_generated_files_are_up_to_date():
    for path in EPISODES:
        text = path.read_text(encoding="utf-8")
        assert text == lessons.fill_generated_blocks(text), f"{path}: run python -m toolkit.lessons build"
    assert (TRAINING / "glossary.md").read_text(encoding="utf-8") == lessons.render_glossary(
        lessons.load_glossary(TRAINING / "glossary.yaml")
    ), "run: python -m toolkit.lessons build"
    assert (TRAINING / "handout.html").read_text(encoding="utf-8") == lessons.build_handout(TRAINING), (
        "run: python -m toolkit.lessons build"
    )


def test_handout_is_self_contained_printable_and_has_no_solutions():
    html = (TRAINING / "handout.html").read_text(encoding="utf-8")
    assert "@page" in html and "size: A4" in html
    assert not re.search(r"<link|<script|<img|<iframe|@import|url\(", html)
    assert "<details" not in html and "答案 Answer key" not in html
    for ep in lessons.episodes(TRAINING):
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
    path = lessons.domain_path("bdc") / "scoring.yaml"
    if not path.exists():
        pytest.skip("no scoring.yaml")
    model = yaml.safe_load(path.read_text(encoding="utf-8"))["indicators"]
    text = (TRAINING / "episodes/01-score/index.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| (\S+) \| `([a-z0-9_]+)` \| ([↑↓]) \| (\d+) \| ([\d.]+)% \| ([\d.]+)% \|$", text, re.M
    )
    assert {r[1] for r in rows} == set(model), "one row per indicator"
    for label, iid, arrow, weight, target, floor in rows:
        spec = model[iid]
        assert label == spec["label_zh"]
        assert arrow == ("↑" if spec["direction"] == "up" else "↓"), iid
        assert int(weight) == spec["weight"], iid
        assert float(target) / 100 == pytest.approx(spec["target"]), iid
        assert float(floor) / 100 == pytest.approx(spec["floor"]), iid
    assert sum(spec["weight"] for spec in model.values()) == 100


def test_agenda_is_a_timed_half_day_covering_every_episode():
    text = (TRAINING / "agenda.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d\d:\d\d) \| (\d*) \| (.*?) \|", text, re.M)
    times = [int(t[:2]) * 60 + int(t[3:]) for t, _, _ in rows]
    assert times == sorted(times)
    for (start, minutes, _), nxt in zip(rows, times[1:], strict=False):
        assert int(start[:2]) * 60 + int(start[3:]) + int(minutes) == nxt, f"{start} + {minutes} min"
    assert 180 <= times[-1] - times[0] <= 270, "a half day"
    for ep in lessons.episodes(TRAINING):
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
    for ep in lessons.episodes(TRAINING):
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
    assert "make demo" in setup and "make lab" in setup and "demo_out/sample" in setup
    for md in [*TRAINING.glob("*.md"), *TRAINING.glob("episodes/*/index.md")]:
        for target in re.findall(r"\]\(([^)#]+)\)", md.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://")):
                continue
            assert (md.parent / target).exists(), f"{md.name}: broken link {target}"
