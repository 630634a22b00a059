"""Form parsing for the action forms of the incident pages: one posted action → one service call. Returns the
success message; raises what the service raises (ValidationError by field, PermissionDenied, IncidentConflict)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.principal import Principal

from . import selectors
from .models import Incident
from .services import dispatch, handling

ACTION_LABELS = {
    "dispatch": gettext_lazy("分拨派遣"),
    "return": gettext_lazy("退回"),
    "reassign": gettext_lazy("改派"),
    "extension_request": gettext_lazy("申请延期"),
    "extension_decide": gettext_lazy("延期审批"),
    "handle": gettext_lazy("处置完成"),
    "verify": gettext_lazy("核查"),
    "close": gettext_lazy("直接结案"),
    "merge": gettext_lazy("合并为重复件"),
    "callback": gettext_lazy("回访"),
}


def _version(data) -> int | None:
    raw = (data.get("version") or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationError({"version": _("版本号无效，请刷新页面。")}) from exc


def _flag(data, name: str) -> bool:
    return (data.get(name) or "").strip().lower() in ("1", "true", "on", "yes", "approve", "pass")


def parse_local_datetime(raw: str, *, field: str):
    value = parse_datetime((raw or "").strip())
    if value is None:
        raise ValidationError({field: _("请填写有效的日期时间，如 2026-03-06 17:30。")})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def run_action(principal: Principal, incident: Incident, action: str, data, files) -> str:
    """Calls the service of `action` with the posted fields; the success message."""
    if action not in selectors.ACTIONS:
        raise ValidationError({"action": _("未知的操作。")})
    version = _version(data)
    number = incident.number
    if action == "dispatch":
        dispatch.incident_dispatch(
            actor=principal,
            incident=incident,
            department_code=data.get("department_code", ""),
            grid_code=data.get("grid_code", ""),
            category_code=data.get("category_code", ""),
            note=data.get("note", ""),
            expected_version=version,
        )
        return _("工单 %(number)s 已派遣。") % {"number": number}
    if action == "return":
        dispatch.incident_return(
            actor=principal, incident=incident, reason=data.get("reason", ""), expected_version=version
        )
        return _("工单 %(number)s 已退回指挥中心。") % {"number": number}
    if action == "reassign":
        dispatch.incident_reassign(
            actor=principal,
            incident=incident,
            department_code=data.get("department_code", ""),
            grid_code=data.get("grid_code", ""),
            reason=data.get("reason", ""),
            expected_version=version,
        )
        return _("工单 %(number)s 已改派。") % {"number": number}
    if action == "extension_request":
        dispatch.extension_request(
            actor=principal,
            incident=incident,
            requested_due_at=parse_local_datetime(data.get("requested_due_at", ""), field="requested_due_at"),
            reason=data.get("reason", ""),
        )
        return _("工单 %(number)s 的延期申请已提交，等待指挥中心审批。") % {"number": number}
    if action == "extension_decide":
        request = selectors.extension_pending_get(incident)
        approve = _flag(data, "approve")
        dispatch.extension_decide(
            actor=principal, request=request, approve=approve, note=data.get("note", "")
        )
        return (_("已批准工单 %(number)s 延期。") if approve else _("已不予批准工单 %(number)s 延期。")) % {
            "number": number
        }
    if action == "handle":
        result = handling.incident_handle(
            actor=principal,
            incident=incident,
            note=data.get("note", ""),
            photos=files.getlist("photos"),
            expected_version=version,
        )
        return _("工单 %(number)s 已提交处置结果，当前状态“%(state)s”。") % {
            "number": number,
            "state": result.get_state_display(),
        }
    if action == "verify":
        passed = _flag(data, "passed")
        handling.incident_verify(
            actor=principal,
            incident=incident,
            passed=passed,
            note=data.get("note", ""),
            photos=files.getlist("photos"),
            expected_version=version,
        )
        return (
            _("工单 %(number)s 核查通过，已结案。")
            if passed
            else _("工单 %(number)s 核查不通过，已退回承办单位。")
        ) % {"number": number}
    if action == "close":
        handling.incident_close(
            actor=principal, incident=incident, closure=data.get("closure", ""), note=data.get("note", "")
        )
        return _("工单 %(number)s 已结案。") % {"number": number}
    if action == "merge":
        try:
            into = selectors.incident_by_number_visible(principal, data.get("into", ""))
        except Http404 as exc:
            raise ValidationError(
                {"into": _("找不到工单号为 %(n)s 的工单。") % {"n": data.get("into", "")}}
            ) from exc
        dispatch.incident_merge(actor=principal, incident=incident, into=into, note=data.get("note", ""))
        return _("工单 %(number)s 已合并到 %(into)s。") % {"number": number, "into": into.number}
    if action == "callback":
        callback = handling.incident_callback(
            actor=principal,
            incident=incident,
            satisfaction=data.get("satisfaction", ""),
            note=data.get("note", ""),
            reopen=_flag(data, "reopen"),
        )
        if callback.reopened:
            return _("已记录回访，工单 %(number)s 已重启。") % {"number": number}
        return _("已记录工单 %(number)s 的回访：%(s)s。") % {
            "number": number,
            "s": callback.get_satisfaction_display(),
        }
    raise PermissionDenied  # pragma: no cover - every action is handled above
