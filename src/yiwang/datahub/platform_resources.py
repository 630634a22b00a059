"""The platform's own resources: the registries Yiwang itself holds, registered in the catalogue, published and
mounted on the platform readers (`readers_platform.py`), their fields bound to the standard data elements by
identifier (left unbound while an element does not exist; a later run binds them).

`platform_resources_register(actor=None)` is idempotent: a resource already registered (found by its fixed code)
is left as it is except for the element bindings of its current version's fields, which are filled in where
still empty. Run by the demo builder and by `yiwang datahub_platform_resources`.

Not a user's write: no permission check (the platform registers what it holds), but each creation is audited
and has its ResourceEvent like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from yiwang.core.audit import audit_record
from yiwang.core.models import Department

from .grading import grade_policy
from .models import DataElement, DataResource, ResourceEvent, ResourceField
from .search import search_refresh

C, U, N = "conditional", "unconditional", "none"
PUB, LEGAL, PERS, SENS, GOV = "public", "legal_person", "personal", "sensitive_personal", "government"
GEN, IMP = "general", "important"


@dataclass(frozen=True)
class PlatformField:
    name: str
    label: str
    element: str  # identifier, "" = none
    share_type: str
    data_class: str
    grade: str
    is_key: bool = False
    data_type: str = "string"


@dataclass(frozen=True)
class PlatformResource:
    number: int
    target: str
    name: str
    provider: str  # department code; the first one that exists is used
    summary: str
    theme: str
    resource_class: str
    share_type: str
    condition: str
    data_class: str
    grade: str
    update_cycle: str
    open_type: str
    return_levels: tuple[int, ...]
    fields: tuple[PlatformField, ...]
    fallback: str = "ZSJ"


_PERSON_CONDITION = "用于履行法定职责、办理政务服务事项；须说明办件或应用场景，按最小必要原则申请信息项。"

PLATFORM_RESOURCES: tuple[PlatformResource, ...] = (
    PlatformResource(
        1,
        "core.person",
        "人口基础信息",
        "GAJ",
        "辖区户籍及常住人口的身份、性别、出生日期、居住地与联系方式，由公安分局依人口登记维护，为全区人口基础库。",
        "人口",
        "base",
        C,
        _PERSON_CONDITION,
        SENS,
        IMP,
        "realtime",
        "closed",
        (2, 3, 4),
        (
            PlatformField("id_number", "公民身份号码", "DE00001", C, SENS, IMP, True),
            PlatformField("name", "姓名", "DE00002", C, PERS, IMP),
            PlatformField("gender", "性别", "DE00003", U, PERS, GEN, data_type="code"),
            PlatformField("birth_date", "出生日期", "DE00004", C, PERS, GEN, data_type="date"),
            PlatformField("division_code", "居住地行政区划代码", "DE00005", C, PERS, GEN),
            PlatformField("address", "居住地址", "DE00006", C, SENS, IMP),
            PlatformField("phone", "联系电话", "DE00007", C, SENS, IMP),
            PlatformField("is_deceased", "死亡标识", "DE00008", U, PERS, GEN, data_type="boolean"),
        ),
    ),
    PlatformResource(
        2,
        "core.organisation",
        "法人基础信息",
        "SCJ",
        "辖区企业、个体工商户、事业单位和社会组织的统一社会信用代码、名称、类型、登记状态、注册资本、经营范围与法定代表人。",
        "法人",
        "base",
        C,
        "法定代表人姓名、参保职工人数限用于履行法定职责；其余信息项无条件共享。",
        LEGAL,
        GEN,
        "daily",
        "conditional",
        (2, 3),
        (
            PlatformField("uscc", "统一社会信用代码", "DE00011", U, LEGAL, GEN, True),
            PlatformField("name", "单位名称", "DE00012", U, LEGAL, GEN),
            PlatformField("kind", "法人类型", "DE00013", U, LEGAL, GEN, data_type="code"),
            PlatformField("status", "登记状态", "DE00014", U, LEGAL, GEN, data_type="code"),
            PlatformField("established_on", "成立日期", "DE00015", U, LEGAL, GEN, data_type="date"),
            PlatformField(
                "registered_capital", "注册资本（万元）", "DE00016", U, LEGAL, GEN, data_type="decimal"
            ),
            PlatformField("business_scope", "经营范围", "DE00017", U, LEGAL, GEN),
            PlatformField("division_code", "住所行政区划代码", "DE00005", U, LEGAL, GEN),
            PlatformField("address", "住所", "DE00018", U, LEGAL, GEN),
            PlatformField("legal_representative", "法定代表人姓名", "DE00019", C, PERS, IMP),
            PlatformField("employee_count", "参保职工人数", "DE00020", C, LEGAL, GEN, data_type="integer"),
        ),
    ),
    PlatformResource(
        3,
        "licences.licence",
        "电子证照目录信息",
        "ZSJ",
        "全区签发的电子证照的证照标识、类型、编号、状态、发证日期、有效期与发证机关，持证主体标识默认脱敏。",
        "电子证照",
        "theme",
        C,
        "用于办事免提交、证照核验；持证主体标识须按授权脱敏。",
        PERS,
        IMP,
        "realtime",
        "closed",
        (),
        (
            PlatformField("licence_id", "证照标识", "DE00031", U, GOV, GEN, True),
            PlatformField("holder_key", "持证主体代码", "", C, SENS, IMP),
            PlatformField("type_code", "证照类型代码", "DE00032", U, GOV, GEN, data_type="code"),
            PlatformField("type_name", "证照类型名称", "", U, GOV, GEN),
            PlatformField("number", "证照编号", "DE00033", C, PERS, GEN),
            PlatformField("status", "证照状态", "DE00034", U, GOV, GEN, data_type="code"),
            PlatformField("issued_on", "发证日期", "DE00035", U, GOV, GEN, data_type="date"),
            PlatformField("valid_until", "有效期截止日期", "DE00036", U, GOV, GEN, data_type="date"),
            PlatformField("issuer", "发证机关", "DE00037", U, GOV, GEN),
        ),
    ),
    PlatformResource(
        4,
        "core.division",
        "行政区划与网格",
        "ZSJ",
        "区、镇街、村社区与网格的代码、名称、层级和上级区划，是回流与按区划过滤的依据。",
        "行政区划",
        "base",
        U,
        "",
        PUB,
        GEN,
        "monthly",
        "open",
        (2, 3, 4),
        (
            PlatformField("code", "行政区划代码", "DE00005", U, PUB, GEN, True),
            PlatformField("name", "区划名称", "DE00041", U, PUB, GEN),
            PlatformField("level", "区划层级", "DE00042", U, PUB, GEN, data_type="code"),
            PlatformField("parent_code", "上级区划代码", "DE00005", U, PUB, GEN),
        ),
    ),
    PlatformResource(
        5,
        "cases.statistics",
        "政务服务办件统计",
        "ZSJ",
        "按月、部门和事项统计的办件申请数、办结数和按时办结数。",
        "政务服务",
        "theme",
        U,
        "",
        PUB,
        GEN,
        "monthly",
        "open",
        (2,),
        (
            PlatformField("month", "统计月份", "DE00051", U, PUB, GEN),
            PlatformField("department_code", "部门编码", "DE00052", U, PUB, GEN),
            PlatformField("item_code", "事项编码", "DE00053", U, PUB, GEN),
            PlatformField("submitted", "办件数", "DE00054", U, PUB, GEN, data_type="integer"),
            PlatformField("concluded", "办结数", "DE00055", U, PUB, GEN, data_type="integer"),
            PlatformField("on_time", "按时办结数", "DE00056", U, PUB, GEN, data_type="integer"),
        ),
    ),
    PlatformResource(
        6,
        "incidents.statistics",
        "城市治理事件统计",
        "ZHZX",
        "按月、区划和事件类别统计的上报数、结案数和按时结案数（12345 热线、网格巡查与物联感知）。",
        "城市治理",
        "theme",
        U,
        "",
        PUB,
        GEN,
        "monthly",
        "open",
        (2, 3, 4),
        (
            PlatformField("month", "统计月份", "DE00051", U, PUB, GEN),
            PlatformField("division_code", "行政区划代码", "DE00005", U, PUB, GEN),
            PlatformField("category_code", "事件类别代码", "DE00057", U, PUB, GEN, data_type="code"),
            PlatformField("reported", "事件数", "DE00058", U, PUB, GEN, data_type="integer"),
            PlatformField("closed", "结案数", "DE00059", U, PUB, GEN, data_type="integer"),
            PlatformField("on_time", "按时结案数", "DE00056", U, PUB, GEN, data_type="integer"),
        ),
    ),
)


def platform_code(spec: PlatformResource, provider: Department) -> str:
    return f"{provider.division.code[:6]}-{provider.code}-P{spec.number:04d}"


def _provider(spec: PlatformResource, departments: dict[str, Department]) -> Department | None:
    return departments.get(spec.provider) or departments.get(spec.fallback)


def _bind(resource: DataResource, spec: PlatformResource, elements: dict[str, DataElement]) -> int:
    """Fills in missing element bindings of the resource's fields; returns how many it bound."""
    wanted = {f.name: f.element for f in spec.fields if f.element}
    bound = 0
    for field in resource.fields.filter(element__isnull=True, name__in=list(wanted)):
        element = elements.get(wanted[field.name])
        if element is not None:
            ResourceField.objects.filter(pk=field.pk).update(element=element)
            bound += 1
    return bound


def platform_resources_register(actor=None) -> dict:
    """Registers and publishes the platform's own resources (idempotent). Returns counts."""
    counts = {"created": 0, "bound": 0, "skipped": 0}
    codes = {spec.provider for spec in PLATFORM_RESOURCES} | {spec.fallback for spec in PLATFORM_RESOURCES}
    departments = {d.code: d for d in Department.objects.select_related("division").filter(code__in=codes)}
    identifiers = {f.element for spec in PLATFORM_RESOURCES for f in spec.fields if f.element}
    elements = {e.identifier: e for e in DataElement.objects.filter(identifier__in=identifiers)}
    masks: dict[str, str] = {}
    for spec in PLATFORM_RESOURCES:
        provider = _provider(spec, departments)
        if provider is None:
            counts["skipped"] += 1
            continue
        code = platform_code(spec, provider)
        with transaction.atomic():
            current = DataResource.objects.filter(code=code).order_by("-version").first()
            if current is not None:
                counts["bound"] += _bind(current, spec, elements)
                continue
            resource = DataResource.objects.create(
                code=code,
                name=spec.name,
                summary=spec.summary,
                provider=provider,
                resource_class=spec.resource_class,
                theme=spec.theme,
                source_system="一网平台",
                format=DataResource.Format.API,
                share_type=spec.share_type,
                share_condition=spec.condition,
                open_type=spec.open_type,
                update_cycle=spec.update_cycle,
                data_class=spec.data_class,
                grade=spec.grade,
                mount_kind=DataResource.MountKind.REGISTRY,
                mount_target=spec.target,
                return_levels=list(spec.return_levels),
                released_on=timezone.localdate(),
                data_updated_at=timezone.now(),
                contact_name="数据资源管理科",
                status=DataResource.Status.PUBLISHED,
                is_platform=True,
            )
            ResourceField.objects.bulk_create(
                ResourceField(
                    resource=resource,
                    name=f.name,
                    label=f.label,
                    element=elements.get(f.element),
                    data_type=f.data_type,
                    share_type=f.share_type,
                    share_condition=spec.condition if f.share_type == C else "",
                    data_class=f.data_class,
                    grade=f.grade,
                    default_mask=masks.setdefault(f.grade, grade_policy(f.grade).default_mask),
                    is_key=f.is_key,
                    position=i,
                )
                for i, f in enumerate(spec.fields)
            )
            entry = audit_record(
                actor=actor,
                action="datahub.resource.platform_register",
                object_type="data_resource",
                object_id=str(resource.public_id),
                after={"code": code, "target": spec.target, "provider": provider.code},
            )
            ResourceEvent.objects.create(
                resource=resource,
                seq=1,
                actor_account=getattr(actor, "account", None),
                actor_label="平台",
                action="platform_register",
                from_status="",
                to_status=resource.status,
                note=spec.target,
                audit_uuid=entry.uuid,
            )
            search_refresh([resource])
            counts["created"] += 1
    return counts
