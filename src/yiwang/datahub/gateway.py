"""数据共享网关: the call pipeline behind /api/gateway/v1, one service function per operation.

Every call, in this order (each refusal is logged too, with its outcome, and answers problem+json):
1. the system: a RegisteredSystem authenticated by its bearer token (the API checks the `data.gateway` scope);
2. the live grant of (system, resource code): one indexed query — status active, valid_from <= now < valid_until,
   resource published, system active. Without one, 回流 (`services.returnflow.return_flow_grant`) may give an
   implicit grant; else 403 `denied` (404 when no published resource has the code);
3. the rate limit of the grant (`rate_per_minute`, moving window through core.ratelimit, Redis when configured):
   over it → 429 with Retry-After, nothing read, logged `rate_limited`;
4. the purpose (X-Road's `X-Road-Issue`): the grant's scenario, or the number of a case of the calling system's
   department, or of an incident assigned to that department or reported by the system; missing → 400,
   anything else → 422, both logged `invalid`. A 回流 grant accepts case and incident numbers and the scenario
   `IMPLICIT_SCENARIO`;
5. the fields: those asked for must all be granted (403 naming the others, nothing returned);
6. the record through the resource's reader; a subject outside the grant's row filter answers 404 exactly as a
   missing one does (its existence is not revealed);
7. consent, for a grant that `requires_consent` (services.consent.consent_for_release with the X-Consent-Id);
8. masks (datahub.masking), then the log: one GatewayCall row (no values) and one evidence-log entry
   (`gateway.<operation>`, object the grant, the purpose), in one transaction.

The answer carries `request_id` and `response_hash` = SM3(canonical request ‖ canonical response), the canonical
forms being compact JSON with sorted keys (`canonical_json`); see `gateway_hash`. Nothing about grants, consents
or systems is remembered across calls: a suspension, revocation or consent withdrawal holds from the next call.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.crypto import sm3_hex
from yiwang.core.keystore import KeystoreError, keystore
from yiwang.core.ratelimit import RateLimited, rate_limit_per

from .gateway_sql import call_log_write, live_grant_of
from .grading import grade_policy
from .masking import mask_value
from .models import DataResource, GatewayCall, GatewayCallSubject, Mask, ShareGrant
from .readers import Row, reader_for
from .services import consent as consent_service
from .services import returnflow as returnflow_service

IMPLICIT_SCENARIO = "回流数据使用"
MAX_PURPOSE = 200
MAX_KEY = 80
Outcome = GatewayCall.Outcome
Operation = GatewayCall.Operation


def new_request_id() -> uuid.UUID:
    return uuid.uuid4()


# --- results and refusals -----------------------------------------------------------------------------------------
@dataclass
class GatewayResult:
    request_id: uuid.UUID
    body: dict  # the JSON answer, `request_id` and `response_hash` included
    call: GatewayCall


class GatewayRefused(Exception):
    """A refused call (already logged): the API answers `status` as problem+json."""

    def __init__(
        self,
        *,
        status: int,
        outcome: str,
        title: str,
        detail: str = "",
        request_id: uuid.UUID,
        retry_after: int | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.outcome = outcome
        self.title = title
        self.detail = detail
        self.request_id = request_id
        self.retry_after = retry_after
        self.extra = extra or {}


@dataclass
class _Grant:
    """What the call is allowed: a ShareGrant, or 回流's implicit grant."""

    resource: DataResource
    masks: dict[str, str]
    division_prefix: str
    rate_per_minute: int
    scenario: str
    share_grant: ShareGrant | None = None
    requires_consent: bool = False
    covert_until: date | None = None
    rate_key: str = ""

    @property
    def object_id(self) -> str:
        if self.share_grant is not None:
            return str(self.share_grant.public_id)
        return f"return_flow:{self.resource.code}"


@dataclass
class _Call:
    system: Any
    operation: str
    resource_code: str
    purpose: str
    request: dict  # the canonical request
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    at: datetime = field(default_factory=timezone.now)
    grant: _Grant | None = None
    resource: DataResource | None = None
    fields: list[str] = field(default_factory=list)
    person_id: int | None = None
    organisation_id: int | None = None
    consent: Any = None


# --- canonical bytes and the response hash ------------------------------------------------------------------------
def json_value(value: Any) -> Any:
    """A reader value as it appears in the JSON answer: dates ISO, decimals as text (exact), others as they are."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def canonical_json(value: Any) -> bytes:
    """Compact JSON, keys sorted, UTF-8 (not ASCII-escaped): the bytes the response hash covers."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=json_value
    ).encode()


def gateway_hash(request: dict, response: dict) -> str:
    """SM3(canonical request ‖ canonical response) in hex; `response` without its own `response_hash`."""
    body = {k: v for k, v in response.items() if k != "response_hash"}
    return sm3_hex(canonical_json(request) + canonical_json(body))


# --- the steps --------------------------------------------------------------------------------------------------
def _refuse(
    call: _Call, *, status: int, outcome: str, title: str, detail: str = "", **kwargs
) -> GatewayRefused:
    _log(call, outcome=outcome, response_hash="")
    return GatewayRefused(
        status=status, outcome=outcome, title=title, detail=detail, request_id=call.request_id, **kwargs
    )


def _live_grant(call: _Call) -> _Grant:
    system = call.system
    code = call.resource_code
    if not code or len(code) > 40:
        raise _refuse(
            call, status=404, outcome=Outcome.DENIED, title=_("未找到"), detail=_("没有这个数据资源。")
        )
    if getattr(system, "is_active", False):
        grant = live_grant_of(system_id=system.pk, resource_code=code, at=call.at)
        if grant is not None:
            call.resource = grant.resource
            return _Grant(
                resource=grant.resource,
                masks={str(k): str(v or Mask.NONE) for k, v in (grant.fields or {}).items()},
                division_prefix=str((grant.row_filter or {}).get("division") or ""),
                rate_per_minute=grant.rate_per_minute,
                scenario=grant.scenario,
                share_grant=grant,
                requires_consent=grant.requires_consent,
                covert_until=grant.covert_until,
                rate_key=f"grant:{grant.public_id}",
            )
    resource = (
        DataResource.objects.filter(code=code, status=DataResource.Status.PUBLISHED)
        .order_by("-version")
        .first()
    )
    call.resource = resource
    if resource is None:
        raise _refuse(
            call, status=404, outcome=Outcome.DENIED, title=_("未找到"), detail=_("没有这个数据资源。")
        )
    implicit = (
        returnflow_service.return_flow_grant(system=system, resource=resource) if system.is_active else None
    )
    if implicit is None:
        raise _refuse(
            call,
            status=403,
            outcome=Outcome.DENIED,
            title=_("无有效共享授权"),
            detail=_("本系统对该数据资源没有有效的共享授权（未申请、已暂停、已撤销或已到期）。"),
        )
    return _Grant(
        resource=resource,
        masks=dict(implicit.fields),
        division_prefix=implicit.division_prefix,
        rate_per_minute=implicit.rate_per_minute,
        scenario=IMPLICIT_SCENARIO,
        rate_key=f"return:{system.pk}:{resource.pk}",
    )


def _rate(call: _Call, grant: _Grant) -> None:
    try:
        rate_limit_per(scope="gateway", key=grant.rate_key, rate=f"{max(1, grant.rate_per_minute)}/minute")
    except RateLimited as exc:
        raise _refuse(
            call,
            status=429,
            outcome=Outcome.RATE_LIMITED,
            title=_("请求过于频繁"),
            detail=exc.message,
            retry_after=exc.retry_after,
        ) from None


_INCIDENT_NUMBER = re.compile(r"^GD[0-9A-Z-]{6,22}$")
_LONG_DIGITS = re.compile(r"[0-9]{6,}[0-9Xx]*")


def _purpose_known(purpose: str, grant: _Grant, system) -> bool:
    if purpose == grant.scenario:
        return True
    department_id = getattr(system, "department_id", None)
    if _INCIDENT_NUMBER.match(purpose):
        from yiwang.incidents.models import Incident

        return Incident.objects.filter(
            Q(assigned_department_id=department_id) | Q(reporter_system_id=system.pk), number=purpose
        ).exists()
    from yiwang.cases.models import Case

    return Case.objects.filter(number=purpose, department_id=department_id).exists()


def _purpose(call: _Call, grant: _Grant) -> None:
    purpose = call.purpose
    if not purpose:
        raise _refuse(
            call,
            status=400,
            outcome=Outcome.INVALID,
            title=_("缺少用途"),
            detail=_(
                "每次调用须说明用途：办件编号、工单号或共享授权的应用场景（X-Purpose 请求头或 purpose 字段）。"
            ),
        )
    if len(purpose) > MAX_PURPOSE or not _purpose_known(purpose, grant, call.system):
        # a refused purpose is logged as given, but with long digit runs starred: it may carry an identifier
        call.purpose = _LONG_DIGITS.sub(lambda m: "*" * len(m.group()), purpose[:MAX_PURPOSE])
        raise _refuse(
            call,
            status=422,
            outcome=Outcome.INVALID,
            title=_("用途无效"),
            detail=_("用途须为本部门的办件编号、工单号，或共享授权的应用场景“%(scenario)s”。")
            % {"scenario": grant.scenario},
            extra={"errors": [{"field": "purpose", "message": _("用途无效。"), "code": "purpose"}]},
        )


def _fields(call: _Call, grant: _Grant, asked: list[str] | None) -> dict[str, str]:
    """{field: mask} of the fields this call reads: those asked (all granted when None)."""
    if asked is None:
        call.fields = list(grant.masks)
        return grant.masks
    asked = list(dict.fromkeys(str(f) for f in asked))
    call.fields = [f[:64] for f in asked[:100]]
    beyond = [f for f in asked if f not in grant.masks]
    if beyond or not asked:
        raise _refuse(
            call,
            status=403,
            outcome=Outcome.DENIED,
            title=_("信息项超出共享授权"),
            detail=(
                _("以下信息项不在共享授权范围内：%(fields)s") % {"fields": "、".join(beyond[:20])}
                if beyond
                else _("未指定信息项。")
            ),
            extra={"fields": beyond[:100]},
        )
    return {f: grant.masks[f] for f in asked}


def _reader(call: _Call, grant: _Grant):
    resource = grant.resource
    reader = reader_for(resource.mount_target) if resource.mount_kind in ("registry", "offshore") else None
    if resource.mount_kind == "offshore":
        reader = reader_for("datahub.offshore")
    if reader is None:
        raise _refuse(
            call,
            status=404,
            outcome=Outcome.NOT_FOUND,
            title=_("未找到"),
            detail=_("该数据资源未挂接可供网关读取的数据。"),
        )
    return reader


def _in_filter(row: Row, grant: _Grant) -> bool:
    return not grant.division_prefix or row.division_code.startswith(grant.division_prefix)


def _record(call: _Call, grant: _Grant, key: str, *, key_in_url: bool = False) -> Row:
    reader = _reader(call, grant)
    if key_in_url and reader.subject_kind in ("person", "organisation", "holder"):
        raise _refuse(
            call,
            status=400,
            outcome=Outcome.INVALID,
            title=_("查询键不得出现在网址中"),
            detail=_("身份证号、统一社会信用代码等查询键请用 POST /resources/{code}/query 放在请求体中。"),
        )
    if not key or len(key) > MAX_KEY:
        raise _refuse(
            call,
            status=422,
            outcome=Outcome.INVALID,
            title=_("请求数据有误"),
            detail=_("请提供查询键。"),
            extra={"errors": [{"field": "key", "message": _("请提供查询键。"), "code": "key"}]},
        )
    row = reader.fetch(grant.resource, key)
    if row is None or not _in_filter(row, grant):
        raise _refuse(
            call,
            status=404,
            outcome=Outcome.NOT_FOUND,
            title=_("未找到"),
            detail=_("没有符合条件的数据。"),
        )
    call.person_id, call.organisation_id = row.person_id, row.organisation_id
    return row


def _consent(call: _Call, grant: _Grant, consent_id: str | None) -> None:
    if not grant.requires_consent:
        return
    try:
        call.consent = consent_service.consent_for_release(
            consent_id=consent_id,
            system=call.system,
            resource=grant.resource,
            fields=list(call.fields),
            person_id=call.person_id,
            organisation_id=call.organisation_id,
        )
    except consent_service.ConsentRefused as exc:
        raise _refuse(
            call,
            status=403,
            outcome=Outcome.NO_CONSENT,
            title=_("未获数据主体授权"),
            detail=_("该共享授权要求数据主体的有效授权（X-Consent-Id），未找到或已撤回、到期。"),
            extra={"reason": str(exc)[:200]},
        ) from None


def _log(call: _Call, *, outcome: str, response_hash: str, subjects: list[Row] | None = None) -> GatewayCall:
    grant = call.grant
    share_grant = grant.share_grant if grant is not None else None
    resource = call.resource
    row = GatewayCall(
        request_id=call.request_id,
        at=call.at,
        system_id=call.system.pk,
        grant=share_grant,
        consent_id=getattr(call.consent, "pk", None),
        resource=resource,
        operation=call.operation,
        purpose=call.purpose[:MAX_PURPOSE],
        subject_person_id=call.person_id,
        subject_organisation_id=call.organisation_id,
        subject_count=len(subjects)
        if subjects is not None
        else int(bool(call.person_id or call.organisation_id)),
        fields=call.fields,
        outcome=outcome,
        response_hash=response_hash,
        covert_until=grant.covert_until if grant is not None else None,
    )
    entry = dict(
        actor=call.system,
        action=f"gateway.{call.operation}",
        object_type="share_grant" if share_grant is not None else "data_resource",
        object_id=grant.object_id if grant is not None else (call.resource_code[:40]),
        after={
            "request_id": str(call.request_id),
            "resource": call.resource_code[:40],
            "fields": call.fields,
            "outcome": outcome,
            "response_hash": response_hash,
        },
        purpose=call.purpose,
    )
    further = [s for s in (subjects or [])[1:] if s.person_id or s.organisation_id]
    if not further:
        return call_log_write(row, **entry)
    with transaction.atomic(savepoint=False):  # a batch's further subjects: with the call row, or not at all
        call_log_write(row, **entry)
        GatewayCallSubject.objects.bulk_create(
            GatewayCallSubject(call=row, person_id=s.person_id, organisation_id=s.organisation_id)
            for s in further
        )
    return row


def _answer(call: _Call, body: dict, *, subjects: list[Row] | None = None) -> GatewayResult:
    body = {"request_id": str(call.request_id), "resource": call.resource_code, **body}
    body["response_hash"] = gateway_hash(call.request, body)
    logged = _log(call, outcome=Outcome.OK, response_hash=body["response_hash"], subjects=subjects)
    return GatewayResult(request_id=call.request_id, body=body, call=logged)


def _begin(
    *, system, operation: str, resource_code: str, purpose: str | None, request: dict, request_id=None
) -> tuple[_Call, _Grant]:
    purpose = (purpose or "").strip()
    call = _Call(
        system=system,
        operation=operation,
        resource_code=(resource_code or "").strip(),
        purpose=purpose,
        request={"operation": operation, "resource": resource_code, "purpose": purpose, **request},
        request_id=request_id or uuid.uuid4(),
    )
    grant = _live_grant(call)
    call.grant = grant
    _rate(call, grant)
    _purpose(call, grant)
    return call, grant


# --- the operations ---------------------------------------------------------------------------------------------
def gateway_query(
    *,
    system,
    resource_code: str,
    key: str,
    fields: list[str] | None = None,
    purpose: str | None,
    consent_id: str | None = None,
    key_in_url: bool = False,
    request_id: uuid.UUID | None = None,
) -> GatewayResult:
    """查询: the granted (or asked) fields of one record, masked. Raises GatewayRefused."""
    key = (key or "").strip()
    call, grant = _begin(
        system=system,
        operation=Operation.QUERY,
        resource_code=resource_code,
        purpose=purpose,
        request={"key": key, "fields": fields, "consent_id": consent_id},
        request_id=request_id,
    )
    masks = _fields(call, grant, fields)
    row = _record(call, grant, key, key_in_url=key_in_url)
    _consent(call, grant, consent_id)
    values = row.values
    record = {name: json_value(mask_value(mask, values.get(name))) for name, mask in masks.items()}
    return _answer(call, {"record": record, "masks": masks})


def _claim_fields(call: _Call, grant: _Grant, claims: dict) -> None:
    if not isinstance(claims, dict) or not claims:
        raise _refuse(
            call,
            status=422,
            outcome=Outcome.INVALID,
            title=_("请求数据有误"),
            detail=_("请提供要核验或比对的信息项。"),
            extra={
                "errors": [{"field": "claims", "message": _("请提供要核验或比对的信息项。"), "code": "empty"}]
            },
        )
    masks = _fields(call, grant, list(claims))
    hidden = [f for f, mask in masks.items() if mask == Mask.MASK_NULL]
    if hidden:
        raise _refuse(
            call,
            status=403,
            outcome=Outcome.DENIED,
            title=_("信息项超出共享授权"),
            detail=_("以下信息项按共享授权置空，不能核验或比对：%(fields)s") % {"fields": "、".join(hidden)},
            extra={"fields": hidden},
        )


def _comparable(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    value = json_value(value)
    return " ".join(str(value).split()).upper()


def _holds(field: str, actual: Any, claimed: Any) -> bool:
    if field.endswith("division_code") or field == "code":
        text = _comparable(claimed)
        return bool(text) and _comparable(actual).startswith(text)
    if isinstance(actual, bool) and isinstance(claimed, str):
        claimed = claimed.strip().lower() in ("true", "1", "是", "yes")
    return _comparable(actual) == _comparable(claimed) and actual is not None


def gateway_verify(
    *,
    system,
    resource_code: str,
    key: str,
    claims: dict,
    purpose: str | None,
    consent_id: str | None = None,
    request_id: uuid.UUID | None = None,
) -> GatewayResult:
    """核验 (可用不可见): {field: true/false} for each claim; no value is returned. A division code claim holds when
    the subject's division lies under it ("does this person live in village X")."""
    key = (key or "").strip()
    call, grant = _begin(
        system=system,
        operation=Operation.VERIFY,
        resource_code=resource_code,
        purpose=purpose,
        request={"key": key, "claims": claims, "consent_id": consent_id},
        request_id=request_id,
    )
    _claim_fields(call, grant, claims)
    row = _record(call, grant, key)
    _consent(call, grant, consent_id)
    results = {name: _holds(name, row.values.get(name), claimed) for name, claimed in claims.items()}
    return _answer(call, {"results": results})


def gateway_compare(
    *,
    system,
    resource_code: str,
    key: str,
    values: dict,
    purpose: str | None,
    consent_id: str | None = None,
    request_id: uuid.UUID | None = None,
) -> GatewayResult:
    """比对: "match" or "mismatch" per submitted field (spaces and letter case ignored; dates as YYYY-MM-DD)."""
    key = (key or "").strip()
    call, grant = _begin(
        system=system,
        operation=Operation.COMPARE,
        resource_code=resource_code,
        purpose=purpose,
        request={"key": key, "values": values, "consent_id": consent_id},
        request_id=request_id,
    )
    _claim_fields(call, grant, values)
    row = _record(call, grant, key)
    _consent(call, grant, consent_id)
    results = {
        name: "match"
        if row.values.get(name) is not None and _comparable(row.values.get(name)) == _comparable(submitted)
        else "mismatch"
        for name, submitted in values.items()
    }
    return _answer(call, {"results": results})


def _cursor_encode(key: str) -> str:
    token = keystore().field_encrypt(key)
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> str | None:
    try:
        token = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        return keystore().field_decrypt(token)
    except (ValueError, KeystoreError, UnicodeDecodeError, Exception):
        return None


def gateway_batch(
    *,
    system,
    resource_code: str,
    after: str | None = None,
    limit: int = 100,
    fields: list[str] | None = None,
    purpose: str | None,
    request_id: uuid.UUID | None = None,
) -> GatewayResult:
    """批量: a keyset page of granted rows (those inside the row filter), masked; `next_cursor` is opaque
    (the last key, SM4-encrypted: no identifier appears in a URL). `limit` is capped by the grade's export_limit."""
    call, grant = _begin(
        system=system,
        operation=Operation.BATCH,
        resource_code=resource_code,
        purpose=purpose,
        request={"after": after or None, "limit": limit, "fields": fields},
        request_id=request_id,
    )
    masks = _fields(call, grant, fields)
    export_limit = grade_policy(grant.resource.grade).export_limit
    after_key = _cursor_decode(after) if after else None
    if (after and after_key is None) or not (1 <= int(limit) <= export_limit):
        raise _refuse(
            call,
            status=422,
            outcome=Outcome.INVALID,
            title=_("请求数据有误"),
            detail=_("分页游标无效，或每页行数超出本资源分级的导出上限（%(n)s 行）。") % {"n": export_limit},
            extra={"export_limit": export_limit},
        )
    if grant.requires_consent:
        raise _refuse(
            call,
            status=403,
            outcome=Outcome.NO_CONSENT,
            title=_("未获数据主体授权"),
            detail=_("该共享授权须逐个数据主体授权，不能批量调用。"),
        )
    reader = _reader(call, grant)
    rows = reader.page(
        grant.resource, after=after_key, limit=int(limit) + 1, division_prefix=grant.division_prefix
    )
    more = len(rows) > limit
    rows = [r for r in rows[:limit] if _in_filter(r, grant)]
    if rows:
        call.person_id, call.organisation_id = rows[0].person_id, rows[0].organisation_id
    items = [
        {name: json_value(mask_value(mask, r.values.get(name))) for name, mask in masks.items()} for r in rows
    ]
    next_cursor = _cursor_encode(rows[-1].key) if more and rows else None
    return _answer(call, {"items": items, "masks": masks, "next_cursor": next_cursor}, subjects=rows)
