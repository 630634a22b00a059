"""Demo data of the resource catalogue: the platform's own resources, then about 300 resources of the district's
departments and the towns' offices and command centres, each with 4–15 fields bound to the data elements whose
names match (the elements part loads ~400 of them; a field stays unbound when none matches).

Realistic mix, seeded: most published; some drafts, mounted drafts and resources in review; one retired; one
with a second version being prepared and one whose second version superseded the first. Resources go through the
catalogue services (register, fields, mount, submit, review…), acted by the centre's first data-centre officer,
so their histories and audit entries are real. Idempotent: a department's resource of the same name is skipped.

Names, summaries and field labels below are demo content (data, not interface text).
"""

from __future__ import annotations

import random

from django.db import transaction

from yiwang.core.models import Department, Division, Staff
from yiwang.core.principal import Principal

from .demo_catalogue_specs import (
    COMMON,
    COMMON_DEPARTMENTS,
    DEPARTMENT_RESOURCES,
    FIELD_NAMES,
    NO_SHARE_BASIS,
    PADDING,
    SENSITIVE,
    TOWN_CENTRE,
    TOWN_OFFICE,
    UPDATE_CYCLES,
    R,
)
from .models import DataElement, DataResource
from .platform_resources import platform_resources_register
from .services import catalogue as services

SEED = "yiwang-demo-catalogue"


def _centre_actor() -> Principal | None:
    staff = (
        Staff.objects.select_related("account", "department")
        .filter(roles__role="data_centre", is_active=True, account__is_active=True)
        .order_by("employee_no")
        .first()
    )
    return Principal.for_account(staff.account) if staff is not None else None


def _specs(departments: dict[str, Department]) -> list[tuple[Department, R]]:
    out: list[tuple[Department, R]] = []
    for code, items in DEPARTMENT_RESOURCES.items():
        if code in departments:
            out.extend((departments[code], item) for item in items)
    for code in COMMON_DEPARTMENTS:
        if code in departments:
            short = departments[code].name.replace("云岭区", "")
            out.extend(
                (departments[code], (f"{short}{name}", theme, summary, base, own))
                for name, theme, summary, base, own in COMMON
            )
    for department in sorted(departments.values(), key=lambda d: d.code):
        if department.division.level != Division.Level.TOWN:
            continue
        town = department.division.name
        items = TOWN_CENTRE if department.is_command_centre else TOWN_OFFICE
        out.extend(
            (department, (f"{town}{name}", theme, summary, base, own))
            for name, theme, summary, base, own in items
        )
    return out


def _fields(
    rng: random.Random, labels: list[str], elements: dict[str, DataElement], share: str
) -> list[dict]:
    rows = []
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            continue
        seen.add(label)
        element = elements.get(label)
        name = FIELD_NAMES.get(label) or f"item_{len(rows) + 1:02d}"
        if name in {r["name"] for r in rows}:
            name = f"item_{len(rows) + 1:02d}"
        sensitive = label in SENSITIVE
        personal = sensitive or label in ("姓名", "性别", "出生日期") or "姓名" in label
        field_share = share
        if sensitive and share == "unconditional":
            field_share = "conditional"
        row = {
            "name": name,
            "label": label,
            "element": element.identifier if element is not None else "",
            "share_type": field_share,
            "share_condition": "用于履行法定职责，按最小必要原则使用" if field_share == "conditional" else "",
            "no_share_basis": NO_SHARE_BASIS if field_share == "none" else "",
            "data_class": "sensitive_personal" if sensitive else ("personal" if personal else "public"),
            "grade": "important" if sensitive else "general",
            "is_key": name in ("id_number", "uscc") or (not rows and name.startswith("item_")),
        }
        rows.append(row)
    # one sensitive field of some conditional resources is not shared at all (with its basis)
    if share == "conditional" and rng.random() < 0.15:
        for row in rows:
            if row["data_class"] == "sensitive_personal" and not row["is_key"]:
                row.update(share_type="none", share_condition="", no_share_basis=NO_SHARE_BASIS)
                break
    return rows[:15]


def load_catalogue(stdout=None, scale: float = 1.0) -> dict:
    """Platform resources, then the departments' resources through the services (idempotent, seeded). Below
    scale 1 (the test districts of the browser journeys) every tenth departmental resource, with a smaller mix."""
    counts = {"platform": platform_resources_register().get("created", 0), "resources": 0}
    actor = _centre_actor()
    if actor is None:
        return counts
    rng = random.Random(SEED)
    departments = {d.code: d for d in Department.objects.select_related("division").filter(is_active=True)}
    elements = {}
    for element in DataElement.objects.exclude(status=DataElement.Status.RETIRED).order_by("identifier"):
        elements.setdefault(element.name, element)
    existing = set(DataResource.objects.values_list("provider_id", "name"))
    specs = _specs(departments)
    mix = ["draft"] * 10 + ["mounted"] * 8 + ["in_review"] * 12 + ["retired", "v2_draft", "v2_published"]
    if scale < 1:
        specs, mix = specs[::10], ["draft", "mounted", "in_review"]
    plan = ["published"] * len(specs)
    # the mix: a few drafts, mounted drafts and resources in review; one retired; two with second versions
    positions = list(range(len(specs)))
    rng.shuffle(positions)
    for i, state in zip(positions, mix, strict=False):
        plan[i] = state
    for (department, (name, theme, summary, base, own)), state in zip(specs, plan, strict=True):
        if (department.pk, name) in existing:
            continue
        labels = list(dict.fromkeys(list(base) + list(own)))
        labels += [pad for pad in PADDING if pad not in labels][: max(0, 4 - len(labels))]
        personal = any(label in SENSITIVE for label in labels)
        share = "conditional" if personal else rng.choice(["unconditional", "unconditional", "conditional"])
        with transaction.atomic():
            resource = services.resource_register(
                actor=actor,
                provider=department,
                name=name,
                summary=summary,
                resource_class="base"
                if department.code in ("GAJ", "SCJ", "ZRJ") and rng.random() < 0.3
                else ("theme" if rng.random() < 0.2 else "department"),
                theme=theme,
                source_system=f"{department.name.replace('云岭区', '')}业务系统",
                format=rng.choice(["database", "database", "api", "file"]),
                share_type=share,
                share_condition="用于履行法定职责、办理政务服务事项" if share == "conditional" else "",
                open_type="closed" if personal else rng.choice(["open", "conditional", "closed"]),
                update_cycle=rng.choice(UPDATE_CYCLES),
                data_class="sensitive_personal"
                if personal
                else ("legal_person" if "统一社会信用代码" in labels else "public"),
                grade="general",
                contact_name="数据专员",
                contact_phone=f"020-8{rng.randrange(1000000, 9999999)}",
            )
            if state == "draft" and rng.random() < 0.5:
                counts["resources"] += 1
                continue
            services.resource_fields_set(
                actor=actor, resource=resource, fields=_fields(rng, labels, elements, share)
            )
            if state == "draft":
                counts["resources"] += 1
                continue
            system = _system_of(department)
            if system:
                services.resource_mount(
                    actor=actor,
                    resource=resource,
                    mount_kind="external_api",
                    mount_target=f"https://data.{department.code.lower()}.yunling.gov.example/api/{resource.code}",
                    mount_options={"system": system},
                )
            else:
                _mount_dataset(actor, resource)
            if state == "mounted":
                counts["resources"] += 1
                continue
            resource = services.resource_submit(actor=actor, resource=resource)
            if state == "in_review":
                counts["resources"] += 1
                continue
            resource = services.resource_review(
                actor=actor, resource=resource, approve=True, note="符合目录编制要求"
            )
            if state == "retired":
                services.resource_retire(
                    actor=actor, resource=resource, notice="该资源已并入上级统建系统，请改用市级共享接口。"
                )
            elif state in ("v2_draft", "v2_published"):
                v2 = services.resource_version_new(actor=actor, resource=resource)
                services.resource_update(
                    actor=actor, resource=v2, summary=f"{summary}（第二版：补充更新时间字段）"
                )
                if state == "v2_published":
                    services.resource_submit(actor=actor, resource=v2)
                    services.resource_review(actor=actor, resource=v2, approve=True, note="同意发布新版本")
            counts["resources"] += 1
    if stdout is not None:
        stdout.write(f"catalogue: {counts}\n")
    return counts


def _system_of(department: Department) -> str:
    from yiwang.core.models import RegisteredSystem

    system = (
        RegisteredSystem.objects.filter(department=department, is_active=True).order_by("client_id").first()
    )
    return system.client_id if system is not None else ""


def _mount_dataset(actor, resource: DataResource) -> None:
    """Without a registered system of the provider, the demo mounts an uploaded dataset of its columns."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    labels = list(resource.fields.order_by("position").values_list("label", flat=True))
    buffer = io.StringIO()
    buffer.write(",".join(labels) + "\n")
    services.resource_mount(
        actor=actor,
        resource=resource,
        mount_kind="dataset",
        file=SimpleUploadedFile(
            f"{resource.code}.csv", buffer.getvalue().encode("utf-8"), content_type="text/csv"
        ),
    )
