"""The subset of Solr's query syntax that CKAN clients send in `q`, `fq` and `fq_list`, parsed into terms.

Understood: free words (Chinese or not: matched through the datasets' jieba tokens), `field:value`,
`field:"a phrase"`, `field:(a OR b)`, `field:prefix*`, `field:*` (any), `*:*` (everything), ranges
`field:[2026-01-01T00:00:00Z TO *]` (and `{…}`), negation with `-`, `!` or `NOT`, `+` (required, the default),
`AND` (the default) and `OR` between two clauses. The parsed form is a conjunction of groups; each group is a
disjunction of terms. The fields a term may name are the search module's (`search.FIELDS`); any other field is
refused with a message naming it (409), never silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .errors import ValidationFailed

MAX_TERMS = 40
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>AND|OR|NOT|&&|\|\|)(?=[\s(]|$)
      | (?P<sign>[+\-!])?
        (?:(?P<field>\*|[A-Za-z_][A-Za-z0-9_.\-]*):)?
        (?P<value>"(?:[^"\\]|\\.)*"|\([^)]*\)|\[[^\]]*\]|\{[^}]*\}|[^\s"()\[\]{}]+)
    )""",
    re.VERBOSE,
)
_ITEM = re.compile(r'"(?:[^"\\]|\\.)*"|[^\s"]+')
_RANGE = re.compile(r"^[\[{]\s*(?P<low>\S+)\s+TO\s+(?P<high>\S+)\s*[\]}]$")


@dataclass
class Term:
    field: str | None  # None: free text
    values: list[str] = field(default_factory=list)  # any of them
    negate: bool = False
    prefix: bool = False  # value* (one value)
    match_all: bool = False  # *:* or field:*
    low: str | None = None  # a range; None = open
    high: str | None = None
    is_range: bool = False


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return re.sub(r"\\(.)", r"\1", text)


def _term(name: str | None, raw: str, negate: bool, param: str, fields: set[str]) -> Term:
    if name is not None and name != "*" and name not in fields:
        raise ValidationFailed({param: [_("不支持按字段“%(field)s”检索。") % {"field": name[:40]}]})
    if name == "*" or (name is not None and raw == "*"):
        return Term(field=None if name == "*" else name, negate=negate, match_all=True)
    if raw.startswith(("[", "{")):
        match = _RANGE.match(raw)
        if not match or name is None:
            raise ValidationFailed({param: [_("范围查询的写法应为 字段:[起 TO 止]。")]})
        low, high = (None if v == "*" else _unquote(v) for v in (match["low"], match["high"]))
        return Term(field=name, negate=negate, is_range=True, low=low, high=high)
    if raw.startswith("("):
        items = [_unquote(i) for i in _ITEM.findall(raw[1:-1]) if i not in ("OR", "AND", "||", "&&")]
        if not items:
            raise ValidationFailed({param: [_("括号中没有检索值。")]})
        return Term(field=name, values=items, negate=negate)
    value = _unquote(raw)
    if raw.endswith("*") and not raw.startswith('"') and len(value) > 1:
        return Term(field=name, values=[value[:-1]], negate=negate, prefix=True)
    return Term(field=name, values=[value], negate=negate)


def parse(text: str, *, param: str, fields: set[str]) -> list[list[Term]]:
    """`text` as a conjunction of disjunctions of terms. Raises ValidationFailed naming `param`."""
    groups: list[list[Term]] = []
    position = 0
    text = text or ""
    pending_or = pending_not = False
    count = 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ValidationFailed({param: [_("无法解析的查询：%(rest)s") % {"rest": text[position:][:40]}]})
        position = match.end()
        op = match.group("op")
        if op in ("OR", "||"):
            pending_or = bool(groups)
            continue
        if op in ("AND", "&&"):
            continue
        if op == "NOT":
            pending_not = True
            continue
        count += 1
        if count > MAX_TERMS:
            raise ValidationFailed({param: [_("查询条件过多（最多 %(n)s 个）。") % {"n": MAX_TERMS}]})
        negate = pending_not or match.group("sign") in ("-", "!")
        term = _term(match.group("field"), match.group("value"), negate, param, fields)
        if pending_or:
            groups[-1].append(term)
        else:
            groups.append([term])
        pending_or = pending_not = False
    return groups
