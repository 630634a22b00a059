"""The process declaration: parsing, the small Process API and every validation message."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import ValidationError

from tests.catalog.conftest import process
from yiwang.catalog.process import APPROVED, Process, process_validate


def messages(data) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        process_validate(data)
    return exc.value.messages


def test_standard_process_parses():
    parsed = process_validate(process())
    assert isinstance(parsed, Process)
    assert (
        parsed.first_step.code == "intake"
        and parsed.first_step == "intake"
        and str(parsed.first_step) == "intake"
    )
    assert [s.code for s in parsed.steps] == ["intake", "review", "decision", "delivery"]
    assert parsed.step("review").role == "approver" and parsed.step("review").department == "item"
    assert parsed.step("nope") is None
    assert [t.action for t in parsed.transitions_from("intake")] == [
        "accept",
        "reject_intake",
        "request_supplement",
    ]
    assert parsed.transitions_from("nope") == ()
    approve = parsed.transition("decision", "approve")
    assert approve.to == "delivery" and approve.decision == "approved" and approve.opinion_required
    assert parsed.transition("decision", "deny").decision == "denied"
    assert (
        parsed.transition("intake", "accept").decision is None
        and not parsed.transition("intake", "accept").opinion_required
    )
    assert (
        parsed.transition("delivery", "conclude").to == APPROVED
        and parsed.transition("delivery", "conclude").ends_case
    )
    assert parsed.transition("intake", "approve") is None
    assert parsed.transition("decision", "return").opinion_public is False


@pytest.mark.parametrize(
    ("code", "committed", "days"),
    [
        ("intake", 10, 1),
        ("review", 10, 5),
        ("decision", 10, 3),
        ("delivery", 10, 1),
        ("review", 3, 2),
        ("intake", 1, 1),
        ("decision", 0, 1),
    ],
)
def test_step_days_is_ceil_of_share_and_at_least_one(code, committed, days):
    # 0.3 × 10 is 3 (Decimal), not 4 as float arithmetic would give.
    assert process_validate(process()).step_days(code, committed) == days


def test_other_templates_parse():
    for key in ("inspect", "instant", "public"):
        assert process_validate(process(key)).first_step.code == "intake"


def test_malformed_declarations():
    assert messages([]) == ["办理流程应为 JSON 对象，包含 steps（步骤列表）和 transitions（流转列表）。"]
    assert messages({"steps": [], "transitions": []}) == ["办理流程至少需要一个步骤。"]
    assert messages({"steps": [{"code": "a"}], "transitions": []}) == [
        "第 1 个步骤缺少：name、role、department、share。"
    ]


def test_unknown_role_department_and_shares():
    data = process()
    data["steps"][1]["role"] = "mayor"
    data["steps"][2]["department"] = "anywhere"
    data["steps"][3]["share"] = 0.5
    found = messages(data)
    assert found[0].startswith("步骤“review”的角色“mayor”不存在，可选：approver、")
    assert (
        found[1]
        == "步骤“decision”的办理部门应为 item（事项实施部门）或 intake（综合受理窗口），当前为“anywhere”。"
    )
    assert found[2] == "各步骤时限占比之和为 1.4，不能超过 1。"


@pytest.mark.parametrize("share", [0, -0.1, 1.5, "abc", None, True])
def test_share_out_of_range(share):
    data = process()
    data["steps"][0]["share"] = share
    assert f"步骤“intake”的时限占比应为大于 0 且不超过 1 的数，当前为“{share}”。" in messages(data)


def test_duplicate_step_and_action():
    data = process()
    data["steps"].append(copy.deepcopy(data["steps"][0]))
    data["steps"][-1]["share"] = 0.0001
    data["transitions"].append(copy.deepcopy(data["transitions"][0]))
    found = messages(data)
    assert "步骤编码“intake”重复。" in found
    assert "步骤“intake”的操作“accept”重复声明。" in found


def test_bad_target_and_source():
    data = process()
    data["transitions"][0]["to"] = "nowhere"
    data["transitions"].append({"from": "ghost", "action": "go", "to": "@approved", "label": "去"})
    found = messages(data)
    assert found == [
        "流转“intake → accept”的目标“nowhere”不存在：应为已声明的步骤，或 @approved（准予）、@denied（不予许可）、@rejected（不予受理）、@supplement（补正）。",
        "流转“ghost → go”的起始步骤“ghost”不存在。",
    ]


def test_unreachable_step():
    data = process()
    data["steps"].insert(
        2, {"code": "orphan", "name": "孤立审查", "role": "approver", "department": "item", "share": 0.0}
    )
    data["steps"][2]["share"] = 0.05
    data["steps"][1]["share"] = 0.45
    data["transitions"].append({"from": "orphan", "action": "review", "to": "decision", "label": "审查通过"})
    assert messages(data) == ["步骤“orphan”（孤立审查）无法从首个步骤“intake”到达。"]


def test_dead_end_and_no_approval():
    data = process()
    data["transitions"] = [t for t in data["transitions"] if t["from"] != "delivery"]
    assert messages(data) == [
        "步骤“delivery”（办结出件）无法到达办结状态（准予、不予许可或不予受理），流程会停在这里。",
        "流程中没有任何路径能到达“准予”（@approved）。",
    ]


def test_supplement_loop_alone_is_a_dead_end():
    data = process()
    data["transitions"] = [
        t for t in data["transitions"] if not (t["from"] == "review" and t["action"] == "review")
    ]
    found = messages(data)
    assert "步骤“review”（审查）无法到达办结状态（准予、不予许可或不予受理），流程会停在这里。" in found
    assert "步骤“decision”（决定）无法从首个步骤“intake”到达。" in found


def test_opinion_and_flags_are_checked():
    data = process()
    data["transitions"][0]["opinion"] = "sometimes"
    data["transitions"][1]["opinion_public"] = "no"
    found = messages(data)
    assert found == [
        "流转“intake → accept”的意见要求应为 required 或 optional。",
        "流转“intake → reject_intake”的 opinion_public 应为 true 或 false。",
    ]


def test_bad_codes():
    data = process()
    data["steps"][0]["code"] = "Intake!"
    assert messages(data)[0].startswith("步骤编码“Intake!”无效")
