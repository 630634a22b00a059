"""数据资产登记 services: drafting with the registry's holder, the rights rule, sources (published; another
department's only with a live grant), submit → return → resubmit → register with a signed certificate and a
receipt per step, conflicts, changes and transfers with a new version (the old file verifies as superseded),
cancellation, and the offline file (one byte changed → invalid; the command's exit code)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from tests.datahub.world_assets import asset_kwargs, build_assets_world
from tests.factories import OrganisationFactory
from yiwang.core.models import AuditEntry
from yiwang.core.validators import make_uscc
from yiwang.datahub.asset_certificate import asset_file, asset_file_check, verify_code_display
from yiwang.datahub.models import DataAsset, DataAssetEvent, ShareGrant
from yiwang.datahub.selectors.assets import asset_verify_file, asset_verify_number
from yiwang.datahub.services.assets import (
    AssetConflict,
    asset_cancel,
    asset_change_decide,
    asset_change_request,
    asset_create,
    asset_review,
    asset_submit,
    asset_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    return build_assets_world()


def _registered(w, **kw) -> DataAsset:
    asset = asset_create(actor=w.scj, **asset_kwargs(w, **kw))
    asset = asset_submit(actor=w.scj, asset=asset)
    return asset_review(actor=w.centre, asset=asset, decision="register", review="准予登记")


def test_draft_takes_the_holder_from_the_registry_and_links_the_grant(w):
    asset = asset_create(actor=w.scj, **asset_kwargs(w))
    assert asset.status == "draft" and asset.number is None and asset.version == 0
    assert (asset.holder, asset.holder_name, asset.holder_uscc) == (w.d_scj, w.d_scj.name, w.d_scj.uscc)
    sources = {s.resource.code: s for s in asset.sources.select_related("resource", "grant")}
    assert sources["440199-SCJ-00001"].grant is None
    assert sources["440199-SWJ-00001"].grant == w.grant
    event = asset.events.get()
    assert event.action == "create" and AuditEntry.objects.filter(uuid=event.audit_uuid).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"rights": []}, "rights", "至少选择一项"),
        ({"rights": ["operation"]}, "rights", "加工使用权"),
        ({"rights": ["holding", "owning"]}, "rights", "不在允许范围"),
        ({"name": "  "}, "name", "数据产品名称"),
        ({"producer": ""}, "producer", "加工单位"),
        ({"sources": []}, "sources", "至少填写一项"),
        ({"sources": [{"resource": "440199-SCJ-00009", "legal_basis": "x"}]}, "sources", "已发布"),
        ({"sources": [{"resource": "440199-SWJ-00002", "legal_basis": "x"}]}, "sources", "共享授权"),
        ({"sources": [{"resource": "440199-SCJ-00001", "legal_basis": ""}]}, "sources", "合法性依据"),
        (
            {
                "sources": [
                    {"resource": "440199-SCJ-00001", "legal_basis": "a"},
                    {"resource": "440199-SCJ-00001", "legal_basis": "b"},
                ]
            },
            "sources",
            "重复",
        ),
    ],
)
def test_invalid_drafts_are_refused_field_by_field_and_write_nothing(w, overrides, field, text):
    with pytest.raises(ValidationError) as exc:
        asset_create(actor=w.scj, **asset_kwargs(w, **overrides))
    assert text in " ".join(exc.value.message_dict[field])
    assert (
        not DataAsset.objects.exists()
        and not AuditEntry.objects.filter(action__startswith="data_asset").exists()
    )


def test_a_suspended_or_expired_grant_does_not_count(w):
    ShareGrant.objects.filter(pk=w.grant.pk).update(status=ShareGrant.Status.SUSPENDED)
    with pytest.raises(ValidationError) as exc:
        asset_create(actor=w.scj, **asset_kwargs(w))
    assert "共享授权" in exc.value.message_dict["sources"][0]


def test_only_data_officers_draft_and_only_the_holder_edits(w):
    for actor in (w.clerk_p, w.citizen_p):
        with pytest.raises(PermissionDenied):
            asset_create(actor=actor, **asset_kwargs(w))
    asset = asset_create(actor=w.scj, **asset_kwargs(w))
    with pytest.raises(PermissionDenied):
        asset_update(actor=w.mzj, asset=asset, name="改名")
    with pytest.raises(PermissionDenied):
        asset_submit(actor=w.scs, asset=asset)  # the 所 below SCJ does not act for SCJ
    with pytest.raises(PermissionDenied):
        asset_review(actor=w.scj, asset=asset, decision="register", review="x")


def test_return_resubmit_register_signs_a_certificate_with_a_receipt_per_step(w):
    asset = asset_create(actor=w.scj, **asset_kwargs(w, compliance_note=""))
    with pytest.raises(ValidationError) as exc:
        asset_submit(actor=w.scj, asset=asset)
    assert "合规说明" in exc.value.message_dict["compliance_note"][0]
    asset = asset_update(actor=w.scj, asset=asset, compliance_note="来源合法。")
    asset = asset_submit(actor=w.scj, asset=asset)
    asset = asset_review(actor=w.centre, asset=asset, decision="return", review="请补充价值评估依据")
    assert asset.status == "returned" and asset.compliance_review == "请补充价值评估依据"
    asset = asset_update(actor=w.scj, asset=asset, valuation_note="成本法，附评估报告。")
    asset = asset_submit(actor=w.scj, asset=asset)
    asset = asset_review(actor=w.centre, asset=asset, decision="register", review="准予登记")
    assert asset.status == "registered" and asset.version == 1 and asset.registered_at
    assert asset.number.startswith("ZC20260302") and len(asset.verify_code) == 8
    payload = asset.certificate
    assert payload["number"] == asset.number and payload["holder"]["uscc"] == w.d_scj.uscc
    assert [s["code"] for s in payload["sources"]] == ["440199-SCJ-00001", "440199-SWJ-00001"]
    assert [r["name"] for r in payload["rights"]] == ["数据资源持有权", "数据加工使用权", "数据产品经营权"]
    assert asset_file_check(asset_file(asset)).ok
    actions = list(asset.events.order_by("seq").values_list("action", flat=True))
    assert actions == ["create", "edit", "submit", "return", "edit", "submit", "register"]
    uuids = list(asset.events.values_list("audit_uuid", flat=True))
    assert AuditEntry.objects.filter(uuid__in=uuids).count() == len(uuids)
    register = AuditEntry.objects.get(uuid=asset.events.get(action="register").audit_uuid)
    assert register.after["certificate_sm3"] and register.after["number"] == asset.number


def test_reject_is_final_and_a_stale_version_conflicts(w):
    asset = asset_create(actor=w.scj, **asset_kwargs(w))
    stale = DataAsset.objects.get(pk=asset.pk)
    asset_submit(actor=w.scj, asset=asset)
    with pytest.raises(AssetConflict):
        asset_update(actor=w.scj, asset=stale, name="另一个名字")
    fresh = DataAsset.objects.get(pk=asset.pk)
    with pytest.raises(ValidationError) as exc:
        asset_review(actor=w.centre, asset=fresh, decision="register", review="")
    assert "审查意见" in exc.value.message_dict["review"][0]
    asset_review(actor=w.centre, asset=fresh, decision="reject", review="来源不清")
    with pytest.raises(AssetConflict):
        asset_submit(actor=w.scj, asset=DataAsset.objects.get(pk=asset.pk))


def test_registration_rechecks_the_grant(w):
    asset = asset_create(actor=w.scj, **asset_kwargs(w))
    asset_submit(actor=w.scj, asset=asset)
    ShareGrant.objects.filter(pk=w.grant.pk).update(status=ShareGrant.Status.REVOKED)
    with pytest.raises(ValidationError):
        asset_review(
            actor=w.centre, asset=DataAsset.objects.get(pk=asset.pk), decision="register", review="ok"
        )
    assert DataAsset.objects.get(pk=asset.pk).status == "submitted"


def test_change_makes_a_new_version_and_the_old_file_verifies_as_superseded(w):
    asset = _registered(w)
    old_file = json.loads(json.dumps(asset_file(asset)))
    with pytest.raises(ValidationError) as exc:
        asset_change_request(
            actor=w.scj, asset=asset, kind="change", note="同", values={"description": asset.description}
        )
    assert "相同" in " ".join(exc.value.messages)
    asset = asset_change_request(
        actor=w.scj,
        asset=DataAsset.objects.get(pk=asset.pk),
        kind="change",
        note="增加年报数据",
        values={
            "valuation_note": "收益法约 60 万元。",
            "sources": [
                {"resource": "440199-SCJ-00001", "legal_basis": "条例第三十五条"},
                {"resource": "440199-SCJ-00002", "legal_basis": "《企业信息公示暂行条例》"},
            ],
        },
    )
    assert asset.pending_change["kind"] == "change" and asset.status == "registered"
    assert asset_verify_file(old_file).result == "valid"  # the certificate in force stays valid meanwhile
    asset = asset_change_decide(actor=w.centre, asset=asset, approve=True, review="准予变更")
    assert asset.version == 2 and asset.pending_change == {} and asset.valuation_note == "收益法约 60 万元。"
    assert [s["code"] for s in asset.certificate["sources"]] == ["440199-SCJ-00001", "440199-SCJ-00002"]
    old = asset_verify_file(old_file)
    assert old.result == "superseded" and old.version == 1 and old.current_version == 2
    assert asset_verify_file(asset_file(asset)).result == "valid"
    event = asset.events.get(action="change")
    assert event.detail["superseded"]["version"] == 1 and event.detail["certificate"]["version"] == 2


def test_change_rejected_keeps_the_certificate(w):
    asset = _registered(w)
    asset = asset_change_request(
        actor=w.scj,
        asset=asset,
        kind="change",
        note="去掉经营权",
        values={"rights": ["holding", "processing"]},
    )
    asset = asset_change_decide(actor=w.centre, asset=asset, approve=False, review="不予变更")
    assert asset.version == 1 and asset.rights == ["holding", "processing", "operation"]
    assert asset.events.filter(action="change_reject").exists()


def test_transfer_to_another_department_records_both_parties(w):
    asset = _registered(w, sources=[{"resource": w.r_company, "legal_basis": "条例"}])
    asset = asset_change_request(
        actor=w.scj, asset=asset, kind="transfer", note="职能调整", values={"to_department": "MZJ"}
    )
    asset = asset_change_decide(actor=w.centre, asset=asset, approve=True, review="准予转让")
    assert asset.holder == w.d_mzj and asset.holder_uscc == w.d_mzj.uscc and asset.version == 2
    assert asset.certificate["holder"] == {"name": "民政局", "uscc": w.d_mzj.uscc}
    parties = asset.events.get(action="transfer").detail["parties"]
    assert parties["from"]["uscc"] == w.d_scj.uscc and parties["to"]["uscc"] == w.d_mzj.uscc


def test_transfer_to_an_enterprise_validates_gb32100_and_takes_the_registry_name(w):
    asset = _registered(w)
    with pytest.raises(ValidationError) as exc:
        asset_change_request(
            actor=w.scj, asset=asset, kind="transfer", note="转让", values={"to_uscc": "91440101MA5XXXXX0X"}
        )
    assert "统一社会信用代码" in exc.value.message_dict["to_uscc"][0]
    uscc = make_uscc("9", "1", "440199", "MA5ABCD1")
    OrganisationFactory(uscc=uscc, name="示范数据科技有限公司")
    asset = asset_change_request(
        actor=w.scj,
        asset=DataAsset.objects.get(pk=asset.pk),
        kind="transfer",
        note="转让",
        values={"to_uscc": uscc, "to_name": "客户端写的名字"},
    )
    assert asset.pending_change["to"]["name"] == "示范数据科技有限公司"
    asset = asset_change_decide(actor=w.centre, asset=asset, approve=True, review="准予")
    assert asset.holder_uscc == uscc and asset.certificate["holder"]["name"] == "示范数据科技有限公司"


def test_cancel_then_verification_says_cancelled(w):
    asset = _registered(w)
    with pytest.raises(ValidationError):
        asset_cancel(actor=w.scj, asset=asset, reason="")
    with pytest.raises(PermissionDenied):
        asset_cancel(actor=w.mzj, asset=asset, reason="x")
    asset = asset_cancel(actor=w.scj, asset=asset, reason="产品停止运营")
    assert asset.status == "cancelled"
    assert asset_verify_file(asset_file(asset)).result == "cancelled"
    found = asset_verify_number(asset.number, verify_code_display(asset.verify_code))
    assert found.result == "cancelled" and found.name == asset.name


def test_verification_by_number_needs_the_right_code(w):
    asset = _registered(w)
    good = asset_verify_number(asset.number, asset.verify_code.lower())
    assert good.result == "valid" and good.holder_uscc == w.d_scj.uscc
    assert asset_verify_number(asset.number, "").result == "not_found"
    assert asset_verify_number(asset.number, "ABCD-EFGH").result == "not_found"
    assert asset_verify_number("ZC000", asset.verify_code).result == "not_found"


def test_one_byte_changed_makes_the_file_invalid(w, tmp_path, capsys):
    asset = _registered(w)
    document = asset_file(asset)
    path = tmp_path / "cert.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    call_command("asset_verify", str(path))
    assert "VALID " + asset.number in capsys.readouterr().out
    tampered = json.loads(json.dumps(document))
    tampered["payload"]["holder"]["name"] = tampered["payload"]["holder"]["name"][:-1] + "X"
    tampered.pop("digest_sm3")
    assert asset_file_check(tampered).code == "signature"
    assert asset_verify_file(tampered).result == "invalid"
    raw = bytearray(path.read_bytes())
    index = raw.index(b'"version": 1') + len(b'"version": ')
    raw[index : index + 1] = b"2"
    path.write_bytes(bytes(raw))
    with pytest.raises(SystemExit) as exc:
        call_command("asset_verify", str(path))
    assert exc.value.code == 1 and "INVALID" in capsys.readouterr().out


def test_events_are_add_only(w):
    asset = asset_create(actor=w.scj, **asset_kwargs(w))
    event = DataAssetEvent.objects.get(asset=asset)
    event.note = "改写"
    with pytest.raises(Exception):  # noqa: B017,PT011 - AddOnlyError
        event.save()


def test_a_parent_departments_officer_acts_for_the_departments_below(w):
    from tests.datahub.factories import DataResourceFactory
    from yiwang.datahub.selectors.assets import asset_get, assets_visible

    own = DataResourceFactory(provider=w.d_scs, name="辖区市场主体巡查信息", code="440199-SCJ01-00001")
    asset = asset_create(actor=w.scs, **asset_kwargs(w, sources=[{"resource": own, "legal_basis": "x"}]))
    assert asset.holder == w.d_scs
    assert asset_get(w.scj, asset.public_id) == asset
    assert [a.pk for a in assets_visible(w.scj, tab="mine").items] == [asset.pk]
    assert assets_visible(w.mzj).items == [] and assets_visible(w.citizen_p).items == []
    assert asset_submit(actor=w.scj, asset=asset).status == "submitted"


def test_the_centre_hears_of_submissions_and_the_holder_of_answers(w):
    from yiwang.core.models import Notification

    asset = asset_submit(actor=w.scj, asset=asset_create(actor=w.scj, **asset_kwargs(w)))
    told = Notification.objects.filter(object_id=str(asset.public_id))
    assert list(told.values_list("recipient", flat=True)) == [w.centre_officer.account_id]
    asset_review(actor=w.centre, asset=asset, decision="return", review="请补正")
    assert told.filter(recipient=w.scj_officer.account).get().body == "请补正"
    assert not told.filter(recipient=w.mzj_officer.account).exists()
