"""Demo: 纠错 on top of the demo district, the published registries and the sharing demo's grants.

Objections from every origin, through the real services, left in every state: a consuming department (the holder
of a live grant of 人口基础信息) files four (submitted, verifying, corrected with pushes — one acknowledged —,
rejected); a window clerk two (submitted, corrected); citizens four from 我的数据 (submitted, corrected, rejected,
withdrawn); an enterprise two (submitted, corrected); licence holders raise two 质量异议 (they join the queue
through the licences' hook; one is rejected through the objection); a failed quality rule one, when the quality
demo opened none. One objection is left overdue: filed "ten working days ago" (its dates are moved back after
filing — the only write here outside the services, a demo's stand-in for elapsed time).

Idempotent (nothing is filed again once objections of origin department exist) and deterministic (seeded).
Without the published person registry resource it does nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yiwang.core.models import Account, Person, Staff
from yiwang.core.permissions import LICENCE_ISSUE, Role
from yiwang.core.principal import Principal
from yiwang.core.workdays import is_working_day, working_calendar

from .models.objections import CorrectionPush, Objection
from .models.sharing import ShareGrant
from .services import objections as svc

SEED = 15_007
STREETS = ("迎宾路", "文昌街", "滨江东路", "建设二路", "荔湾北街", "东风中路")


def _principal_of(staff: Staff | None) -> Principal | None:
    return Principal.for_account(staff.account) if staff is not None else None


def _staff(role: str, department_id: int | None = None) -> Staff | None:
    query = Staff.objects.filter(is_active=True, roles__role=role).select_related("account", "department")
    if department_id is not None:
        query = query.filter(department_id=department_id)
    return query.order_by("employee_no").first()


def _verifier(department) -> Principal | None:
    """A data officer of the source department or of one above it, else the centre."""
    current = department
    while current is not None:
        staff = _staff(Role.DATA_OFFICER, current.pk)
        if staff is not None:
            return _principal_of(staff)
        current = current.parent
    return _principal_of(_staff(Role.DATA_CENTRE_OFFICER))


def _address(rng: random.Random) -> str:
    return f"{rng.choice(STREETS)}{rng.randint(1, 300)}号"


def _working_days_back(n: int):
    cal = working_calendar()
    day = timezone.localdate()
    done = 0
    while done < n:
        day = day.fromordinal(day.toordinal() - 1)
        if is_working_day(day, cal):
            done += 1
    return day


def load_objections() -> dict[str, int]:
    """Builds the 纠错 demo (see the module docstring); returns {what: how many created}."""
    person_resource = svc.self_resource(False)
    if person_resource is None:
        return {}
    if Objection.objects.filter(origin=Objection.Origin.DEPARTMENT).exists():
        return {}
    rng = random.Random(SEED)
    before = Objection.objects.count()
    pushes_before = CorrectionPush.objects.count()
    made: list[Objection] = []

    def _try(fn, **kwargs):
        try:
            result = fn(**kwargs)
        except (ValidationError, PermissionDenied):
            return None
        if isinstance(result, Objection) and result not in made:
            made.append(result)
        return result

    # The subjects of the departments' and the window's objections: registered persons (seeded choice).
    people = list(Person.objects.exclude(address="").order_by("id")[:300])
    subjects = rng.sample(people, k=min(len(people), 6))
    # Citizens who object from 我的数据 (the demo has few accounts: one account may file several).
    citizens = list(
        Account.objects.filter(kind=Account.Kind.CITIZEN, person__isnull=False, is_active=True)
        .select_related("person")
        .order_by("id")[:4]
    )
    source_verifier = _verifier(person_resource.provider)

    # --- a consuming department holding a live grant ---------------------------------------------------------
    now = timezone.now()
    grant = (
        ShareGrant.objects.filter(
            resource__code=person_resource.code,
            status=ShareGrant.Status.ACTIVE,
            valid_from__lte=now,
            valid_until__gt=now,
        )
        .select_related("requester")
        .order_by("id")
        .first()
    )
    consumer = _principal_of(_staff(Role.DATA_OFFICER, grant.requester_id)) if grant is not None else None
    if consumer is None:
        consumer = _principal_of(_staff(Role.DATA_CENTRE_OFFICER))
    department_reasons = (
        ("address", "入户核查时发现居住地址与登记不一致"),
        ("phone", "联系电话已停机，申请人提供了新号码"),
        ("name", "姓名中的生僻字被登记为同音字"),
        ("address", "门牌号已于今年整治后重新编排"),
    )
    dept_objections = []
    for i, (field, reason) in enumerate(department_reasons):
        if consumer is None or i >= len(subjects):
            break
        person = subjects[i]
        proposed = _address(rng) if field == "address" else ("139" + f"{rng.randint(0, 99_999_999):08d}")
        if field == "name":
            proposed = person.name
        o = _try(
            svc.objection_file,
            principal=consumer,
            channel="department",
            resource=person_resource,
            field_name=field,
            record_key=person.id_number,
            proposed_value=proposed,
            reason=reason,
        )
        if o is not None:
            dept_objections.append(o)
    if source_verifier is not None and len(dept_objections) >= 4:
        _try(svc.objection_start, principal=source_verifier, objection=dept_objections[1])
        corrected = _try(
            svc.objection_correct,
            principal=source_verifier,
            objection=dept_objections[0],
            corrected_value=dept_objections[0].proposed_value,
            correction_basis="入户核查记录、户籍档案",
            resolution="经核实，按入户核查结果更正。",
        )
        if corrected is not None and consumer is not None:
            push = CorrectionPush.objects.filter(
                objection=corrected, consumer=consumer.department, status=CorrectionPush.Status.SENT
            ).first()
            if push is not None:
                _try(svc.correction_push_acknowledge, principal=consumer, push=push)
        _try(
            svc.objection_reject,
            principal=source_verifier,
            objection=dept_objections[3],
            resolution="门牌整治后的新地址尚未经民政部门公告，暂按原登记。",
        )

    # --- a window clerk ---------------------------------------------------------------------------------------
    clerk = _principal_of(_staff(Role.WINDOW_CLERK))
    if clerk is not None:
        for i, (field, reason) in enumerate(
            (
                ("address", "办理居住证时申请人出示的房产证地址与登记不一致"),
                ("phone", "申请人现场提供新手机号"),
            )
        ):
            if 4 + i >= len(subjects):
                break
            person = subjects[4 + i]
            o = _try(
                svc.objection_file,
                principal=clerk,
                channel="window",
                resource=person_resource,
                field_name=field,
                record_key=person.id_number,
                proposed_value=_address(rng)
                if field == "address"
                else "138" + f"{rng.randint(0, 99_999_999):08d}",
                reason=reason,
            )
            if o is not None and i == 1 and source_verifier is not None:
                _try(
                    svc.objection_correct,
                    principal=source_verifier,
                    objection=o,
                    corrected_value=o.proposed_value,
                    correction_basis="窗口核验本人手机号（短信验证）",
                )

    # --- citizens from 我的数据 -------------------------------------------------------------------------------
    citizen_objections = []
    for i in range(4 if citizens else 0):
        account = citizens[i % len(citizens)]
        o = _try(
            svc.objection_file_self,
            principal=Principal.for_account(account),
            field_name="address",
            proposed_value=_address(rng),
            reason="我已搬到新住址，登记的地址还是旧的。",
        )
        if o is not None:
            citizen_objections.append((account, o))
    if source_verifier is not None and len(citizen_objections) >= 4:
        _try(
            svc.objection_correct,
            principal=source_verifier,
            objection=citizen_objections[1][1],
            corrected_value=citizen_objections[1][1].proposed_value,
            correction_basis="居住证登记信息",
        )
        _try(
            svc.objection_reject,
            principal=source_verifier,
            objection=citizen_objections[2][1],
            resolution="未办理迁移登记，请先到派出所办理户口迁移后再申请更正。",
        )
        account, o = citizen_objections[3]
        _try(svc.objection_withdraw, principal=Principal.for_account(account), objection=o)

    # --- an enterprise ------------------------------------------------------------------------------------------
    org_resource = svc.self_resource(True)
    enterprises = list(
        Account.objects.filter(kind=Account.Kind.ENTERPRISE, organisation__isnull=False, is_active=True)
        .select_related("organisation")
        .order_by("id")[:2]
    )
    if org_resource is not None:
        org_verifier = _verifier(org_resource.provider)
        for i in range(2 if enterprises else 0):
            account = enterprises[i % len(enterprises)]
            o = _try(
                svc.objection_file_self,
                principal=Principal.for_account(account),
                field_name="address" if i == 0 else "business_scope",
                proposed_value=_address(rng) if i == 0 else "餐饮服务；预包装食品销售",
                reason="已办理变更登记，基础库尚未同步。",
            )
            if o is not None and i == 1 and org_verifier is not None:
                _try(
                    svc.objection_correct,
                    principal=org_verifier,
                    objection=o,
                    corrected_value=o.proposed_value,
                    correction_basis="变更登记通知书",
                )

    # --- licence 质量异议 (through the licences' own service; the hook opens the objections) --------------------
    from yiwang.licences.models import Licence, LicenceDispute
    from yiwang.licences.services.disputes import dispute_raise

    licences = list(
        Licence.objects.filter(status=Licence.Status.VALID, holder_person__isnull=False)
        .exclude(disputes__status=LicenceDispute.Status.OPEN)
        .select_related("licence_type__department")
        .order_by("id")[:40]
    )
    raised = 0
    for licence in licences:
        if raised >= 2:
            break
        holder = Account.objects.filter(person_id=licence.holder_person_id, is_active=True).first()
        fields = [f["name"] for f in licence.licence_type.face_fields or [] if f.get("name")]
        if holder is None or not fields:
            continue
        try:
            dispute = dispute_raise(
                actor=Principal.for_account(holder),
                licence=licence,
                fields=[fields[0]],
                description="证照上的信息与实际不符，请核实更正。",
            )
        except (ValidationError, PermissionDenied):
            continue
        raised += 1
        objection = Objection.objects.filter(licence_dispute=dispute).first()
        if objection is not None:
            made.append(objection)
        if raised == 2 and objection is not None:
            issuer = next(
                (
                    p
                    for p in (
                        Principal.for_account(s.account)
                        for s in Staff.objects.filter(
                            department=licence.licence_type.department, is_active=True
                        ).select_related("account")[:20]
                    )
                    if p.has(LICENCE_ISSUE)
                ),
                None,
            )
            if issuer is not None:
                _try(
                    svc.objection_reject,
                    principal=issuer,
                    objection=objection,
                    resolution="经核对签发档案，证照信息与登记一致。",
                )

    # --- a failed quality rule (when the quality demo opened none) ----------------------------------------------
    if not Objection.objects.filter(origin=Objection.Origin.QUALITY).exists():
        _try(
            svc.objection_open,
            principal=None,
            origin=Objection.Origin.QUALITY,
            source_department=person_resource.provider,
            resource=person_resource,
            field_name="id_number",
            reason="质量检查“公民身份号码校验位（GB 11643）”未通过：3 条记录校验位错误。",
        )

    # --- one overdue: filed ten working days ago --------------------------------------------------------------
    if len(dept_objections) >= 2:
        filed_on = _working_days_back(10)
        due = _working_days_back(5)
        Objection.objects.filter(pk=dept_objections[1].pk).update(
            created_at=timezone.make_aware(datetime.combine(filed_on, time(10, 0))), due_on=due
        )

    return {
        "objections": Objection.objects.count() - before,
        "pushes": CorrectionPush.objects.count() - pushes_before,
    }
