"""Fixtures of the 告知承诺/容缺 tests: the case tests' frozen clock and world, with 身份证明 allowing a pledge."""

from __future__ import annotations

import itertools

import pytest

from tests.cases.factories import GOOD_FORM, World, build_world, pdf

_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def _media_and_fast_passwords(media_and_fast_passwords):
    """Every test of this package: temporary media root, fast password hashing (tests/conftest.py)."""


@pytest.fixture
def world(db, clock) -> World:
    w = build_world()
    w.id_card.pledge_allowed = True
    w.id_card.save(update_fields=["pledge_allowed"])
    w.item.pledge_verify_days = 20
    w.item.tolerant_days = 5
    w.item.save(update_fields=["pledge_verify_days", "tolerant_days"])
    return w


def p(who):
    return World.p(who)


def submit_pledged(world: World, *, applicant=None, files=None, **extra):
    """A case filed online with 身份证明 replaced by a pledge (经营场所证明 uploaded)."""
    from yiwang.cases import services

    return services.case_submit(
        actor=p(applicant or world.citizen),
        item=world.item,
        form_data=dict(GOOD_FORM),
        files={"premises": [pdf("场所.pdf")]} if files is None else files,
        idempotency_key=f"pledge-{next(_keys)}",
        pledged=["id_card"],
        pledge_accepted=True,
        **extra,
    )


def advance(world: World, case, to: str):
    """Moves a submitted case through the contract process: in_review, in_decision, in_delivery, approved."""
    from yiwang.cases import services

    case = services.case_action_take(actor=p(world.clerk), case=case, action="accept")
    if to == "in_review":
        return case
    case = services.case_action_take(actor=p(world.approver), case=case, action="review", opinion="材料齐全")
    if to == "in_decision":
        return case
    case = services.case_action_take(actor=p(world.head), case=case, action="approve", opinion="同意")
    if to == "in_delivery":
        return case
    return services.case_action_take(actor=p(world.clerk), case=case, action="conclude")


def submit_owing(world: World, *, applicant=None):
    """A case filed online without the tolerant 经营场所证明 (容缺)."""
    from yiwang.cases import services

    return services.case_submit(
        actor=p(applicant or world.citizen),
        item=world.item,
        form_data=dict(GOOD_FORM),
        files={"id_card": [pdf("身份证.pdf")]},
        idempotency_key=f"owing-{next(_keys)}",
        tolerant_missing=["premises"],
    )
