"""Demo: 数据质量 on the demo registries and catalogue, with real failures to correct.

1. Rules on the platform's 人口基础信息 (core.person) and 法人基础信息 (core.organisation): schema, row count,
   missing names, GB 11643 / GB 32100 / GB/T 2260 checksums, code lists, duplicates, a reference to 行政区划与网格
   and freshness — these pass (the registries hold valid identifiers; nothing of them is altered).
2. Rules on the 离岸库 省市场主体经营异常名录: its USCCs and cross-source consistency of the name with 法人基础信息.
3. Two datasets of the 民政局 with planted failures (uploaded CSVs, stored encrypted like any upload):
   高龄津贴发放核对名单 (daily) with 6 ID numbers whose check digit is wrong and 4 gender codes outside
   GB/T 2261.1; 城乡居民医保参保登记（季度报送） (quarterly) whose data was last updated 200 days ago (stale).
4. Every resource with rules is run once: scores exist and each failed rule has opened a correction task for its
   数源部门.

Idempotent (rules and resources found by name/code are kept; a resource already run is not run again) and
deterministic (seeded random, fixed offsets).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.utils import timezone

from yiwang.core.models import Department
from yiwang.core.validators import make_id_number

from .catalogue_datasets import Dataset, dataset_store
from .models import DataElement, DataResource, Mask, QualityRule, QualityRun, ResourceField

SEED = 20261206
ELDER_ROWS = 240
BAD_CHECKSUMS = 6
BAD_GENDERS = 4
# Town codes of the demo district for the datasets' division column.
ELDER_FIELDS = (
    # name, label, element, class, mask
    ("id_number", "公民身份号码", "DE00001", "sensitive_personal", Mask.MASK_SHOW_LAST_4),
    ("name", "姓名", "DE00002", "personal", Mask.NONE),
    ("gender", "性别", "DE00003", "personal", Mask.NONE),
    ("division_code", "居住地行政区划代码", "DE00005", "personal", Mask.NONE),
    ("monthly_amount", "月发放金额（元）", "", "personal", Mask.NONE),
)
INSURANCE_FIELDS = (
    ("id_number", "公民身份号码", "DE00001", "sensitive_personal", Mask.MASK_SHOW_LAST_4),
    ("name", "姓名", "DE00002", "personal", Mask.NONE),
    ("insured_on", "参保日期", "", "personal", Mask.NONE),
    ("category", "参保类别", "", "personal", Mask.NONE),
)


def _resource(code: str) -> DataResource | None:
    return DataResource.objects.filter(code=code).order_by("-version").first()


def _platform(target: str) -> DataResource | None:
    return (
        DataResource.objects.filter(mount_target=target, status=DataResource.Status.PUBLISHED)
        .order_by("code", "-version")
        .first()
    )


def _dataset_resource(
    *, code, name, summary, provider, cycle, fields, columns, rows, updated_at
) -> tuple[DataResource, bool]:
    existing = _resource(code)
    if existing is not None:
        return existing, False
    stored = dataset_store(
        Dataset(file_name=f"{code}.csv", content_type="text/csv", sm3="", size=0, columns=columns, rows=rows)
    )
    elements = {
        e.identifier: e for e in DataElement.objects.filter(identifier__in=[f[2] for f in fields if f[2]])
    }
    resource = DataResource.objects.create(
        code=code,
        name=name,
        summary=summary,
        provider=provider,
        resource_class=DataResource.ResourceClass.DEPARTMENT,
        theme="民生服务",
        source_system="民政业务系统（报送）",
        format=DataResource.Format.FILE,
        share_type="conditional",
        share_condition="用于核验和整改",
        update_cycle=cycle,
        data_class="personal",
        grade="important",
        mount_kind=DataResource.MountKind.DATASET,
        mount_target=f"dataset:{stored.rsplit('/', 1)[-1]}",
        mount_options={"file": stored, "file_name": f"{code}.csv", "columns": columns, "rows": len(rows)},
        released_on=date(2026, 6, 1),
        contact_name="数据资源管理科",
        status=DataResource.Status.PUBLISHED,
        data_updated_at=updated_at,
    )
    ResourceField.objects.bulk_create(
        ResourceField(
            resource=resource,
            name=fname,
            label=label,
            element=elements.get(element),
            share_type="conditional",
            share_condition="用于核验和整改",
            data_class=fclass,
            grade="important",
            default_mask=mask,
            is_key=fname == "id_number",
            position=i,
        )
        for i, (fname, label, element, fclass, mask) in enumerate(fields)
    )
    return resource, True


def _elder_rows(rng: random.Random, division: str) -> list[list[str]]:
    rows = []
    bad_ids = set(rng.sample(range(ELDER_ROWS), BAD_CHECKSUMS))
    bad_genders = set(rng.sample(sorted(set(range(ELDER_ROWS)) - bad_ids), BAD_GENDERS))
    for n in range(ELDER_ROWS):
        born = date(1930 + rng.randrange(16), 1 + rng.randrange(12), 1 + rng.randrange(28))
        id_number = make_id_number(division[:6], born, 500 + n)
        if n in bad_ids:  # a wrong check character (the planted checksum failures)
            wrong = "0123456789X".replace(id_number[-1], "")
            id_number = id_number[:-1] + wrong[rng.randrange(len(wrong))]
        gender = "3" if n in bad_genders else ("1" if int(id_number[16]) % 2 else "2")
        rows.append([id_number, f"高龄老人{n:03d}", gender, division, str(300 + 100 * rng.randrange(4))])
    return rows


def _insurance_rows(rng: random.Random, division: str) -> list[list[str]]:
    rows = []
    for n in range(120):
        born = date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28))
        rows.append(
            [
                make_id_number(division[:6], born, 100 + n),
                f"参保居民{n:03d}",
                (date(2025, 1, 1) + timedelta(days=rng.randrange(300))).isoformat(),
                rng.choice(["城乡居民", "学生", "灵活就业"]),
            ]
        )
    return rows


def _rules(resource: DataResource, specs: list[dict]) -> int:
    from .services.quality import quality_rule_save, quality_rule_validate

    made = 0
    have = set(QualityRule.objects.filter(resource=resource).values_list("name", flat=True))
    for spec in specs:
        if spec["name"] in have:
            continue
        try:
            quality_rule_validate(resource, spec)
        except Exception:  # noqa: BLE001 - a demo rule whose target is missing in this district is left out
            continue
        quality_rule_save(actor=None, resource=resource, values=spec)
        made += 1
    return made


def load_quality() -> dict[str, int]:
    from .services.quality import _new_run, quality_run_execute

    rng = random.Random(SEED)
    counts = {"resources": 0, "rules": 0, "runs": 0}
    person = _platform("core.person")
    organisation = _platform("core.organisation")
    divisions = _platform("core.division")
    abnormal = _resource_by_target_name("datahub.offshore", "经营异常")
    civil = Department.objects.filter(code="MZJ").first() or (person.provider if person else None)
    division = civil.division.code if civil is not None and civil.division_id else "440199"
    town = division if len(division) >= 9 else division[:6] + "001"
    targets: list[DataResource] = []
    if person is not None:
        counts["rules"] += _rules(
            person,
            [
                {"kind": "schema", "name": "人口基础信息结构"},
                {"kind": "row_count", "name": "人口记录数不少于1000", "options": {"min": 1000}},
                {"kind": "missing", "name": "姓名不得缺失", "column": "name"},
                {"kind": "invalid", "name": "公民身份号码校验位（GB 11643）", "column": "id_number"},
                {"kind": "invalid", "name": "性别代码（GB/T 2261.1）", "column": "gender"},
                {"kind": "invalid", "name": "居住地区划代码（GB/T 2260）", "column": "division_code"},
                {"kind": "invalid", "name": "手机号码格式", "column": "phone", "options": {"max_percent": 1}},
                {"kind": "duplicate", "name": "公民身份号码不重复", "column": "id_number"},
                {"kind": "freshness", "name": "人口基础信息更新及时"},
            ]
            + (
                [
                    {
                        "kind": "reference",
                        "name": "居住地区划在区划库中",
                        "column": "division_code",
                        "options": {"resource": divisions.code, "column": "code"},
                    }
                ]
                if divisions is not None
                else []
            ),
        )
        targets.append(person)
    if organisation is not None:
        counts["rules"] += _rules(
            organisation,
            [
                {"kind": "invalid", "name": "统一社会信用代码校验位（GB 32100）", "column": "uscc"},
                {"kind": "invalid", "name": "法人类型代码", "column": "kind"},
                {"kind": "duplicate", "name": "统一社会信用代码不重复", "column": "uscc"},
                {
                    "kind": "missing",
                    "name": "法定代表人不得缺失",
                    "column": "legal_representative",
                    "options": {"max_percent": 5},
                },
                {"kind": "freshness", "name": "法人基础信息更新及时"},
            ],
        )
        targets.append(organisation)
    if abnormal is not None and organisation is not None:
        counts["rules"] += _rules(
            abnormal,
            [
                {
                    "kind": "invalid",
                    "name": "经营异常名录统一社会信用代码校验位",
                    "column": "uscc",
                    "options": {"validator": "gb32100"},
                },
                {
                    "kind": "consistency",
                    "name": "企业名称与法人库一致",
                    "column": "name",
                    "options": {
                        "resource": organisation.code,
                        "column": "name",
                        "key": "uscc",
                        "other_key": "uscc",
                    },
                },
                {"kind": "freshness", "name": "经营异常名录更新及时"},
            ],
        )
        targets.append(abnormal)
    if civil is not None:
        now = timezone.now()
        elder, made = _dataset_resource(
            code=f"{division[:6]}-{civil.code}-Q0001",
            name="高龄津贴发放核对名单",
            summary="民政局每日报送的高龄津贴发放核对名单（演示：含校验位错误的身份证号和无效性别代码）。",
            provider=civil,
            cycle=DataResource.UpdateCycle.DAILY,
            fields=ELDER_FIELDS,
            columns=[f[0] for f in ELDER_FIELDS],
            rows=_elder_rows(rng, town),
            updated_at=now - timedelta(hours=6),
        )
        counts["resources"] += int(made)
        counts["rules"] += _rules(
            elder,
            [
                {"kind": "schema", "name": "核对名单结构"},
                {"kind": "invalid", "name": "公民身份号码校验位（GB 11643）", "column": "id_number"},
                {"kind": "invalid", "name": "性别代码（GB/T 2261.1）", "column": "gender"},
                {"kind": "duplicate", "name": "公民身份号码不重复", "column": "id_number"},
                {"kind": "missing", "name": "发放金额不得缺失", "column": "monthly_amount"},
                {"kind": "freshness", "name": "核对名单每日更新"},
            ],
        )
        targets.append(elder)
        insurance, made = _dataset_resource(
            code=f"{division[:6]}-{civil.code}-Q0002",
            name="城乡居民医保参保登记（季度报送）",
            summary="按季度报送的城乡居民医保参保登记（演示：已超过更新周期未报送）。",
            provider=civil,
            cycle=DataResource.UpdateCycle.QUARTERLY,
            fields=INSURANCE_FIELDS,
            columns=[f[0] for f in INSURANCE_FIELDS],
            rows=_insurance_rows(rng, town),
            updated_at=now - timedelta(days=200),
        )
        counts["resources"] += int(made)
        counts["rules"] += _rules(
            insurance,
            [
                {"kind": "invalid", "name": "公民身份号码校验位（GB 11643）", "column": "id_number"},
                {"kind": "row_count", "name": "参保记录数", "options": {"min": 100}},
                {"kind": "freshness", "name": "按季度更新"},
            ],
        )
        targets.append(insurance)
    for resource in targets:
        if QualityRun.objects.filter(resource=resource).exists():
            continue
        run = _new_run(resource=resource, trigger=QualityRun.Trigger.SCHEDULE, actor=None)
        quality_run_execute(run=run)
        counts["runs"] += 1
    return counts


def _resource_by_target_name(target: str, word: str) -> DataResource | None:
    return (
        DataResource.objects.filter(
            mount_target=target, name__contains=word, status=DataResource.Status.PUBLISHED
        )
        .order_by("code")
        .first()
    )
