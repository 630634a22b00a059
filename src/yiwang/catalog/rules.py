"""Declared rules of 秒批 (instant approval) and 免申即享 (proactive policies), in a language an administrator reads.

A rule set is a JSON list edited in the admin:

    [{"code": "age", "name": "年满18周岁", "expr": "applicant_age >= 18", "message": "申请人未满18周岁"}, ...]

`expr` is a `rule-engine` expression (a maintained, typed expression language with its own parser: no Python
eval). Rules may only use the facts listed below, and each fact has a type, so `ruleset_validate()` rejects an
unknown field, a comparison of a number with text or an expression that is not a yes/no question with a Chinese
message naming the rule — at save time, not when a citizen applies. Every rule is evaluated on its own, so the
result lists each rule with passed / failed and, when the data to judge it is missing, why.

Facts (symbols):
- applicant (自然人): applicant_age, applicant_gender ("M"/"F"), applicant_district (6-digit code),
  applicant_division (12-digit village/community code), applicant_deceased;
- organisation (法人): org_status ("active", "revoked", "cancelled"…), org_kind, org_age_years, org_employees,
  org_employees_prev (last year's insured staff), org_capital (万元), org_district;
- history of the applicant for this item: approved_before, open_cases;
- the application form: form_<field name> for every field of the item's form (秒批 only), typed from its schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import rule_engine
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

T = rule_engine.DataType
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_RULES = 30
MAX_EXPR = 500


@dataclass(frozen=True)
class Fact:
    symbol: str
    type: Any  # a rule_engine.DataType
    label: Any  # lazy Chinese


PERSON_FACTS = (
    Fact("applicant_age", T.FLOAT, gettext_lazy("申请人年龄（周岁）")),
    Fact("applicant_gender", T.STRING, gettext_lazy("申请人性别（M 男 / F 女）")),
    Fact("applicant_district", T.STRING, gettext_lazy("申请人户籍区县代码（6位）")),
    Fact("applicant_division", T.STRING, gettext_lazy("申请人户籍村居代码（12位）")),
    Fact("applicant_deceased", T.BOOLEAN, gettext_lazy("申请人已登记死亡")),
)
ORGANISATION_FACTS = (
    Fact("org_status", T.STRING, gettext_lazy("单位登记状态（active 存续）")),
    Fact("org_kind", T.STRING, gettext_lazy("单位类型（enterprise 企业 …）")),
    Fact("org_age_years", T.FLOAT, gettext_lazy("单位成立年限（年）")),
    Fact("org_employees", T.FLOAT, gettext_lazy("参保职工人数")),
    Fact("org_employees_prev", T.FLOAT, gettext_lazy("上年度参保职工人数")),
    Fact("org_capital", T.FLOAT, gettext_lazy("注册资本（万元）")),
    Fact("org_district", T.STRING, gettext_lazy("单位住所区县代码（6位）")),
)
HISTORY_FACTS = (
    Fact("approved_before", T.FLOAT, gettext_lazy("申请人此前获准办理本事项的次数")),
    Fact("open_cases", T.FLOAT, gettext_lazy("申请人正在办理的本事项办件数（不含本件）")),
)
HISTORY_SYMBOLS = frozenset(f.symbol for f in HISTORY_FACTS)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    expr: str
    message: str


@dataclass(frozen=True)
class RuleResult:
    code: str
    name: str
    expr: str
    passed: bool
    message: str  # why it failed, for the applicant (empty when passed)
    error: str = ""  # the data needed to judge it was missing or of the wrong kind

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "expr": self.expr,
            "passed": self.passed,
            "message": self.message,
            "error": self.error,
        }


@dataclass(frozen=True)
class CompiledRuleSet:
    rules: tuple[Rule, ...]
    compiled: tuple[Any, ...]  # rule_engine.Rule, parallel to rules
    symbols: frozenset[str]  # the facts the rules use (so callers fetch only those)
    uses: tuple[frozenset[str], ...] = ()  # per rule, the facts it reads

    def evaluate(self, facts: Mapping[str, Any]) -> list[RuleResult]:
        results = []
        for rule, engine_rule, uses in zip(self.rules, self.compiled, self.uses, strict=True):
            missing = sorted(name for name in uses if facts.get(name) is None)
            if missing:
                # No record is not a "no": the rule cannot be judged, and says which data was missing.
                passed, error = False, _("缺少数据：%(names)s") % {"names": "、".join(missing)}
            else:
                try:
                    passed = bool(engine_rule.matches(facts))
                    error = ""
                except rule_engine.errors.EngineError as exc:
                    passed, error = False, _engine_error(exc)
            results.append(
                RuleResult(
                    code=rule.code,
                    name=rule.name,
                    expr=rule.expr,
                    passed=passed,
                    message="" if passed else (rule.message or rule.name),
                    error=error,
                )
            )
        return results


def all_passed(results: Iterable[RuleResult]) -> bool:
    results = list(results)
    return bool(results) and all(r.passed for r in results)


# --- symbols ------------------------------------------------------------------------------------------------
def _form_type(prop: Mapping) -> Any:
    kind = prop.get("type")
    if kind in ("integer", "number"):
        return T.FLOAT
    if kind == "boolean":
        return T.BOOLEAN
    if kind == "array":
        return T.ARRAY(T.STRING)
    if prop.get("format") == "date":
        return T.DATETIME
    return T.STRING


def form_symbols(form_schema: Mapping | None) -> dict[str, Any]:
    properties = ((form_schema or {}).get("schema") or {}).get("properties") or {}
    return {
        f"form_{name}": _form_type(prop) for name, prop in properties.items() if isinstance(prop, Mapping)
    }


def item_symbols(item) -> dict[str, Any]:
    """What a 秒批 rule of this item may use: the applicant kind's facts, history and the item's form fields."""
    symbols = {f.symbol: f.type for f in HISTORY_FACTS}
    target = getattr(item, "target", "person")
    if target in ("person", "both", "organisation"):
        # An organisation's application is filed by a real-named person (经办人): their facts exist too.
        symbols.update({f.symbol: f.type for f in PERSON_FACTS})
    if target in ("organisation", "both"):
        symbols.update({f.symbol: f.type for f in ORGANISATION_FACTS})
    symbols.update(form_symbols(getattr(item, "form_schema", None)))
    return symbols


def subject_symbols(subject: str) -> dict[str, Any]:
    """What a 免申即享 rule may use: the registry facts of its subject kind ("person" / "organisation")."""
    facts = PERSON_FACTS if subject == "person" else ORGANISATION_FACTS
    return {f.symbol: f.type for f in facts}


def symbol_labels(symbols: Iterable[str]) -> list[tuple[str, str]]:
    """(symbol, Chinese label) for the admin's help list."""
    known = {f.symbol: f.label for f in (*PERSON_FACTS, *ORGANISATION_FACTS, *HISTORY_FACTS)}
    return [(s, str(known.get(s, _("申请表字段")))) for s in sorted(symbols)]


# --- validation and compilation -------------------------------------------------------------------------------
def _engine_error(exc: Exception) -> str:
    if isinstance(exc, rule_engine.errors.SymbolResolutionError):
        return _("缺少数据“%(name)s”") % {"name": exc.symbol_name}
    if isinstance(exc, (rule_engine.errors.AttributeResolutionError, rule_engine.errors.LookupError)):
        return _("数据中没有所需的项")
    return _("数据类型不符，无法判断")


def _type_name(data_type) -> str:
    names = {
        "FLOAT": _("数字"),
        "STRING": _("文本"),
        "BOOLEAN": _("是/否"),
        "DATETIME": _("日期"),
        "NULL": _("空值"),
    }
    return names.get(getattr(data_type, "name", ""), str(getattr(data_type, "name", data_type)))


def _parse(expr: str, symbols: Mapping[str, Any]):
    """A typed rule_engine.Rule, and the symbols it refers to."""
    used: set[str] = set()

    def resolve(name: str):
        if name not in symbols:
            raise rule_engine.errors.SymbolResolutionError(name)
        used.add(name)
        return symbols[name]

    context = rule_engine.Context(type_resolver=resolve, default_timezone=timezone.get_default_timezone())
    return rule_engine.Rule(expr, context=context), used


def _rule_error(exc: Exception, symbols: Mapping[str, Any]) -> str:
    if isinstance(exc, rule_engine.errors.SymbolResolutionError):
        return _("未知字段“%(name)s”，可用字段：%(known)s") % {
            "name": exc.symbol_name,
            "known": "、".join(sorted(symbols)),
        }
    if isinstance(exc, rule_engine.errors.RuleSyntaxError):
        token = getattr(getattr(exc, "token", None), "value", None)
        if token is None:
            return _("表达式不完整（语法错误）")
        return _("语法错误，位于“%(token)s”附近") % {"token": token}
    if isinstance(exc, rule_engine.errors.EvaluationError):
        return _("类型不匹配：比较或运算的两边须为同一类型（数字与数字、文本与文本，文本须加引号）")
    if isinstance(exc, rule_engine.errors.RegexSyntaxError):
        return _("正则表达式有误")
    return _("表达式无效：%(error)s") % {"error": str(exc)}


def ruleset_validate(raw, *, symbols: Mapping[str, Any]) -> tuple[Rule, ...]:
    """Checks a declared rule set against the facts available; raises ValidationError({"rules": [...]}) whose
    messages name each offending rule by position and name."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise ValidationError({"rules": _("规则须为 JSON 列表。")}, code="invalid") from None
    if not isinstance(raw, list) or not raw:
        raise ValidationError({"rules": _("请至少声明一条规则。")}, code="required")
    if len(raw) > MAX_RULES:
        raise ValidationError({"rules": _("规则最多 %(n)d 条。") % {"n": MAX_RULES}}, code="max")
    errors: list[str] = []
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw, start=1):
        where = _("第 %(n)d 条规则") % {"n": index}
        if not isinstance(entry, Mapping):
            errors.append(_("%(where)s：格式应为对象（code、name、expr、message）。") % {"where": where})
            continue
        code = str(entry.get("code") or "").strip()
        name = str(entry.get("name") or "").strip()
        expr = str(entry.get("expr") or "").strip()
        message = str(entry.get("message") or "").strip()
        if name:
            where = _("第 %(n)d 条规则“%(name)s”") % {"n": index, "name": name}
        unknown = set(entry) - {"code", "name", "expr", "message"}
        if unknown:
            errors.append(
                _("%(where)s：不认识的键 %(keys)s。") % {"where": where, "keys": "、".join(sorted(unknown))}
            )
        if not _CODE.match(code):
            errors.append(_("%(where)s：编码须为小写字母开头的字母、数字或下划线。") % {"where": where})
        elif code in seen:
            errors.append(_("%(where)s：编码“%(code)s”重复。") % {"where": where, "code": code})
        seen.add(code)
        if not name or len(name) > 60:
            errors.append(_("%(where)s：请填写 60 字以内的规则名称。") % {"where": where})
        if len(message) > 200:
            errors.append(_("%(where)s：不通过说明最多 200 字。") % {"where": where})
        if not expr:
            errors.append(_("%(where)s：请填写判断表达式。") % {"where": where})
            continue
        if len(expr) > MAX_EXPR:
            errors.append(_("%(where)s：表达式最多 %(n)d 个字符。") % {"where": where, "n": MAX_EXPR})
            continue
        try:
            parsed, _used = _parse(expr, symbols)
        except rule_engine.errors.EngineError as exc:
            errors.append(f"{where}：{_rule_error(exc, symbols)}")
            continue
        result_type = parsed.statement.expression.result_type
        if result_type not in (T.BOOLEAN, T.UNDEFINED):
            errors.append(
                _("%(where)s：表达式的结果是%(type)s，须为判断（是/否），例如 applicant_age >= 18。")
                % {"where": where, "type": _type_name(result_type)}
            )
            continue
        rules.append(Rule(code=code, name=name, expr=expr, message=message))
    if errors:
        raise ValidationError({"rules": errors}, code="invalid")
    return tuple(rules)


_COMPILED: dict[tuple, CompiledRuleSet] = {}
_COMPILED_MAX = 512


def ruleset_compile(raw, *, symbols: Mapping[str, Any]) -> CompiledRuleSet:
    """A validated, parsed rule set, memoised by content and symbol table (parsing costs about a millisecond a
    rule; evaluation tens of microseconds)."""
    key = (
        json.dumps(raw, sort_keys=True, ensure_ascii=False),
        tuple(sorted((name, repr(data_type)) for name, data_type in symbols.items())),
    )
    found = _COMPILED.get(key)
    if found is not None:
        return found
    rules = ruleset_validate(raw, symbols=symbols)
    compiled, uses = [], []
    for rule in rules:
        parsed, names = _parse(rule.expr, symbols)
        compiled.append(parsed)
        uses.append(frozenset(names))
    found = CompiledRuleSet(
        rules=rules,
        compiled=tuple(compiled),
        symbols=frozenset().union(*uses),
        uses=tuple(uses),
    )
    if len(_COMPILED) >= _COMPILED_MAX:
        _COMPILED.clear()
    _COMPILED[key] = found
    return found


# --- facts --------------------------------------------------------------------------------------------------
def _years_between(start: date | None, today: date) -> float | None:
    if start is None:
        return None
    years = today.year - start.year - ((today.month, today.day) < (start.month, start.day))
    return float(years)


def person_facts(person, *, today: date | None = None, division_code: str | None = None) -> dict[str, Any]:
    """Registry facts of a person (None values when the registry has no record)."""
    today = today or timezone.localdate()
    if person is None:
        return {f.symbol: None for f in PERSON_FACTS}
    code = (
        division_code if division_code is not None else (person.division.code if person.division_id else "")
    )
    return {
        "applicant_age": _years_between(person.birth_date, today),
        "applicant_gender": person.gender,
        "applicant_district": code[:6] if code else None,
        "applicant_division": code or None,
        "applicant_deceased": bool(person.is_deceased),
    }


def organisation_facts(
    organisation, *, today: date | None = None, division_code: str | None = None
) -> dict[str, Any]:
    today = today or timezone.localdate()
    if organisation is None:
        return {f.symbol: None for f in ORGANISATION_FACTS}
    code = division_code
    if code is None:
        code = organisation.division.code if organisation.division_id else ""
    capital = organisation.registered_capital
    return {
        "org_status": organisation.status,
        "org_kind": organisation.kind,
        "org_age_years": _years_between(organisation.established_on, today),
        "org_employees": float(organisation.employee_count),
        "org_employees_prev": float(organisation.employee_count_prev),
        "org_capital": float(capital) if isinstance(capital, (int, float, Decimal)) else None,
        "org_district": code[:6] if code else None,
    }


def _form_value(value, data_type):
    if value is None or value == "":
        return None
    if data_type == T.FLOAT:
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return None
    if data_type == T.DATETIME and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
    return value


def form_facts(form_schema: Mapping | None, form_data: Mapping | None) -> dict[str, Any]:
    data = form_data or {}
    return {
        symbol: _form_value(data.get(symbol[len("form_") :]), data_type)
        for symbol, data_type in form_symbols(form_schema).items()
    }
