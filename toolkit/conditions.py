"""Row conditions (适用条件): one strict parser, three outputs.

A rule may apply only to some rows, e.g. ``DYFS == "1"`` or ``DJLX in ["100", "200"] and GYFS == "2"``.
Suites and locality overlays write conditions in this small pandas-``query``-like language; they come
from other offices and are **never evaluated**. The text is tokenised and parsed here into a tree, and
every engine gets something built from the tree, never the text:

* :meth:`Condition.sql` — a SQL boolean for the DuckDB count engine (``NULL`` counts as false);
* :meth:`Condition.gx` — a Great Expectations 1.x structured condition (``ComparisonCondition`` …), so
  Great Expectations never receives a string to hand to ``DataFrame.query``;
* :meth:`Condition.mask` — a boolean mask over a pandas frame, computed with ``==``/``isin``.

Grammar (anything else is a :class:`~toolkit.errors.ConfigError` naming the condition)::

    expr   := term ("or" term)*
    term   := factor ("and" factor)*
    factor := "(" expr ")" | FIELD "==" TEXT | FIELD "in" "[" TEXT ("," TEXT)* [","] "]"

``FIELD`` is a field code (ASCII letters, digits, ``_``; not a Python keyword), ``TEXT`` a quoted string
literal. A condition is at most :data:`MAX_LENGTH` characters and :data:`MAX_TERMS` comparisons.

    >>> c = parse_condition('DJLX in ["100", "200"] and GYFS == "2"')
    >>> c.columns
    ['DJLX', 'GYFS']
    >>> c.sql(lambda n: n)
    "((DJLX IN ('100', '200')) AND (GYFS = '2'))"
"""

from __future__ import annotations

import ast
import io
import keyword
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from toolkit.errors import ConfigError

__all__ = ["MAX_LENGTH", "MAX_TERMS", "Condition", "parse_condition"]

#: Longest condition text accepted (characters).
MAX_LENGTH = 2000
#: Most comparisons in one condition (Great Expectations accepts at most 100 after expansion).
MAX_TERMS = 50

_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FIX_ZH = '只支持：字段 == "值"、字段 in ["值1","值2"]，以及用 and / or / 括号组合。'
_FIX_EN = 'supported: FIELD == "value", FIELD in ["v1","v2"], combined with and / or / parentheses.'


def _error(text: str, why: str) -> ConfigError:
    shown = text if len(text) <= 200 else text[:200] + "…"
    return ConfigError(
        f"无法解析规则的适用条件 {shown!r}：{why}",
        f"cannot parse the row condition {shown!r}: {why}",
        fix_zh=_FIX_ZH,
        fix_en=_FIX_EN,
    )


# A node is ("in", field, values) — ``==`` is "in" with one value — or ("and" | "or", [nodes]).
Node = tuple[Any, ...]


@dataclass(frozen=True)
class Condition:
    """A parsed row condition. Build with :func:`parse_condition`."""

    text: str
    tree: Node

    @property
    def columns(self) -> list[str]:
        """The fields the condition reads, in order of first use."""
        out: list[str] = []

        def walk(n: Node) -> None:
            if n[0] == "in":
                if n[1] not in out:
                    out.append(n[1])
            else:
                for c in n[1]:
                    walk(c)

        walk(self.tree)
        return out

    # ---------------------------------------------------------------- SQL
    def sql(self, ident: Callable[[str], str], literal: Callable[[str], str] | None = None) -> str:
        """SQL boolean; ``ident``/``literal`` quote names and texts for the SQL dialect."""
        lit = literal or (lambda v: "'" + v.replace("'", "''") + "'")

        def emit(n: Node) -> str:
            if n[0] == "in":
                if len(n[2]) == 1:
                    return f"({ident(n[1])} = {lit(n[2][0])})"
                return f"({ident(n[1])} IN ({', '.join(lit(v) for v in n[2])}))"
            parts = [emit(c) for c in n[1]]
            return parts[0] if len(parts) == 1 else "(" + f" {n[0].upper()} ".join(parts) + ")"

        return emit(self.tree)

    # ---------------------------------------------------------------- pandas
    def mask(self, frame: pd.DataFrame) -> pd.Series:
        """Rows of ``frame`` the condition keeps (missing values never match)."""

        def emit(n: Node) -> pd.Series:
            if n[0] == "in":
                col = frame[n[1]] if n[1] in frame.columns else pd.Series(None, index=frame.index)
                return col.isin(list(n[2])).fillna(False).astype(bool)
            parts = [emit(c) for c in n[1]]
            out = parts[0]
            for p in parts[1:]:
                out = (out & p) if n[0] == "and" else (out | p)
            return out

        return emit(self.tree)

    # ---------------------------------------------------------------- Great Expectations
    def dnf(self) -> list[list[tuple[str, tuple[str, ...]]]]:
        """Disjunctive normal form: OR of ANDs of (field, allowed values)."""

        def walk(n: Node) -> list[list[tuple[str, tuple[str, ...]]]]:
            if n[0] == "in":
                return [[(n[1], tuple(n[2]))]]
            if n[0] == "or":
                return [conj for c in n[1] for conj in walk(c)]
            out: list[list[tuple[str, tuple[str, ...]]]] = [[]]
            for c in n[1]:
                out = [a + b for a in out for b in walk(c)]
                if sum(len(conj) for conj in out) > MAX_TERMS * 2:
                    raise _error(self.text, f"too complex (more than {MAX_TERMS * 2} terms when expanded)")
            return out

        return walk(self.tree)

    def gx(self) -> Any:
        """The condition as a Great Expectations structured row condition."""
        from great_expectations.expectations.row_conditions import (
            AndCondition,
            Column,
            ComparisonCondition,
            Operator,
            OrCondition,
        )

        def leaf(field: str, values: tuple[str, ...]) -> Any:
            if len(values) == 1:
                return ComparisonCondition(column=Column(field), operator=Operator.EQUAL, parameter=values[0])
            return ComparisonCondition(column=Column(field), operator=Operator.IN, parameter=list(values))

        conj = [
            leaf(*c[0]) if len(c) == 1 else AndCondition(conditions=[leaf(*x) for x in c]) for c in self.dnf()
        ]
        return conj[0] if len(conj) == 1 else OrCondition(conditions=conj)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        try:
            toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
            raise _error(text, str(exc)) from exc
        skip = {tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT}
        self.toks = [t for t in toks if t.type not in skip]
        self.pos = 0
        self.terms = 0

    def peek(self) -> tokenize.TokenInfo | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self, string: str | None = None, type_: int | None = None) -> tokenize.TokenInfo:
        tok = self.peek()
        if tok is None:
            raise _error(self.text, "unexpected end")
        if string is not None and tok.string != string:
            raise _error(self.text, f"expected {string!r}, got {tok.string!r}")
        if type_ is not None and tok.type != type_:
            raise _error(self.text, f"unexpected {tok.string!r}")
        self.pos += 1
        return tok

    def parse(self) -> Node:
        node = self.expr(0)
        if self.peek() is not None:
            raise _error(self.text, f"unexpected {self.peek().string!r}")  # type: ignore[union-attr]
        return node

    def _word(self, word: str) -> bool:
        t = self.peek()
        return t is not None and t.type == tokenize.NAME and t.string == word

    def expr(self, depth: int) -> Node:
        parts = [self.term(depth)]
        while self._word("or"):
            self.pos += 1
            parts.append(self.term(depth))
        return parts[0] if len(parts) == 1 else ("or", parts)

    def term(self, depth: int) -> Node:
        parts = [self.factor(depth)]
        while self._word("and"):
            self.pos += 1
            parts.append(self.factor(depth))
        return parts[0] if len(parts) == 1 else ("and", parts)

    def string(self) -> str:
        tok = self.take(type_=tokenize.STRING)
        if not tok.string.startswith(("'", '"')):  # no f-strings, byte strings or other prefixes
            raise _error(self.text, f"{tok.string} is not a plain text literal")
        try:
            value = ast.literal_eval(tok.string)
        except (ValueError, SyntaxError) as exc:  # pragma: no cover - the tokenizer found a literal
            raise _error(self.text, f"bad string {tok.string}") from exc
        if not isinstance(value, str):
            raise _error(self.text, f"{tok.string} is not a text literal")
        return value

    def factor(self, depth: int) -> Node:
        if depth > 10:
            raise _error(self.text, "parentheses nested too deeply")
        tok = self.peek()
        if tok is None:
            raise _error(self.text, "unexpected end")
        if tok.string == "(":
            self.pos += 1
            inner = self.expr(depth + 1)
            self.take(")")
            return inner
        if (
            tok.type != tokenize.NAME
            or not _FIELD.fullmatch(tok.string)
            or keyword.iskeyword(tok.string)
            or keyword.issoftkeyword(tok.string)
        ):
            raise _error(self.text, f"expected a field name, got {tok.string!r}")
        self.pos += 1
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise _error(self.text, f"more than {MAX_TERMS} comparisons")
        column = tok.string
        op = self.peek()
        if op is not None and op.string == "==":
            self.pos += 1
            return ("in", column, (self.string(),))
        if op is not None and op.type == tokenize.NAME and op.string == "in":
            self.pos += 1
            self.take("[")
            values = [self.string()]
            while (t := self.peek()) is not None and t.string == ",":
                self.pos += 1
                if (t2 := self.peek()) is not None and t2.string == "]":
                    break
                values.append(self.string())
            self.take("]")
            return ("in", column, tuple(values))
        got = op.string if op is not None else "end"
        raise _error(self.text, f"after {column!r} expected == or in, got {got!r}")


def parse_condition(text: Any) -> Condition | None:
    """Parse a row condition; ``None``/blank → ``None`` (every row). Great Expectations' serialised
    pass-through form (``{"pass_through_filter": "..."}``) is read as its text."""
    if isinstance(text, dict) and set(text) <= {"pass_through_filter", "type"}:
        text = text.get("pass_through_filter")
    if text is None or (isinstance(text, str) and text.strip() == ""):
        return None
    if not isinstance(text, str):
        raise _error(repr(text)[:200], "a row condition must be text")
    if len(text) > MAX_LENGTH:
        raise _error(text, f"longer than {MAX_LENGTH} characters")
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text):
        raise _error(text, "control characters are not allowed")
    return Condition(text=text, tree=_Parser(text).parse())
