"""Reads of licences for issuers and for the public verification.

Issuers (LICENCE_ISSUE, staff or registered systems) see the licences issued by their department and its
sub-departments (the same tree `services.core.may_issue` lets them issue for); another department's licence is a
404, never a 403.

Verification is public. What it reveals depends on what the asker holds (docs/security.md, "Public licence
verification"):
- the QR token (Licence.verify_token, printed on the document), a live 亮证 token, or the 证照标识 together with
  the 核验码 printed on the document: the outcome, issuer, type, identifier, dates and the face fields the type
  marks public;
- the 证照标识 alone (predictable: anyone can compute valid identifiers): for a licence held by a person only the
  outcome, type, issuer and dates — no face field, no status reason; for an organisation's licence also the
  organisation's public face (the public face fields), except any field sourced from the person registry or whose
  value carries a 身份证号 or mobile number.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.models import Department
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import LICENCE_ISSUE
from yiwang.core.principal import Principal, principal_memo
from yiwang.core.ratelimit import rate_check, rate_hit
from yiwang.core.validators import validate_id_number

from .codes import verify_code_matches
from .models import Licence, LicenceEvent, LicenceShowToken, LicenceType, Seal
from .signing import licence_verify_signature

__all__ = [
    "issuer_departments",
    "licences_issued",
    "licence_issued_get",
    "licence_history",
    "issuable_types",
    "issuable_type_get",
    "licence_by_token",
    "licence_by_identifier",
    "Verification",
    "licence_verification",
    "verify_token",
    "verify_identifier",
    "seals_published",
]

ISSUED_LIMIT = 30
_RELATED = ("licence_type", "issuer", "seal")


# --- issuers --------------------------------------------------------------------------------------------------
def issuer_departments(principal: Principal) -> set[int]:
    """The principal's department and its sub-departments (empty without LICENCE_ISSUE or a department)."""
    if principal is None or not principal.has(LICENCE_ISSUE):
        return set()
    department = principal.department
    if department is None:
        return set()
    return principal_memo(principal, "licences.issuer_departments", lambda: _department_tree(department.pk))


def _department_tree(root: int) -> set[int]:
    tree = {root}
    frontier = {root}
    while frontier:
        frontier = set(Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - tree
        tree |= frontier
    return tree


def licences_issued(
    principal: Principal,
    *,
    status: str | None = None,
    type_code: str | None = None,
    cursor: str | None = None,
    limit: int = ISSUED_LIMIT,
) -> Page[Licence]:
    """The department tree's licences, newest first (keyset on id over the (issuer, status, -id) index)."""
    departments = issuer_departments(principal)
    if not departments:
        return Page(items=[], next_cursor=None)
    query = Licence.objects.filter(issuer_id__in=departments).select_related(*_RELATED)
    if status:
        if status not in Licence.Status.values:
            raise ValidationError({"status": _("证照状态无效。")})
        query = query.filter(status=status)
    if type_code:
        query = query.filter(licence_type__code=type_code)
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


def licence_issued_get(principal: Principal, public_id) -> Licence:
    departments = issuer_departments(principal)
    try:
        return Licence.objects.select_related(*_RELATED, "supersedes", "case").get(
            public_id=public_id, issuer_id__in=departments
        )
    except (Licence.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc


def licence_history(licence: Licence) -> list[LicenceEvent]:
    return list(LicenceEvent.objects.filter(licence=licence).order_by("id"))


def issuable_types(principal: Principal) -> list[LicenceType]:
    """Active, non-reference types issued by the principal's department or its ancestors (services.may_issue)."""
    from .services.core import may_issue

    if principal is None or not principal.has(LICENCE_ISSUE) or principal.department is None:
        return []
    types = LicenceType.objects.filter(is_active=True, is_reference=False).select_related(
        "department__parent__parent"
    )
    return [t for t in types if may_issue(principal, t)]


def issuable_type_get(principal: Principal, code: str) -> LicenceType:
    from .services.core import may_issue

    licence_type = (
        LicenceType.objects.filter(code=code, is_active=True, is_reference=False)
        .select_related("department")
        .first()
    )
    if licence_type is None or not may_issue(principal, licence_type):
        raise Http404
    return licence_type


# --- verification (public) ------------------------------------------------------------------------------------
# The public verification is the platform's busiest read: one licence by its QR token with its type, issuer and
# seal. Django builds the SQL of a four-table select_related again on every call, which cost more CPU than the
# SM2 signature check itself (docs/performance.md); the same statement is therefore built once per process and
# database from the models' own metadata, and its rows become model instances through the fields' own database
# converters (decryption, JSON), exactly as the ORM would make them. The 核验码 is not read (nor decrypted) on the
# token path, which never uses it.
_VERIFY_JOINS = (("licence_type", LicenceType), ("issuer", Department), ("seal", Seal))


@functools.cache
def _verify_statement(alias: str, where: str, defer: frozenset[str]) -> tuple[str, list]:
    connection = connections[alias]
    qn = connection.ops.quote_name
    parts = [("l", Licence, None)] + [(f"j{i}", model, name) for i, (name, model) in enumerate(_VERIFY_JOINS)]
    columns: list[str] = []
    layout: list = []
    joins: list[str] = []
    for table_alias, model, relation in parts:
        fields = [f for f in model._meta.concrete_fields if not (model is Licence and f.attname in defer)]
        converters = []
        for f in fields:
            col = f.get_col(table_alias)
            converters.append(connection.ops.get_db_converters(col) + col.get_db_converters(connection))
        layout.append(
            (
                model,
                relation,
                [f.attname for f in fields],
                converters,
                [f.get_col(table_alias) for f in fields],
            )
        )
        columns += [f"{qn(table_alias)}.{qn(f.column)}" for f in fields]
        if relation is not None:
            fk = Licence._meta.get_field(relation)
            joins.append(
                f"INNER JOIN {qn(model._meta.db_table)} {qn(table_alias)} "
                f"ON {qn(table_alias)}.{qn(fk.target_field.column)} = {qn('l')}.{qn(fk.column)}"
            )
    where_column = Licence._meta.get_field(where).column
    sql = (
        f"SELECT {', '.join(columns)} FROM {qn(Licence._meta.db_table)} {qn('l')} {' '.join(joins)} "
        f"WHERE {qn('l')}.{qn(where_column)} = %s LIMIT 1"
    )
    return sql, layout


def _licence_where(where: str, value: str, *, defer: frozenset[str] = frozenset()) -> Licence | None:
    """The licence whose `where` column equals `value`, with licence_type, issuer and seal loaded: one query,
    the same instances `select_related` gives."""
    alias = router.db_for_read(Licence)
    connection = connections[alias]
    sql, layout = _verify_statement(alias, where, defer)
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    if row is None:
        return None
    position = 0
    licence = None
    for model, relation, attnames, converters, cols in layout:
        values = list(row[position : position + len(attnames)])
        position += len(attnames)
        for i, chain in enumerate(converters):
            for converter in chain:
                values[i] = converter(values[i], cols[i], connection)
        obj = model.from_db(alias, attnames, values)
        if relation is None:
            licence = obj
        else:
            Licence._meta.get_field(relation).set_cached_value(licence, obj)
    return licence


def licence_by_token(token: str) -> Licence | None:
    token = (token or "").strip()
    if not token or len(token) > 64:
        return None
    licence = _licence_where("verify_token", token, defer=frozenset({"verify_code"}))
    if licence is not None:
        return licence
    shown = (
        LicenceShowToken.objects.select_related(*(f"licence__{r}" for r in _RELATED))
        .filter(token=token, expires_at__gt=timezone.now())
        .first()
    )
    return shown.licence if shown is not None else None


def licence_by_identifier(identifier: str) -> Licence | None:
    identifier = (identifier or "").strip().upper()
    if not identifier or len(identifier) > 80:
        return None
    return Licence.objects.select_related(*_RELATED).filter(identifier=identifier).first()


RESULT_LABELS = {
    "valid": _("有效"),
    "invalid": _("无效：签章验证失败，证照数据可能被篡改"),
    "revoked": _("已注销"),
    "suspended": _("已暂停"),
    "expired": _("已过期"),
    "superseded": _("已被更正版本取代"),
    "not_found": _("未找到该证照"),
}


@dataclass
class Verification:
    """What anyone may learn about a licence: the outcome, issuer, type, identifier, dates and — depending on the
    proof the asker holds — the public face (see the module docstring)."""

    result: str
    result_label: str
    identifier: str = ""
    type_code: str = ""
    type_name: str = ""
    issuer_name: str = ""
    issuer_code: str = ""
    seal_name: str = ""
    seal_key_id: str = ""
    issued_on: date | None = None
    expires_on: date | None = None
    version: int = 0
    status_reason: str = ""
    face: list[dict] = field(default_factory=list)
    face_withheld: bool = False
    code_ok: bool | None = None

    @property
    def found(self) -> bool:
        return self.result != "not_found"

    def as_dict(self) -> dict:
        return {
            "result": self.result,
            "result_label": str(self.result_label),
            "identifier": self.identifier,
            "type": {"code": self.type_code, "name": self.type_name},
            "issuer": {"code": self.issuer_code, "name": self.issuer_name},
            "seal": {"name": self.seal_name, "key_id": self.seal_key_id},
            "issued_on": self.issued_on,
            "expires_on": self.expires_on,
            "version": self.version,
            "status_reason": self.status_reason,
            "face": self.face,
            "face_withheld": self.face_withheld,
            "code_ok": self.code_ok,
        }


def _outcome(licence: Licence, today: date) -> str:
    if not licence_verify_signature(licence):
        return "invalid"
    if licence.status == Licence.Status.VALID:
        if licence.expires_on is not None and licence.expires_on < today:
            return "expired"  # the daily job has not run yet
        return "valid"
    return str(licence.status)


def public_face(licence: Licence) -> list[dict]:
    """The face fields the type marks public, in the type's order (label and value)."""
    out = []
    for spec in licence.licence_type.face_fields or []:
        if spec.get("public") and spec.get("name") in (licence.face or {}):
            out.append(
                {
                    "name": spec["name"],
                    "label": spec.get("label", spec["name"]),
                    "value": licence.face[spec["name"]],
                }
            )
    return out


# 18-character runs (ID numbers: checked below with their checksum and birth date) and mainland mobile numbers,
# however they are written (13912345678, 139-1234-5678, 139 1234 5678, 139.1234.5678, 139/1234/5678)
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d[\s./-]?\d{4}[\s./-]?\d{4}(?!\d)")


def _carries_personal_identifier(value, organisation_code: str) -> bool:
    text = str(value)
    if _MOBILE.search(text):
        return True
    for match in _ID_LIKE.finditer(text):
        candidate = match.group(0).upper()
        if candidate == organisation_code:
            continue  # the holder's own 统一社会信用代码
        try:
            validate_id_number(candidate)
        except ValidationError:
            continue
        return True
    return False


def organisation_public_face(licence: Licence) -> list[dict]:
    """An organisation's public face by identifier alone: the public face fields, except a field sourced from the
    person registry or whose value carries a 身份证号 or mobile number (a legal representative's ID, a contact
    phone) — even when the type marks it public."""
    source_of = {
        spec.get("name"): str(spec.get("source") or "") for spec in licence.licence_type.face_fields or []
    }
    uscc = (licence.holder_id or "").upper()
    return [
        item
        for item in public_face(licence)
        if not source_of.get(item["name"], "").startswith("registry:person.")
        and not _carries_personal_identifier(item["value"], uscc)
    ]


def licence_verification(
    licence: Licence | None, *, today: date | None = None, proven: bool = False, code_ok: bool | None = None
) -> Verification:
    """The verification of `licence`. `proven`: the asker holds the QR token, a live 亮证 token or the 核验码;
    False (the default: the safe answer) for the 证照标识 alone — then nothing personal (module docstring)."""
    if licence is None:
        return Verification(result="not_found", result_label=RESULT_LABELS["not_found"])
    result = _outcome(licence, today or timezone.localdate())
    personal = licence.holder_person_id is not None
    withheld = not proven and personal
    public_reason = result in ("revoked", "suspended") and not withheld
    if result == "invalid" or withheld:
        face: list[dict] = []
    elif proven:
        face = public_face(licence)
    else:
        face = organisation_public_face(licence)
    return Verification(
        result=result,
        result_label=RESULT_LABELS[result],
        identifier=licence.identifier,
        type_code=licence.licence_type.code,
        type_name=licence.licence_type.name,
        issuer_name=licence.issuer.name,
        issuer_code=licence.issuer.uscc,
        seal_name=licence.seal.name,
        seal_key_id=licence.seal.key_id,
        issued_on=licence.issued_on,
        expires_on=licence.expires_on,
        version=licence.version,
        status_reason=licence.status_reason if public_reason else "",
        face=face,
        face_withheld=withheld and result != "invalid",
        code_ok=code_ok,
    )


def verify_token(token: str) -> Verification:
    return licence_verification(licence_by_token(token), proven=True)


CODE_SCOPE = "licence_verify_code"


def verify_identifier(identifier: str, code: str | None = None) -> Verification:
    """By 证照标识, with or without the 核验码. Wrong codes are counted per licence (rate limit
    `licence_verify_code`, on top of the per-client `licence_verify` the page and API apply): past the limit a
    code is not checked at all for a while (RateLimited), so the 40-bit code cannot be guessed from many
    addresses either."""
    licence = licence_by_identifier(identifier)
    code = (code or "").strip()
    if licence is None or not code:
        return licence_verification(licence, proven=False)
    rate_check(scope=CODE_SCOPE, key=licence.identifier)
    matches = verify_code_matches(licence.verify_code, code)
    if not matches:
        rate_hit(scope=CODE_SCOPE, key=licence.identifier)
    return licence_verification(licence, proven=matches, code_ok=matches)


def seals_published() -> list[Seal]:
    """Every seal with its public key, for offline verifiers (no key material beyond the public key)."""
    return list(
        Seal.objects.select_related("department")
        .only(
            "public_id",
            "key_id",
            "name",
            "public_key_hex",
            "status",
            "valid_from",
            "valid_until",
            "department__name",
            "department__uscc",
            "department__code",
        )
        .order_by("department__code", "id")
    )
