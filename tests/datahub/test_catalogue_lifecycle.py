"""The catalogue lifecycle services: register → fields → mount → submit → review → new version → retire, and the
moves they refuse (another department, a citizen, incomplete submissions, non-centre review, stale versions)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.datahub.factories import ShareGrantFactory, ShareRequestFactory
from tests.datahub.world_catalogue import FIELDS, META, build_catalogue_world, draft, published, ready
from yiwang.core.models import AuditEntry, Notification
from yiwang.datahub.models import DataResource, GradePolicy, ResourceEvent, ShareGrant
from yiwang.datahub.services import catalogue as services
from yiwang.datahub.services.catalogue import ResourceConflict


@pytest.fixture
def cworld(db, media_and_fast_passwords):
    return build_catalogue_world()


S = DataResource.Status


def test_full_lifecycle_with_events_audit_and_code(cworld):
    w = cworld
    resource = draft(w)
    assert resource.status == S.DRAFT and resource.code == "440199-MZJ-00001"
    assert draft(w).code == "440199-MZJ-00002"
    resource = ready(w)
    assert resource.status == S.MOUNTED and resource.mount_target == "core.person"
    resource = services.resource_submit(actor=w.p(w.mzj_officer), resource=resource)
    # a field graded 重要 raises the resource's grade
    assert resource.status == S.IN_REVIEW and resource.grade == "important"
    resource = services.resource_review(actor=w.p(w.centre), resource=resource, approve=True, note="同意")
    assert resource.status == S.PUBLISHED and resource.released_on is not None
    actions = list(
        ResourceEvent.objects.filter(resource=resource).order_by("seq").values_list("action", flat=True)
    )
    assert actions == ["register", "fields_set", "mount", "submit", "publish"]
    assert AuditEntry.objects.filter(
        object_id=str(resource.public_id), action="datahub.resource.publish"
    ).exists()
    # fields: element bound, default mask from the grade policy
    fields = {f.name: f for f in resource.fields.select_related("element")}
    assert fields["id_number"].element.identifier == "DE00001"
    assert fields["id_number"].default_mask == "MASK_SHOW_LAST_4"  # 重要 → built-in default
    assert fields["name"].default_mask == "none"
    assert fields["amount"].no_share_basis
    assert "低保" in resource.search_text


def test_centre_registers_for_any_department_officer_only_for_own(cworld):
    w = cworld
    assert draft(w, w.centre, provider=w.gaj).provider == w.gaj
    with pytest.raises(PermissionDenied):
        draft(w, w.mzj_officer, provider=w.gaj)
    with pytest.raises(PermissionDenied):
        draft(w, w.citizen, provider=w.mzj)
    with pytest.raises(PermissionDenied):
        draft(w, w.clerk, provider=w.gaj)
    assert DataResource.objects.count() == 1


def test_another_departments_officer_cannot_edit_mount_submit(cworld):
    w = cworld
    resource = ready(w)
    other = w.p(w.gaj_officer)
    with pytest.raises(PermissionDenied):
        services.resource_update(actor=other, resource=resource, name="改名")
    with pytest.raises(PermissionDenied):
        services.resource_fields_set(actor=other, resource=resource, fields=FIELDS)
    with pytest.raises(PermissionDenied):
        services.resource_mount(
            actor=other, resource=resource, mount_kind="registry", mount_target="core.person"
        )
    with pytest.raises(PermissionDenied):
        services.resource_submit(actor=other, resource=resource)
    resource.refresh_from_db()
    assert resource.name == META["name"] and resource.status == S.MOUNTED


def test_submit_needs_fields_mount_conditions_and_bases(cworld):
    w = cworld
    officer = w.p(w.mzj_officer)
    resource = draft(w)
    with pytest.raises(ValidationError) as exc:
        services.resource_submit(actor=officer, resource=resource)
    assert "fields" in exc.value.message_dict and "mount_kind" in exc.value.message_dict
    services.resource_mount(
        actor=officer, resource=resource, mount_kind="registry", mount_target="core.person"
    )
    bad = [
        {"name": "a", "label": "条件字段", "share_type": "conditional", "data_class": "personal"},
        {"name": "b", "label": "不共享字段", "share_type": "none", "data_class": "personal"},
    ]
    services.resource_fields_set(actor=officer, resource=resource, fields=bad)
    with pytest.raises(ValidationError) as exc:
        services.resource_submit(actor=officer, resource=resource)
    assert set(exc.value.message_dict) == {"fields.0.share_condition", "fields.1.no_share_basis"}
    resource.refresh_from_db()
    assert resource.status == S.MOUNTED


def test_resource_level_conditions_checked_on_register(cworld):
    with pytest.raises(ValidationError) as exc:
        draft(cworld, share_type="none", share_condition="")
    assert "no_share_basis" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        draft(cworld, share_type="conditional", share_condition="")
    assert "share_condition" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        draft(cworld, resource_class="bogus", name="")
    assert {"resource_class", "name"} <= set(exc.value.message_dict)


def test_fields_set_rejects_bad_rows(cworld):
    w = cworld
    resource = draft(w)
    rows = [
        {"name": "Bad Name", "label": "x", "share_type": "unconditional", "data_class": "personal"},
        {"name": "ok", "label": "", "share_type": "sometimes", "data_class": "x", "element": "DE99999"},
        {"name": "ok", "label": "重复", "share_type": "unconditional", "data_class": "personal"},
    ]
    with pytest.raises(ValidationError) as exc:
        services.resource_fields_set(actor=w.p(w.mzj_officer), resource=resource, fields=rows)
    keys = set(exc.value.message_dict)
    assert {"fields.0.name", "fields.1.label", "fields.1.share_type", "fields.1.data_class"} <= keys
    assert {"fields.1.element", "fields.2.name"} <= keys
    assert not resource.fields.exists()


def test_only_the_centre_reviews_and_return_needs_reason(cworld):
    w = cworld
    resource = services.resource_submit(actor=w.p(w.mzj_officer), resource=ready(w))
    with pytest.raises(PermissionDenied):
        services.resource_review(actor=w.p(w.mzj_officer), resource=resource, approve=True)
    with pytest.raises(PermissionDenied):
        services.resource_review(actor=w.p(w.gaj_officer), resource=resource, approve=True)
    with pytest.raises(ValidationError):
        services.resource_review(actor=w.p(w.centre), resource=resource, approve=False, note="")
    returned = services.resource_review(
        actor=w.p(w.centre), resource=resource, approve=False, note="摘要不完整"
    )
    assert returned.status == S.DRAFT and returned.review_note == "摘要不完整"
    assert Notification.objects.filter(recipient=w.mzj_officer.account, body="摘要不完整").exists()
    # a returned resource can be fixed and submitted again
    services.resource_update(actor=w.p(w.mzj_officer), resource=returned, summary="补充后的摘要")
    assert services.resource_submit(actor=w.p(w.mzj_officer), resource=returned).status == S.IN_REVIEW


def test_stale_row_version_is_refused(cworld):
    w = cworld
    resource = draft(w)
    seen = resource.row_version
    services.resource_update(actor=w.p(w.mzj_officer), resource=resource, row_version=seen, name="新名称")
    with pytest.raises(ResourceConflict):
        services.resource_update(actor=w.p(w.mzj_officer), resource=resource, row_version=seen, name="覆盖")
    resource.refresh_from_db()
    assert resource.name == "新名称"


def test_published_is_not_editable_and_wrong_moves_conflict(cworld):
    w = cworld
    resource = published(w)
    officer = w.p(w.mzj_officer)
    with pytest.raises(ResourceConflict):
        services.resource_update(actor=officer, resource=resource, name="x")
    with pytest.raises(ResourceConflict):
        services.resource_submit(actor=officer, resource=resource)
    with pytest.raises(ResourceConflict):
        services.resource_review(actor=w.p(w.centre), resource=resource, approve=True)


def test_new_version_publish_supersedes_and_moves_grants(cworld):
    w = cworld
    v1 = published(w)
    grant = ShareGrantFactory(
        request=ShareRequestFactory(resource=v1, requester=w.gaj, state="active", fields=["name", "amount"]),
    )
    officer = w.p(w.mzj_officer)
    v2 = services.resource_version_new(actor=officer, resource=v1)
    assert (v2.version, v2.status, v2.previous_id, v2.code) == (2, S.DRAFT, v1.pk, v1.code)
    assert v2.fields.count() == 3 and v2.mount_target == "core.person"
    with pytest.raises(ResourceConflict):
        services.resource_version_new(actor=officer, resource=v1)
    services.resource_fields_set(actor=officer, resource=v2, fields=FIELDS[:2])
    services.resource_submit(actor=officer, resource=v2)
    v2 = services.resource_review(actor=w.p(w.centre), resource=v2, approve=True)
    v1.refresh_from_db()
    grant.refresh_from_db()
    assert v1.status == S.SUPERSEDED and v2.status == S.PUBLISHED
    assert grant.resource_id == v2.pk and grant.status == ShareGrant.Status.ACTIVE
    assert grant.request.resource_id == v2.pk
    note = Notification.objects.get(recipient=w.gaj_officer.account)
    assert "amount" in note.body  # the dropped field is named


def test_retire_notifies_holders_and_leaves_grants_to_lapse(cworld):
    w = cworld
    resource = published(w)
    grant = ShareGrantFactory(request=ShareRequestFactory(resource=resource, requester=w.gaj, state="active"))
    with pytest.raises(ValidationError):
        services.resource_retire(actor=w.p(w.mzj_officer), resource=resource, notice="")
    with pytest.raises(PermissionDenied):
        services.resource_retire(actor=w.p(w.gaj_officer), resource=resource, notice="停止")
    retired = services.resource_retire(actor=w.p(w.mzj_officer), resource=resource, notice="数据并入新系统")
    grant.refresh_from_db()
    assert retired.status == S.RETIRED and retired.retire_notice == "数据并入新系统"
    assert grant.status == ShareGrant.Status.ACTIVE  # not live any more: its resource is not published
    assert Notification.objects.filter(recipient=w.gaj_officer.account, body="数据并入新系统").exists()
    with pytest.raises(ResourceConflict):
        services.resource_retire(actor=w.p(w.mzj_officer), resource=retired, notice="再次")


def test_mount_targets_are_checked(cworld):
    w = cworld
    officer = w.p(w.mzj_officer)
    resource = draft(w)
    for kind, target in (
        ("registry", "core.nothing"),
        ("registry", ""),
        ("bogus", "x"),
        ("external_api", "ftp://x"),
    ):
        with pytest.raises(ValidationError):
            services.resource_mount(actor=officer, resource=resource, mount_kind=kind, mount_target=target)
    with pytest.raises(ValidationError) as exc:
        services.resource_mount(
            actor=officer,
            resource=resource,
            mount_kind="external_api",
            mount_target="https://api.example.gov/x",
        )
    assert "mount_options" in exc.value.message_dict
    from tests.datahub.factories import RegisteredSystemFactory

    other_system = RegisteredSystemFactory(department=w.gaj)
    with pytest.raises(ValidationError):
        services.resource_mount(
            actor=officer,
            resource=resource,
            mount_kind="external_api",
            mount_target="https://api.example.gov/x",
            mount_options={"system": other_system.client_id},
        )
    own = RegisteredSystemFactory(department=w.mzj)
    mounted = services.resource_mount(
        actor=officer,
        resource=resource,
        mount_kind="external_api",
        mount_target="https://api.example.gov/x",
        mount_options={"system": own.client_id},
    )
    assert mounted.status == S.MOUNTED and mounted.mount_options == {"system": own.client_id}


def test_dataset_upload_csv_and_refusals(cworld):
    w = cworld
    officer = w.p(w.mzj_officer)
    resource = draft(w)
    text = "身份证号,姓名,amount\n440199196001010011,张三,800\n440199196001010022,李四,900\n"
    upload = SimpleUploadedFile("低保.csv", text.encode("utf-8-sig"), content_type="text/csv")
    mounted = services.resource_mount(actor=officer, resource=resource, mount_kind="dataset", file=upload)
    assert mounted.mount_options["columns"] == ["身份证号", "姓名", "amount"]
    assert mounted.mount_options["rows"] == 2 and mounted.format == "file"
    assert list(mounted.fields.values_list("name", flat=True)) == ["c01", "c02", "amount"]
    from yiwang.datahub.catalogue_datasets import dataset_load

    assert dataset_load(mounted.mount_options["file"])[1][1] == "张三"
    for name, data in (
        ("x.csv", b"%PDF-1.4 fake"),
        ("x.csv", b""),
        ("x.xlsx", b"PK\x03\x04garbage"),
        ("x.csv", b"a,b\x00c\n1,2\n"),
    ):
        with pytest.raises(ValidationError):
            services.resource_mount(
                actor=officer, resource=mounted, mount_kind="dataset", file=SimpleUploadedFile(name, data)
            )


def _xlsx(rows: list[list[str]]) -> bytes:
    import zipfile

    cells = "".join(
        "<row>" + "".join(f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in row) + "</row>"
        for row in rows
    )
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}"><sheets><sheet name="s" sheetId="1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{main}"><sheetData>{cells}</sheetData></worksheet>',
        )
    return buffer.getvalue()


def test_dataset_upload_xlsx(cworld):
    w = cworld
    resource = draft(w)
    data = _xlsx([["name", "年龄"], ["王五", "81"]])
    mounted = services.resource_mount(
        actor=w.p(w.mzj_officer),
        resource=resource,
        mount_kind="dataset",
        file=SimpleUploadedFile("高龄.xlsx", data),
    )
    assert mounted.mount_options["columns"] == ["name", "年龄"] and mounted.mount_options["rows"] == 1


def test_grade_policy_set_by_centre_only(cworld):
    w = cworld
    with pytest.raises(PermissionDenied):
        services.grade_policy_set(actor=w.p(w.mzj_officer), grade="important", default_mask="MASK")
    with pytest.raises(ValidationError):
        services.grade_policy_set(actor=w.p(w.centre), grade="important", default_mask="NOPE")
    services.grade_policy_set(
        actor=w.p(w.centre), grade="important", default_mask="MASK_HASH", export_limit=500
    )
    policy = GradePolicy.objects.get(grade="important")
    assert policy.default_mask == "MASK_HASH" and policy.export_limit == 500
    resource = draft(w)
    fields = services.resource_fields_set(actor=w.p(w.mzj_officer), resource=resource, fields=FIELDS)
    assert fields[0].default_mask == "MASK_HASH"
