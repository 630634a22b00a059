"""Open311 GeoReport v2 (JSON only) at /open311/v2/, so existing 311 clients can file and read reports.

- `GET services.json` — active leaf categories as services; `GET services/<code>.json` — a definition (no
  attributes: every service has metadata=false).
- `POST requests.json` — form-encoded or JSON; `api_key` is a bearer token from /api/auth/token of a registered
  system with the scope incident.intake (or send `Authorization: Bearer <token>`). Filed through the one intake
  pipeline with channel "open311".
- `GET requests.json` (service_request_id, service_code, start_date, end_date, status; at most 1000 requests
  and 90 days per query, newest first) and `GET requests/<id>.json` — public data only: confidential incidents
  are never listed and no reporter data is ever returned.

Errors follow the GeoReport spec, not the platform's problem+json: a JSON array `[{"code": 400, "description":
"…"}]` with the same HTTP status (400 bad request, 403 bad api_key, 404 unknown service or request).
The field mapping is documented in docs/open311.md.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.core.permissions import INCIDENT_INTAKE, PUBLIC, Permission

from .models import Incident, IncidentCategory
from .services.intake import IntakeReport, incident_intake
from .workflow import LOCAL

MAX_REQUESTS = 1000
MAX_DAYS = 90
OPEN_STATES = tuple(Incident.OPEN_STATES)
CLOSED_STATES = (Incident.State.CLOSED, Incident.State.MERGED)


# --- plumbing ----------------------------------------------------------------------------------------------
def open311_view(perm: Permission):
    """Declares the permission of an Open311 endpoint (like `page_requires`); reads are PUBLIC, the write
    checks its api_key itself and answers in Open311's error format."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            return view(request, *args, **kwargs)

        wrapper.yiwang_permission = perm
        return wrapper

    return decorate


def _json(data, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def open311_error(status: int, description: str) -> JsonResponse:
    return _json([{"code": status, "description": str(description)}], status=status)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(LOCAL).isoformat(timespec="seconds") if moment is not None else None


# --- services ------------------------------------------------------------------------------------------------
def _services():
    return (
        IncidentCategory.objects.filter(is_active=True, children__isnull=True)
        .select_related("parent")
        .order_by("sort", "code")
    )


def _service_row(category: IncidentCategory) -> dict:
    unit = _("小时") if category.deadline_unit == IncidentCategory.DeadlineUnit.HOURS else _("个工作日")
    examples = [line.strip() for line in (category.examples or "").splitlines() if line.strip()]
    description = _("%(name)s，处置时限 %(value)s %(unit)s。") % {
        "name": category.name,
        "value": category.deadline_value,
        "unit": unit,
    }
    if examples:
        description += _("例如：%(example)s") % {"example": examples[0]}
    keywords = [category.name] + ([category.parent.name] if category.parent_id else [])
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": description,
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(keywords),
        "group": category.parent.name if category.parent_id else "",
    }


@open311_view(PUBLIC)
@require_GET
def services(request: HttpRequest) -> JsonResponse:
    return _json([_service_row(c) for c in _services()])


@open311_view(PUBLIC)
@require_GET
def service_definition(request: HttpRequest, code: str) -> JsonResponse:
    category = _services().filter(code=code).first()
    if category is None:
        return open311_error(404, _("没有这个服务：%(code)s") % {"code": code})
    return _json({"service_code": category.code, "attributes": []})


# --- requests ------------------------------------------------------------------------------------------------
def _agency(incident: Incident) -> str:
    if incident.assigned_department_id:
        return incident.assigned_department.name
    if incident.assigned_grid_id:
        return _("%(grid)s网格员") % {"grid": incident.assigned_grid.name}
    return ""


def _status_notes(incident: Incident) -> str:
    if incident.state == Incident.State.MERGED:
        target = incident.duplicate_of.number if incident.duplicate_of_id else ""
        return _("与工单 %(number)s 重复，已合并办理。") % {"number": target}
    if incident.state != Incident.State.CLOSED:
        return incident.get_state_display()
    notes = incident.get_closure_display() if incident.closure else _("已结案")
    return f"{notes}：{public_text(incident.resolution)}" if incident.resolution else notes


def _notice(incident: Incident) -> str:
    if incident.state == Incident.State.MERGED:
        return _status_notes(incident)
    if incident.state == Incident.State.PENDING:
        return _("已受理，工单号 %(number)s，待指挥中心分拨。") % {"number": incident.number}
    due = incident.due_at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if incident.due_at else ""
    return _("已受理，工单号 %(number)s，已派 %(agency)s，处置期限 %(due)s。") % {
        "number": incident.number,
        "agency": _agency(incident),
        "due": due,
    }


# Long digit runs in free text are phone numbers, 身份证号 or bank cards a reporter typed in: never published.
_DIGIT_RUN = re.compile(r"\d[\d\- ]{5,}\d[Xx]?")


def public_text(text: str) -> str:
    """Free text for the public feed, with phone/ID-like digit runs masked (keeps the first 3 and last 2)."""
    return _DIGIT_RUN.sub(
        lambda m: m.group(0)[:3] + "*" * max(len(m.group(0)) - 5, 1) + m.group(0)[-2:], text or ""
    )


def request_row(incident: Incident) -> dict:
    """One incident as an Open311 service request: public fields only, never the reporter."""
    return {
        "service_request_id": incident.number,
        "status": "closed" if incident.state in CLOSED_STATES else "open",
        "status_notes": _status_notes(incident),
        "service_name": incident.category.name if incident.category_id else "",
        "service_code": incident.category.code if incident.category_id else "",
        "description": public_text(incident.description),
        "agency_responsible": _agency(incident),
        "service_notice": "",
        "requested_datetime": _iso(incident.created_at),
        "updated_datetime": _iso(incident.updated_at),
        "expected_datetime": _iso(incident.due_at),
        "address": incident.address,
        "address_id": None,
        "zipcode": None,
        "lat": incident.lat,
        "long": incident.lon,
        "media_url": None,
    }


def _requests():
    return Incident.objects.filter(confidential=False).select_related(
        "category", "assigned_department", "assigned_grid", "duplicate_of"
    )


def _moment(raw: str, *, end: bool = False) -> datetime | None:
    """An ISO 8601 date-time (a bare date: its start, or with end=True its end, in local time)."""
    raw = (raw or "").strip().replace(" ", "+")  # a '+' offset arrives as a space when not URL-encoded
    moment = parse_datetime(raw)
    if moment is None:
        day = parse_date(raw)
        if day is None:
            raise ValueError(raw)
        moment = datetime.combine(day, time.max if end else time.min)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=LOCAL)
    return moment


@open311_view(PUBLIC)
@require_GET
def request_detail(request: HttpRequest, number: str) -> JsonResponse:
    incident = _requests().filter(number=number).first()
    if incident is None:
        return open311_error(404, _("没有这个服务请求：%(id)s") % {"id": number})
    return _json([request_row(incident)])


def _request_list(request: HttpRequest) -> JsonResponse:
    params = request.GET
    ids = [i.strip() for i in (params.get("service_request_id") or "").split(",") if i.strip()]
    if ids:  # the spec: with ids, the other filters are ignored
        rows = _requests().filter(number__in=ids[:MAX_REQUESTS]).order_by("-id")
        return _json([request_row(i) for i in rows])
    try:
        start = _moment(params["start_date"]) if params.get("start_date") else None
        end = _moment(params["end_date"], end=True) if params.get("end_date") else None
    except ValueError:
        return open311_error(
            400, _("start_date / end_date 须为 ISO 8601 日期时间，如 2026-03-02T10:00:00+08:00。")
        )
    if end is None:
        end = min(start + timedelta(days=MAX_DAYS), timezone.now()) if start else timezone.now()
    if start is None:
        start = end - timedelta(days=MAX_DAYS)
    if end < start:
        return open311_error(400, _("end_date 不能早于 start_date。"))
    if end - start > timedelta(days=MAX_DAYS, seconds=1):
        return open311_error(400, _("一次最多查询 %(n)s 天。") % {"n": MAX_DAYS})
    qs = _requests().filter(created_at__gte=start, created_at__lte=end)
    codes = [c.strip() for c in (params.get("service_code") or "").split(",") if c.strip()]
    if codes:
        qs = qs.filter(category__code__in=codes)
    statuses = {s.strip().lower() for s in (params.get("status") or "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        return open311_error(400, _("status 只能是 open 或 closed。"))
    if statuses == {"open"}:
        qs = qs.filter(state__in=OPEN_STATES)
    elif statuses == {"closed"}:
        qs = qs.filter(state__in=CLOSED_STATES)
    rows = qs.order_by("-created_at", "-id")[:MAX_REQUESTS]
    return _json([request_row(i) for i in rows])


def _principal_for_key(request: HttpRequest, data) -> object | None:
    from yiwang.core.services.identity import api_token_resolve

    key = (data.get("api_key") or "").strip()
    if not key:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            key = header[7:].strip()
    return api_token_resolve(token=key) if key else None


def _request_data(request: HttpRequest):
    if (request.content_type or "").startswith("application/json"):
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return request.POST


def _text(data, name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value).strip()


def _request_create(request: HttpRequest) -> JsonResponse:
    data = _request_data(request)
    if data is None:
        return open311_error(400, _("请求体不是有效的 JSON 对象。"))
    principal = _principal_for_key(request, data)
    if principal is None or not principal.has(INCIDENT_INTAKE):
        return open311_error(403, _("api_key 无效：请使用具有 incident.intake 授权的接入系统令牌。"))
    code = _text(data, "service_code")
    if not code:
        return open311_error(400, _("缺少 service_code。"))
    if not _services().filter(code=code).exists():
        return open311_error(400, _("service_code %(code)s 不存在。") % {"code": code})
    lat, lon, address = _text(data, "lat"), _text(data, "long"), _text(data, "address_string")
    if not ((lat and lon) or address):
        return open311_error(400, _("须提供位置：lat 和 long，或 address_string。"))
    try:
        lat_f, lon_f = (float(lat), float(lon)) if lat and lon else (None, None)
    except ValueError:
        return open311_error(400, _("lat / long 须为数字。"))
    if not _text(data, "description"):
        return open311_error(400, _("缺少 description（诉求内容）。"))
    extras = [
        f"{name}: {_text(data, name)}" for name in ("email", "media_url", "device_id") if _text(data, name)
    ]
    try:
        result = incident_intake(
            actor=principal,
            report=IntakeReport(
                channel=Incident.Channel.OPEN311,
                kind=Incident.Kind.COMPLAINT,
                description=_text(data, "description"),
                category_code=code,
                lon=lon_f,
                lat=lat_f,
                address=address,
                reporter_name=f"{_text(data, 'last_name')}{_text(data, 'first_name')}"[:50],
                reporter_phone=_text(data, "phone"),
                note=_("Open311 附加信息：%(extras)s") % {"extras": "；".join(extras)} if extras else "",
            ),
        )
    except ValidationError as exc:
        return open311_error(400, "；".join(exc.messages))
    incident = result.incident
    incident.refresh_from_db()
    return _json(
        [{"service_request_id": incident.number, "service_notice": _notice(incident), "account_id": None}]
    )


@csrf_exempt
@open311_view(INCIDENT_INTAKE)
@require_http_methods(["GET", "POST"])
def requests_collection(request: HttpRequest) -> JsonResponse:
    """GET: query requests (PUBLIC data); POST: create one (api_key with incident.intake)."""
    if request.method == "POST":
        return _request_create(request)
    return _request_list(request)


@open311_view(PUBLIC)
def xml_refused(request: HttpRequest, resource: str) -> JsonResponse:
    return open311_error(400, _("本接口只提供 JSON 格式：请把 .xml 换成 .json。"))
