"""Open311 GeoReport v2 at /open311/v2/ (XML, the spec's required format, and JSON), so existing 311 clients can
discover the endpoint, list services, file requests and follow them.

- `GET discovery.{xml,json}` (also at /open311/discovery.*) — the Service Discovery document.
- `GET services.{fmt}` — active leaf categories as services; `GET services/<code>.{fmt}` — a definition (no
  attributes: every service has metadata=false); an unknown code is 404.
- `POST requests.{fmt}` — form-encoded (the spec), multipart or JSON; `api_key` is a bearer token from
  /api/auth/token of a registered system with the scope incident.intake (or `Authorization: Bearer <token>`).
  Filed through the one intake pipeline with channel "open311".
- `GET requests.{fmt}` (service_request_id, service_code, start_date, end_date, status; at most 1000 requests and
  90 days per query, newest first), `GET requests/<id>.{fmt}` and `GET tokens/<token>.{fmt}` — public data only
  (`selectors_public.public_incidents`, masked by `public_text`/`public_address`/`public_point`).

Every answer under /open311/ — errors included (400, 403, 404, 405, 413, 429, 500…) — is in the GeoReport format
of the URL's suffix (`open311_format.error_response`): the spec's array `[{"code": …, "description": …}]` or
`<errors><error>…`, never HTML or problem+json. Reads and writes are rate-limited (`open311_read`,
`open311_write`). The field mapping is documented in docs/open311.md.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.core.validators import URLValidator, validate_email
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from yiwang.core.models import Division
from yiwang.core.permissions import INCIDENT_INTAKE, PUBLIC, Permission
from yiwang.core.ratelimit import RateLimited, rate_limit

from .models import Incident, IncidentCategory
from .open311_format import error_response, format_of, respond
from .selectors_public import public_address, public_incidents, public_media_url, public_point, public_text
from .services.intake import DESCRIPTION_MAX, IntakeReport, incident_intake
from .workflow import LOCAL

__all__ = ["public_text", "request_row", "error_response"]

log = logging.getLogger("yiwang.open311")

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_REQUESTS = 1000
MAX_DAYS = 90
EARLIEST_YEAR, LATEST_YEAR = 1970, 2999  # dates outside are refused (9999-12-31 + 90 days does not exist)
OPEN_STATES = tuple(Incident.OPEN_STATES)
CLOSED_STATES = (Incident.State.CLOSED, Incident.State.MERGED)
READ_METHODS = ("GET", "HEAD")
# The longest value each parameter may have (characters); any other parameter: OTHER_MAX.
FIELD_MAX = {
    "api_key": 512,
    "jurisdiction_id": 200,
    "service_code": 2000,  # GET: a comma-separated list
    "service_request_id": 25 * MAX_REQUESTS,  # GET: a comma-separated list
    "start_date": 40,
    "end_date": 40,
    "status": 20,
    "lat": 40,
    "long": 40,
    "address_string": 200,
    "address_id": 40,
    "email": 254,
    "device_id": 100,
    "account_id": 100,
    "first_name": 50,
    "last_name": 50,
    "phone": 30,
    "description": DESCRIPTION_MAX,  # 4,000 characters, as the spec has it
    "media_url": 1000,
}
OTHER_MAX = 4000
NAME_MAX = 100
PATH_MAX = 64  # a service code, request id or token in the path; longer ones do not exist
# What no parameter may contain: NUL and the other C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Pipeline field → Open311 parameter, to name the parameter in an error.
PIPELINE_FIELDS = {
    "description": "description",
    "category": "service_code",
    "category_code": "service_code",
    "lon": "long",
    "lat": "lat",
    "address": "address_string",
    "reporter_phone": "phone",
    "reporter_name": "first_name",
    "photos": "media",
}


class Open311Error(Exception):
    """An error answered in the GeoReport format: `status` and one description per problem."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(*descriptions)
        self.status = status
        self.descriptions = [str(d) for d in descriptions]


# --- plumbing ----------------------------------------------------------------------------------------------
def _check(name, value) -> None:
    """Refuses a parameter whose name or value holds a forbidden character or is too long (400, field named)."""
    if not isinstance(name, str) or len(name) > NAME_MAX or FORBIDDEN.search(name):
        raise Open311Error(400, _("请求中有不允许的参数名。"))
    if isinstance(value, dict):
        for key, item in value.items():
            _check(name, key)
            _check(name, item)
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check(name, item)
        return
    if not isinstance(value, str):
        return
    if FORBIDDEN.search(value):
        raise Open311Error(
            400, _("参数 %(field)s 含有不允许的字符（NUL、控制字符或不成对的代理项）。") % {"field": name}
        )
    limit = FIELD_MAX.get(name, OTHER_MAX)
    if len(value) > limit:
        raise Open311Error(400, _("参数 %(field)s 过长：最多 %(n)s 个字符。") % {"field": name, "n": limit})


PATH_FIELDS = {"code": "service_code", "number": "service_request_id", "token": "token"}


def _check_path(name: str, value: str) -> None:
    name = PATH_FIELDS.get(name, name)
    if FORBIDDEN.search(value):
        raise Open311Error(
            400, _("参数 %(field)s 含有不允许的字符（NUL、控制字符或不成对的代理项）。") % {"field": name}
        )
    if len(value) > PATH_MAX:
        raise Open311Error(404, _("没有这个 Open311 资源。"))


def open311_view(perm: Permission, *, methods: tuple[str, ...] = READ_METHODS):
    """An Open311 endpoint: declares its permission (like `page_requires`; reads are PUBLIC, the write checks its
    api_key itself), refuses other methods (405), counts the call against the rate limit (`open311_read`, or
    `open311_write` for POST), checks every query and path parameter, and answers every error — its own, a
    rate limit, an unreadable or too large body, an unexpected exception — in the GeoReport format. CSRF does not
    apply: no Open311 call is authenticated by a session."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, fmt: str | None = None, **kwargs) -> HttpResponse:
            request.open311_format = fmt or format_of(request)
            try:
                if request.method not in methods:
                    return error_response(
                        request,
                        405,
                        _("不支持 %(method)s 方法。") % {"method": request.method[:10]},
                        headers={"Allow": ", ".join(methods)},
                    )
                rate_limit(request, scope="open311_write" if request.method == "POST" else "open311_read")
                for name, value in kwargs.items():
                    _check_path(name, value)
                for name, values in request.GET.lists():
                    _check(name, values)
                return view(request, *args, **kwargs)
            except Open311Error as exc:
                return error_response(request, exc.status, *exc.descriptions)
            except RateLimited as exc:
                return error_response(
                    request, 429, exc.message, headers={"Retry-After": str(exc.retry_after)}
                )
            except RequestDataTooBig:
                return error_response(
                    request,
                    413,
                    _("请求体过大：最多 %(n)s 字节。") % {"n": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
                )
            except (SuspiciousOperation, MultiPartParserError, UnreadablePostError):
                return error_response(request, 400, _("请求体无法解析。"))
            except Http404:
                return error_response(request, 404, _("没有这个 Open311 资源。"))
            except PermissionDenied:
                return error_response(
                    request, 403, _("api_key 无效：请使用具有 incident.intake 授权的接入系统令牌。")
                )
            except Exception:
                log.exception("open311: unexpected error", extra={"path": request.path[:200]})
                return error_response(
                    request, 500, _("服务器内部错误，请稍后再试；如果一再出现，请联系平台运维。")
                )

        wrapper.yiwang_permission = perm
        wrapper.csrf_exempt = True
        return wrapper

    return decorate


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(LOCAL).isoformat(timespec="seconds") if moment is not None else None


# --- discovery -----------------------------------------------------------------------------------------------
@open311_view(PUBLIC)
def discovery(request: HttpRequest) -> HttpResponse:
    """The Service Discovery document: where the GeoReport v2 endpoint is, its formats and how to get a key."""
    changed = IncidentCategory.objects.aggregate(at=Max("updated_at"))["at"]
    changeset = _iso(changed or datetime(EARLIEST_YEAR, 1, 1, tzinfo=UTC))
    return respond(
        request,
        "discovery",
        {
            "changeset": changeset,
            "contact": _("12345 政务服务便民热线；接入与技术问题请联系区政务服务数据管理部门。"),
            "key_service": _(
                "api_key 是接入系统的令牌：由区管理员登记接入系统并授予 incident.intake 权限，"
                "再以 client_credentials 方式向 /api/auth/token 申请。"
            ),
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": request.build_absolute_uri("/open311/v2"),
                    "changeset": changeset,
                    "type": "test" if settings.DEBUG else "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


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


def _unknown_service(code: str) -> Open311Error:
    return Open311Error(404, _("没有这个服务：%(code)s") % {"code": code})


@open311_view(PUBLIC)
def services(request: HttpRequest) -> HttpResponse:
    return respond(request, "services", [_service_row(c) for c in _services()])


@open311_view(PUBLIC)
def service_definition(request: HttpRequest, code: str) -> HttpResponse:
    category = _services().filter(code=code).first()
    if category is None:
        raise _unknown_service(code)
    return respond(request, "service_definition", {"service_code": category.code, "attributes": []})


# --- reading requests ----------------------------------------------------------------------------------------
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


def request_row(incident: Incident) -> dict:
    """One incident as an Open311 service request: public fields only, never the reporter; free text, the
    address and the point through the public feed's one masking rule (selectors_public)."""
    closed = incident.state in CLOSED_STATES
    lat, lon = public_point(incident.lat, incident.lon)
    area = incident.village or incident.town
    return {
        "service_request_id": incident.number,
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(incident),
        "service_name": incident.category.name if incident.category_id else "",
        "service_code": incident.category.code if incident.category_id else "",
        "description": public_text(incident.description),
        "agency_responsible": _agency(incident),
        "service_notice": "",
        "requested_datetime": _iso(incident.created_at),
        "updated_datetime": _iso((incident.closed_at if closed else None) or incident.updated_at),
        "expected_datetime": _iso(incident.due_at),
        "address": public_address(incident.address, village=incident.village, town=incident.town),
        "address_id": area.code if area is not None else None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": public_media_url(incident),
    }


def _public_request(number: str) -> Incident:
    incident = public_incidents().filter(number=number).first()
    if incident is None:
        raise Open311Error(404, _("没有这个服务请求：%(id)s") % {"id": number})
    return incident


@open311_view(PUBLIC)
def request_detail(request: HttpRequest, number: str) -> HttpResponse:
    return respond(request, "service_requests", [request_row(_public_request(number))])


@open311_view(PUBLIC)
def token_detail(request: HttpRequest, token: str) -> HttpResponse:
    """GET service_request_id from a token. Every service is `realtime`, so POST returns the id at once; the
    token of a request is its id, and this answers it for clients that always ask (404 for anything else)."""
    incident = _public_request(token)
    return respond(request, "service_requests", [{"service_request_id": incident.number, "token": token}])


def _list_param(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _moment(name: str, raw: str | None, *, end: bool = False) -> datetime | None:
    """An ISO 8601 date-time (a bare date: its start, or with end=True its end, in local time)."""
    raw = (raw or "").strip().replace(" ", "+")  # a '+' offset arrives as a space when not URL-encoded
    if not raw:
        return None
    try:
        moment = parse_datetime(raw)
        if moment is None:
            day = parse_date(raw)
            if day is None:
                raise ValueError(raw)
            moment = datetime.combine(day, time.max if end else time.min)
    except (ValueError, OverflowError):
        raise Open311Error(
            400, _("%(field)s 须为 ISO 8601 日期时间，如 2026-03-02T10:00:00+08:00。") % {"field": name}
        ) from None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise Open311Error(
            400,
            _("%(field)s 超出可查询的范围（%(first)s 至 %(last)s 年）。")
            % {"field": name, "first": EARLIEST_YEAR, "last": LATEST_YEAR},
        )
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=LOCAL)
    return moment


def _request_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    ids = _list_param(params.get("service_request_id"))
    if ids:  # the spec: with ids, the other filters are ignored
        rows = public_incidents().filter(number__in=ids[:MAX_REQUESTS]).order_by("-created_at", "-id")
        return respond(request, "service_requests", [request_row(i) for i in rows])
    start = _moment("start_date", params.get("start_date"))
    end = _moment("end_date", params.get("end_date"), end=True)
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - timedelta(days=MAX_DAYS)
    if end is None:
        end = start + timedelta(days=MAX_DAYS)
    if end < start:
        raise Open311Error(400, _("end_date 不能早于 start_date。"))
    if end - start > timedelta(days=MAX_DAYS, seconds=1):
        raise Open311Error(400, _("一次最多查询 %(n)s 天。") % {"n": MAX_DAYS})
    qs = public_incidents().filter(created_at__gte=start, created_at__lte=end)
    codes = _list_param(params.get("service_code"))
    if codes:
        qs = qs.filter(category__code__in=codes)
    statuses = {s.lower() for s in _list_param(params.get("status"))}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status 只能是 open 或 closed。"))
    if statuses == {"open"}:
        qs = qs.filter(state__in=OPEN_STATES)
    elif statuses == {"closed"}:
        qs = qs.filter(state__in=CLOSED_STATES)
    rows = qs.order_by("-created_at", "-id")[:MAX_REQUESTS]
    return respond(request, "service_requests", [request_row(i) for i in rows])


# --- creating a request --------------------------------------------------------------------------------------
def _request_data(request: HttpRequest):
    """The parameters of a POST: form-encoded (the spec), multipart, or a JSON object."""
    if (request.content_type or "").startswith("application/json"):
        try:
            data = json.loads(request.body or b"{}")
        except RecursionError:
            raise Open311Error(400, _("请求体的 JSON 嵌套过深。")) from None
        except ValueError:
            raise Open311Error(400, _("请求体不是有效的 JSON 对象。")) from None
        if not isinstance(data, dict):
            raise Open311Error(400, _("请求体不是有效的 JSON 对象。"))
        return data
    return request.POST


def _items(data):
    if hasattr(data, "lists"):
        return list(data.lists())
    return list(data.items())


def _field(data, name: str) -> str:
    """A text parameter (a JSON number is taken as its text; any other type is refused)."""
    value = data.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Open311Error(400, _("参数 %(field)s 须为文本。") % {"field": name})
    return str(value).strip()


def _principal_for_key(request: HttpRequest, data):
    from yiwang.core.services.identity import api_token_resolve

    key = _field(data, "api_key")
    if not key:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            key = header[7:].strip()
            _check("api_key", key)
    principal = api_token_resolve(token=key) if key else None
    if principal is None or not principal.has(INCIDENT_INTAKE):
        raise Open311Error(403, _("api_key 无效：请使用具有 incident.intake 授权的接入系统令牌。"))
    return principal


def _point(data) -> tuple[float | None, float | None]:
    lat, lon = _field(data, "lat"), _field(data, "long")
    if not lat and not lon:
        return None, None
    if not (lat and lon):
        raise Open311Error(400, _("lat 和 long 须同时提供。"))
    try:
        lat_f, lon_f = float(lat), float(lon)
    except ValueError:
        raise Open311Error(400, _("lat / long 须为 WGS84 经纬度数字。")) from None
    if not (math.isfinite(lat_f) and math.isfinite(lon_f) and -90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        raise Open311Error(400, _("lat / long 须为 WGS84 经纬度数字。"))
    return lat_f, lon_f


def _address_division(data) -> Division | None:
    """address_id: the code of an active grid, community (村/社区) or town (镇/街道) of the district."""
    code = _field(data, "address_id")
    if not code:
        return None
    division = Division.objects.filter(
        code=code,
        is_active=True,
        level__in=(Division.Level.GRID, Division.Level.VILLAGE, Division.Level.TOWN),
    ).first()
    if division is None:
        raise Open311Error(
            400, _("address_id %(id)s 不是本辖区的网格、社区（村）或街道（镇）编码。") % {"id": code}
        )
    return division


def _optional_extras(data) -> tuple[str, str]:
    email, media_url = _field(data, "email"), _field(data, "media_url")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise Open311Error(400, _("email 不是有效的电子邮件地址。")) from None
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            raise Open311Error(400, _("media_url 须为 http 或 https 网址。")) from None
        if "@" in media_url.split("//", 1)[-1].split("/", 1)[0]:
            raise Open311Error(400, _("media_url 不能含有用户名或密码。"))
    return email, media_url


def _pipeline_errors(exc: ValidationError) -> Open311Error:
    if hasattr(exc, "error_dict"):
        messages = [
            f"{PIPELINE_FIELDS.get(name, name)}：{message}"
            for name, errors in exc.message_dict.items()
            for message in errors
        ]
    else:
        messages = exc.messages
    return Open311Error(400, *messages)


def _request_create(request: HttpRequest) -> HttpResponse:
    data = _request_data(request)
    for name, value in _items(data):
        _check(name, value)
    principal = _principal_for_key(request, data)
    code = _field(data, "service_code")
    if not code:
        raise Open311Error(400, _("缺少 service_code。"))
    if not _services().filter(code=code).exists():
        raise _unknown_service(code)
    lat, lon = _point(data)
    division = _address_division(data)
    address = _field(data, "address_string")
    if lat is None and not address and division is None:
        raise Open311Error(400, _("须提供位置：lat 和 long、address_string 或 address_id。"))
    if not _field(data, "description"):
        raise Open311Error(400, _("缺少 description（诉求内容）。"))
    name = f"{_field(data, 'last_name')}{_field(data, 'first_name')}"
    if len(name) > FIELD_MAX["first_name"]:
        raise Open311Error(
            400, _("参数 %(field)s 过长：最多 %(n)s 个字符。") % {"field": "first_name + last_name", "n": 50}
        )
    email, media_url = _optional_extras(data)
    grid = division if division is not None and division.level == Division.Level.GRID else None
    if division is not None and grid is None and division.name not in address:
        address = f"{division.name} {address}".strip()  # located by the community's or town's name
    extras = [
        f"{key}: {value}"
        for key, value in (("email", email), ("device_id", _field(data, "device_id")))
        if value
    ]
    try:
        result = incident_intake(
            actor=principal,
            report=IntakeReport(
                channel=Incident.Channel.OPEN311,
                kind=Incident.Kind.COMPLAINT,
                description=_field(data, "description"),
                category_code=code,
                lon=lon,
                lat=lat,
                address=address,
                grid=grid,
                reporter_name=name,
                reporter_phone=_field(data, "phone"),
                photos=request.FILES.getlist("media") if hasattr(data, "lists") else [],
                media_url=media_url,
                note=_("Open311 附加信息：%(extras)s") % {"extras": "；".join(extras)} if extras else "",
            ),
        )
    except ValidationError as exc:
        raise _pipeline_errors(exc) from None
    incident = result.incident
    incident.refresh_from_db()
    return respond(
        request,
        "service_requests",
        [{"service_request_id": incident.number, "service_notice": _notice(incident), "account_id": None}],
    )


@open311_view(INCIDENT_INTAKE, methods=("GET", "HEAD", "POST"))
def requests_collection(request: HttpRequest) -> HttpResponse:
    """GET: query requests (PUBLIC data); POST: create one (api_key with incident.intake)."""
    if request.method == "POST":
        return _request_create(request)
    return _request_list(request)


@open311_view(PUBLIC, methods=("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
def not_found(request: HttpRequest, **kwargs) -> HttpResponse:
    """Anything else under /open311/: 404 in the GeoReport format."""
    raise Open311Error(404, _("没有这个 Open311 资源：可用的接口见 /open311/discovery.json。"))
