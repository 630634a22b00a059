"""bundle_submit: one form, one set of materials, one submission → a BundleCase and a sub-case per item."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.cases.models import BundleCase, BundlePart, Case, CaseFile
from yiwang.core.models import AuditEntry, Notification

from .conftest import GOOD, World, all_files, parts_of, pdf, submit

pytestmark = pytest.mark.django_db


def test_submit_files_the_parts_without_prerequisites_each_in_its_department(world):
    bc = submit(world)
    assert re.fullmatch(r"YJS-20260302-\d{5}", bc.number)
    assert bc.state == BundleCase.State.IN_PROGRESS and bc.outcome == ""
    parts = parts_of(bc)
    assert parts["TST-QR-001"].state == BundlePart.State.FILED
    assert parts["TST-XK-002"].state == BundlePart.State.FILED
    waiting = parts["TST-XK-001"]
    assert (
        waiting.state == BundlePart.State.WAITING and waiting.case is None and waiting.after == ["TST-QR-001"]
    )
    a, c = parts["TST-QR-001"].case, parts["TST-XK-002"].case
    assert a.department == world.scj and c.department == world.cgj
    assert a.bundle_case == bc and c.bundle_case == bc
    assert a.state == Case.State.SUBMITTED and a.number.startswith("SCJ-") and c.number.startswith("CGJ-")
    assert a.form_data["shop_name"] == "张三小吃" and "shop_name" not in c.form_data
    assert c.form_data["sign_size"] == 3
    # the deadline: the latest sub-case's, and an estimate for the waiting permit after the licence
    assert bc.due_date > max(a.due_date, c.due_date)
    assert AuditEntry.objects.filter(action="bundle.submit", object_id=str(bc.public_id)).count() == 1


def test_a_material_uploaded_once_reaches_every_sub_case_that_needs_it(world):
    bc = submit(world)
    parts = parts_of(bc)
    a, c = parts["TST-QR-001"].case, parts["TST-XK-002"].case
    id_a = CaseFile.objects.get(case=a, material__code="id_card")
    id_c = CaseFile.objects.get(case=c, material__code="id_card")
    assert id_a.file.name == id_c.file.name  # one stored file, two rows
    assert id_a.file.storage.exists(id_a.file.name)
    assert set(CaseFile.objects.filter(case=a).values_list("material__code", flat=True)) == {
        "id_card",
        "plan",
    }
    assert set(CaseFile.objects.filter(case=c).values_list("material__code", flat=True)) == {
        "id_card",
        "sign",
    }
    assert sorted(bc.form_data["files"]) == ["id_card", "plan", "sign"]


def test_one_notice_for_the_whole_application(world):
    bc = submit(world)
    notices = list(Notification.objects.filter(recipient=world.citizen))
    assert [n.title for n in notices] == ["一件事已提交"]
    body = notices[0].body
    for text in ("营业执照登记", "食品经营许可", "招牌设置备案", "待营业执照登记准予后办理", bc.number):
        assert text in body
    assert str(bc.due_date) in body


def test_every_error_of_every_item_at_once(world):
    data = {**GOOD, "shop_name": "", "sign_size": "大", "area": "-3"}
    with pytest.raises(ValidationError) as caught:
        submit(world, form_data=data, files={"id_card": [pdf()], "unknown": [pdf()]})
    errors = caught.value.message_dict
    assert errors["shop_name"] == ["此项为必填项。"]  # item A
    assert errors["sign_size"] == ["请输入数字。"]  # item C
    assert errors["area"] == ["数值应不小于 1。"]  # item B, which waits: checked now all the same
    assert errors["material_plan"] == ["请上传“场所平面图”。"]
    assert errors["material_sign"] == ["请上传“招牌效果图”。"]
    assert "material_unknown" in errors
    assert not BundleCase.objects.exists() and not Case.objects.exists()


def test_a_tolerant_material_may_be_missing_only_when_tolerated(world):
    with pytest.raises(ValidationError) as caught:
        submit(world, tolerant=())
    assert caught.value.message_dict == {"material_layout": ["请上传“布局图”。"]}
    assert submit(world, tolerant=("layout",)).parts.count() == 3


def test_the_same_key_files_once(world):
    first = submit(world, key="same-key-123")
    again = submit(world, key="same-key-123")
    assert again.pk == first.pk
    assert BundleCase.objects.count() == 1 and Case.objects.count() == 2


def test_a_key_used_for_another_bundle_is_refused(world):
    from .conftest import make_bundle

    other = make_bundle("other", world.scj, [("TST-QR-001", []), ("TST-XK-002", [])], name="另一件事")
    submit(world, key="same-key-456")
    with pytest.raises(ValidationError) as caught:
        submit(world, key="same-key-456", bundle=other)
    assert "idempotency_key" in caught.value.message_dict


def test_numbers_count_up_per_day(world, clock):
    numbers = [submit(world).number for _ in range(3)]
    assert numbers == ["YJS-20260302-00001", "YJS-20260302-00002", "YJS-20260302-00003"]
    clock.set(2026, 3, 3)
    assert submit(world).number == "YJS-20260303-00001"


def test_staff_and_wrong_audience_cannot_apply(world):
    with pytest.raises(PermissionDenied):
        submit(world, account=world.clerk.account)
    with pytest.raises(ValidationError) as caught:
        submit(world, account=world.enterprise)
    assert caught.value.message_dict["bundle"] == ["该一件事面向个人办理，请使用个人账户申请。"]


def test_an_unpublished_bundle_or_a_suspended_item_cannot_be_applied_for(world):
    world.bundle.status = "suspended"
    world.bundle.save()
    with pytest.raises(ValidationError) as caught:
        submit(world)
    assert "bundle" in caught.value.message_dict
    world.bundle.status = "published"
    world.bundle.save()
    world.item_c.status = "suspended"
    world.item_c.save()
    with pytest.raises(ValidationError) as caught:
        submit(world)
    assert "TST-XK-002" in caught.value.message_dict["bundle"][0]


def test_instant_approval_at_submission_files_the_dependent_part_at_once(world, monkeypatch):
    """秒批 may conclude a sub-case inside _start: the part waiting for it is filed in the same submission."""
    from yiwang.cases.instant import services as instant

    def approve_licence(*, case):
        if case.item.code == "TST-QR-001":
            instant.case_conclude_automatically(case=case, action="instant_approve", opinion="规则全部通过")

    monkeypatch.setattr(instant, "case_instant_evaluate", approve_licence)
    bc = submit(world)
    parts = parts_of(bc)
    assert parts["TST-QR-001"].case.state == Case.State.APPROVED
    permit = parts["TST-XK-001"]
    assert permit.state == BundlePart.State.FILED and permit.case.department == world.scj
    assert permit.case.state == Case.State.SUBMITTED
    assert CaseFile.objects.filter(case=permit.case, material__code="id_card").exists()
    # 容缺: the permit was filed without its tolerated layout, and its history says so
    assert "容缺受理" in permit.case.history.get(seq=1).opinion
    assert [n.title for n in Notification.objects.filter(recipient=world.citizen)] == ["一件事已提交"]


def test_the_applicant_fields_are_checked_per_item_but_stored_once(world):
    bc = submit(world)
    assert bc.form_data["fields"]["applicant_name"] == world.citizen.person.name  # from the registry
    assert set(bc.form_data["fields"]) == {
        "applicant_name",
        "business_address",
        "shop_name",
        "area",
        "sign_size",
    }
    assert World.p(world.citizen).account.pk == bc.applicant_account_id


def test_files_of_the_api_shape_are_accepted(world):
    files = {k: v[0] for k, v in all_files().items()}  # one upload per code, not a list
    assert submit(world, files=files).parts.count() == 3
