"""The 公文 and 督办 workbench sources as hand-written SQL: one statement per items() and per count(), and the same
pages, counts and cursors as their ORM definitions (documents_todo / tasks_todo) — ties, documents without a
deadline, documents and tasks out of the caller's reach (another unit, another holder, above the clearance),
paging through every item with limit 1 and 2, cursors of other sources, and the due_before filter."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.collab.workbench_orm_reference import documents_todo, tasks_todo
from tests.collab.world import build_collab_world, principal
from tests.factories import staff_with_roles
from yiwang.collab.models import Task, TaskUnit
from yiwang.collab.models.documents import Confidentiality, Document, DocumentParty, RoleClearance
from yiwang.collab.workbench_documents import (
    ACTIONS,
    DIRECTION_LABELS,
    STEP_LABELS,
    DocumentsSource,
)
from yiwang.collab.workbench_tasks import TasksSource
from yiwang.core.fields import choice_label
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.core.workbench import FAR, LOCAL, Cursor, TodoItem, TodoQuery, after_q, day_end

pytestmark = pytest.mark.django_db

Step = Document.Step
S = Task.Status
_seq = count(1)


@pytest.fixture
def w(db, clock):
    return build_collab_world()


# --- the previous ORM definitions (the reference) ----------------------------------------------------------
def _orm_documents(p, query: TodoQuery) -> list[TodoItem]:
    branches = documents_todo(p, after_q(query, "collab.documents", "due_on", "public_id", dates=True))
    if not branches:
        return []
    columns = ("public_id", "title", "number", "step", "due_on", "direction")
    first, *rest = [branch.values_list(*columns) for branch in branches]
    united = first.union(*rest) if rest else first
    rows = united.order_by(F("due_on").asc(nulls_last=True), "public_id")[: query.limit]
    return [
        TodoItem(
            source="collab.documents",
            key=str(public_id),
            title=title,
            action=str(ACTIONS.get(step) or STEP_LABELS.get(step, step)),
            url=reverse("collab:document_detail", args=[public_id]),
            deadline=day_end(due_on) if due_on else None,
            reference=number,
            state=f"{DIRECTION_LABELS.get(direction, direction)} · {STEP_LABELS.get(step, step)}",
        )
        for public_id, title, number, step, due_on, direction in rows
    ]


def _orm_documents_count(p, due_before=None) -> int:
    query = TodoQuery(due_before=due_before)
    branches = documents_todo(p, after_q(query, "collab.documents", "due_on", "public_id", dates=True))
    if not branches:
        return 0
    first, *rest = [branch.values_list("public_id") for branch in branches]
    return (first.union(*rest) if rest else first).count()


def _orm_action(task) -> str:
    if task.status == S.SUBMITTED:
        return "审核办结"
    if task.wb_accept:
        return "签收"
    return "报送进展" if task.wb_due != task.due_on else "办理"


def _orm_tasks(p, query: TodoQuery) -> list[TodoItem]:
    rows = (
        tasks_todo(p)
        .filter(after_q(query, "collab.tasks", "wb_due", "code", dates=True))
        .order_by("wb_due", "code")[: query.limit]
    )
    return [
        TodoItem(
            source="collab.tasks",
            key=row.code,
            title=row.title,
            action=_orm_action(row),
            url=reverse("collab:task_detail", args=[row.public_id]),
            deadline=day_end(row.wb_due),
            reference=row.code,
            state=(
                f"{choice_label(row, 'status')} · {choice_label(row, 'level')}"
                if row.level
                else choice_label(row, "status")
            ),
        )
        for row in rows
    ]


def _orm_tasks_count(p, due_before=None) -> int:
    condition = after_q(TodoQuery(due_before=due_before), "collab.tasks", "wb_due", "code", dates=True)
    return tasks_todo(p).filter(condition).count()


# --- fixtures ----------------------------------------------------------------------------------------------
def _document(w, title, *, step, due=None, holder=None, unit=None, level=Confidentiality.INTERNAL, **kw):
    return Document.objects.create(
        title=title,
        number=f"示范文〔2026〕{next(_seq)}号",
        direction=kw.pop("direction", Document.Direction.OUTGOING),
        department=kw.pop("department", w.d_scj),
        created_by=w.scj_approver,
        step=step,
        due_on=due,
        holder=holder,
        holder_department=unit,
        confidentiality=level,
        **kw,
    )


def _party(doc, department, role, status=DocumentParty.Status.PENDING):
    DocumentParty.objects.create(document=doc, department=department, role=role, status=status)


def _documents(w):
    """Documents for SCJ's head, approver and registrar and the office, with ties on 5 March and several
    without a deadline, beside ones none of them may see."""
    d5, d6 = date(2026, 3, 5), date(2026, 3, 6)
    approver, head = w.scj_approver, w.scj_head
    _document(w, "拟稿一", step=Step.DRAFT, due=d5, holder=approver, unit=w.d_scj)
    _document(w, "拟稿二", step=Step.DRAFT, due=d5, holder=approver, unit=w.d_scj)
    _document(w, "无时限拟稿", step=Step.DRAFT, holder=approver, unit=w.d_scj)
    _document(w, "核稿", step=Step.CHECK, due=d5, unit=w.d_scj)
    _document(w, "无时限核稿", step=Step.CHECK, unit=w.d_scj)
    _document(w, "敏感核稿", step=Step.CHECK, due=d6, unit=w.d_scj, level=Confidentiality.RESTRICTED)
    _document(w, "敏感拟稿", step=Step.DRAFT, due=d5, holder=approver, level=Confidentiality.RESTRICTED)
    incoming = {"direction": Document.Direction.INCOMING}
    _document(w, "签收", step=Step.SIGN_IN, due=date(2026, 3, 4), unit=w.d_scj, **incoming)
    _document(w, "拟办", step=Step.PROPOSE, due=d6, unit=w.d_scj, **incoming)
    _document(w, "他人手中的签收", step=Step.SIGN_IN, due=d5, holder=head, unit=w.d_scj, **incoming)
    countersign = _document(w, "会签", step=Step.COUNTERSIGN, due=d5, unit=w.d_mzj)
    _party(countersign, w.d_scj, DocumentParty.Role.COUNTERSIGN)
    agreed = _document(w, "已会签", step=Step.COUNTERSIGN, due=d5, unit=w.d_mzj)
    _party(agreed, w.d_scj, DocumentParty.Role.COUNTERSIGN, DocumentParty.Status.AGREED)
    for title, role in [("主办", DocumentParty.Role.LEAD), ("协办", DocumentParty.Role.CO)]:
        handled = _document(w, title, step=Step.HANDLE, unit=w.d_scj, **incoming)
        _party(handled, w.d_scj, role)
    mzj_handles = _document(w, "民政承办", step=Step.HANDLE, due=d5, unit=w.d_mzj, **incoming)
    _party(mzj_handles, w.d_mzj, DocumentParty.Role.LEAD)
    numbered = _document(w, "编号", step=Step.NUMBER, due=d6, unit=w.d_office)
    _party(numbered, w.d_scj, DocumentParty.Role.RECIPIENT)
    _document(w, "用印", step=Step.SEAL, due=d5, holder=w.office, unit=w.d_office)  # two branches reach it
    _document(w, "分发", step=Step.DISTRIBUTE, unit=w.d_office)
    _document(w, "收文编号", step=Step.NUMBER, due=d5, unit=w.d_mzj, **incoming)  # the office's: 发文 only
    _document(w, "已办结", step=Step.DONE, due=d5, holder=approver, unit=w.d_scj)
    _document(w, "已撤回", step=Step.WITHDRAWN, unit=w.d_scj)
    _document(w, "民政核稿", step=Step.CHECK, due=d5, unit=w.d_mzj, department=w.d_mzj)
    _document(w, "民政拟稿", step=Step.DRAFT, due=d5, holder=w.mzj_head, unit=w.d_mzj, department=w.d_mzj)


def _task(w, code, *, lead, due, status=S.IN_PROGRESS, issuer=None, report=None, level=0, units=()):
    task = Task.objects.create(
        code=code,
        title=f"任务{code}",
        issuing_department=issuer or w.d_office,
        lead_department=lead,
        status=status,
        level=level,
        start_on=date(2026, 3, 1),
        due_on=due,
        next_report_due=report,
    )
    for department, accepted in units:
        TaskUnit.objects.create(
            task=task,
            department=department,
            role=TaskUnit.Role.LEAD if department == lead else TaskUnit.Role.CO,
            accepted_at=datetime(2026, 3, 1, 9, tzinfo=LOCAL) if accepted else None,
        )
    return task


def _tasks(w):
    d6, d10, d20 = date(2026, 3, 6), date(2026, 3, 10), date(2026, 3, 20)
    scj, mzj = w.d_scj, w.d_mzj
    _task(w, "DB-01", lead=scj, due=d10, status=S.ISSUED, units=[(scj, False)])  # 签收
    _task(w, "DB-02", lead=scj, due=d20, report=d6, units=[(scj, True)])  # 报送进展 on the 6th
    _task(w, "DB-03", lead=scj, due=d6, units=[(scj, True)])  # 办理, tied with DB-02
    _task(w, "DB-04", lead=mzj, due=d10, report=date(2026, 3, 3), units=[(mzj, True), (scj, False)])
    _task(w, "DB-05", lead=mzj, due=d6, units=[(mzj, True), (scj, True)])  # MZJ's to do only
    _task(w, "DB-06", lead=scj, due=d10, status=S.SUBMITTED, units=[(scj, True)])  # for the office to review
    _task(w, "DB-07", lead=scj, due=d6, status=S.SUBMITTED, units=[(scj, True), (w.d_office, True)])
    _task(w, "DB-08", lead=scj, due=d6, status=S.DONE, units=[(scj, True)])
    _task(w, "DB-09", lead=scj, due=d20, report=d20, level=Task.Level.URGED, units=[(scj, True)])
    _task(w, "DB-10", lead=scj, due=d6, status=S.CANCELLED, units=[(scj, False)])
    _task(w, "DB-11", lead=mzj, due=d6, issuer=scj, status=S.SUBMITTED, units=[(mzj, True)])


# --- helpers -----------------------------------------------------------------------------------------------
def _warm(source, p):
    """The staff row, clearance and office memos, the URL patterns: what a page reads once, not per call."""
    source.items(p, TodoQuery())
    source.count(p)


def _pages(source, p, limit, **kw) -> list[TodoItem]:
    """Every item, `limit` at a time; each page is checked against the reference at the same cursor."""
    reference = _orm_documents if isinstance(source, DocumentsSource) else _orm_tasks
    seen: list[TodoItem] = []
    query = TodoQuery(limit=limit, **kw)
    for _ in range(100):
        page = source.items(p, query)
        assert page == reference(p, query)
        seen += page
        if len(page) < limit:
            return seen
        query = TodoQuery(after=Cursor.of(page[-1]), limit=limit, **kw)
    raise AssertionError("paging did not end")


def _foreign_cursors(items: list[TodoItem]) -> list[Cursor]:
    """Cursors other sources (before and after this one in id order) and this one could write."""
    cursors = [
        Cursor(FAR, "a", ""),
        Cursor(FAR, "zzz", ""),
        Cursor(datetime(2026, 3, 5, 12, tzinfo=LOCAL), "a", ""),
    ]
    for item in items:
        deadline = item.deadline or FAR
        cursors += [
            Cursor(deadline, "a", "x"),
            Cursor(deadline, "zzz", ""),
            Cursor(deadline, item.source, item.key),
        ]
    return cursors


def _check_source(source, p, expected_titles=None):
    everything = source.items(p, TodoQuery(limit=100))
    assert everything == (_orm_documents if isinstance(source, DocumentsSource) else _orm_tasks)(
        p, TodoQuery(limit=100)
    )
    if expected_titles is not None:
        assert sorted(i.title for i in everything) == sorted(expected_titles)
    for limit in (1, 2):
        assert _pages(source, p, limit) == everything
    count_of = _orm_documents_count if isinstance(source, DocumentsSource) else _orm_tasks_count
    assert source.count(p) == count_of(p) == len(everything)
    for bound in (
        datetime(2026, 3, 5, 12, tzinfo=LOCAL),
        day_end(date(2026, 3, 5)) + timedelta(seconds=1),
        datetime(2026, 3, 1, tzinfo=LOCAL),
    ):
        due = [i for i in everything if i.deadline is not None and i.deadline.date() < bound.date()]
        assert _pages(source, p, 2, due_before=bound) == due
        assert source.count(p, due_before=bound) == count_of(p, bound) == len(due)
    reference = _orm_documents if isinstance(source, DocumentsSource) else _orm_tasks
    for cursor in _foreign_cursors(everything):
        query = TodoQuery(after=cursor, limit=3)
        assert source.items(p, query) == reference(p, query)
    return everything


# --- one statement each ------------------------------------------------------------------------------------
@pytest.mark.parametrize("source_class", [DocumentsSource, TasksSource])
def test_one_statement_per_items_and_count(w, source_class):
    _documents(w)
    _tasks(w)
    source = source_class()
    for staff in (w.scj_head, w.office, w.scj_approver):
        _warm(source, principal(staff))
        p = principal(staff)  # a fresh principal, as each request builds
        p.staff  # noqa: B018  (the account's staff row: read once per request by the page itself)
        for query in (TodoQuery(), TodoQuery(limit=1, due_before=day_end(date(2026, 3, 6)))):
            with CaptureQueriesContext(connection) as items:
                page = source.items(p, query)
            assert len(items) == 1
            if page:
                following = TodoQuery(after=Cursor.of(page[-1]), limit=1)
                with CaptureQueriesContext(connection) as more:
                    source.items(p, following)
                assert len(more) == 1
        with CaptureQueriesContext(connection) as counted:
            assert source.count(p) > 0
        assert len(counted) == 1


def test_no_statement_for_whom_nothing_can_wait(w):
    inactive = staff_with_roles(Role.DEPARTMENT_HEAD, department=w.d_scj, username="gone")
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    for p in (Principal(), principal(inactive)):
        p.staff  # noqa: B018
        with CaptureQueriesContext(connection) as queries:
            for source in (DocumentsSource(), TasksSource()):
                assert source.items(p, TodoQuery()) == []
                assert source.count(p) == 0
        assert len(queries) == 0


# --- documents ---------------------------------------------------------------------------------------------
def test_documents_equal_the_orm_definition(w):
    _documents(w)
    registrar = staff_with_roles(Role.OFFICE_CLERK, department=w.d_scj, username="scjregistrar")
    source = DocumentsSource()
    held = ["拟稿一", "拟稿二", "无时限拟稿"]
    scj_unit = ["主办", "协办"]
    approver = _check_source(source, principal(w.scj_approver), held + scj_unit)
    assert [i.deadline for i in approver][-3:] == [None, None, None]  # undated last, by key
    head_steps = ["核稿", "无时限核稿", "敏感核稿", "签收", "会签"]
    head = _check_source(source, principal(w.scj_head), ["他人手中的签收", *head_steps, *scj_unit])
    assert {i.title: i.action for i in head}["会签"] == "会签"
    _check_source(source, principal(registrar), ["签收", "拟办", *scj_unit])
    office = _check_source(source, principal(w.office), ["编号", "用印", "分发"])
    assert [i.title for i in office] == ["用印", "编号", "分发"]
    assert office[0].url == f"/collab/documents/{office[0].key}/" and office[0].state == "发文 · 用印"
    _check_source(source, principal(w.mzj_head), ["民政承办", "民政核稿", "民政拟稿"])
    _check_source(source, principal(w.village_clerks[0]), [])


def test_documents_follow_the_clearance_table(w):
    _documents(w)
    source = DocumentsSource()
    assert "敏感拟稿" not in [i.title for i in source.items(principal(w.scj_approver), TodoQuery(limit=100))]
    RoleClearance.objects.create(role=Role.APPROVER, max_level=Confidentiality.RESTRICTED)
    _check_source(
        source, principal(w.scj_approver), ["拟稿一", "拟稿二", "无时限拟稿", "敏感拟稿", "主办", "协办"]
    )
    row = RoleClearance.objects.get(role=Role.APPROVER)
    row.max_level = Confidentiality.PUBLIC
    row.save()  # the memo forgets at once in this process
    assert source.items(principal(w.scj_approver), TodoQuery()) == []
    assert source.count(principal(w.scj_approver)) == 0


def test_a_bad_document_cursor_key_is_a_value_error(w):
    cursor = Cursor(day_end(date(2026, 3, 5)), "collab.documents", "not-a-uuid")
    with pytest.raises(ValueError):
        DocumentsSource().items(principal(w.scj_head), TodoQuery(after=cursor))


# --- tasks -------------------------------------------------------------------------------------------------
def test_tasks_equal_the_orm_definition(w):
    _tasks(w)
    source = TasksSource()
    scj = _check_source(source, principal(w.scj_head))
    assert [(i.key, i.action, i.deadline.date()) for i in scj] == [
        ("DB-02", "报送进展", date(2026, 3, 6)),
        ("DB-03", "办理", date(2026, 3, 6)),
        ("DB-01", "签收", date(2026, 3, 10)),
        ("DB-04", "签收", date(2026, 3, 10)),
        ("DB-09", "办理", date(2026, 3, 20)),
    ]
    assert (
        scj[-1].state == "办理中 · 催办"
        and scj[0].url == f"/collab/tasks/{Task.objects.get(code='DB-02').public_id}/"
    )
    mzj = _check_source(source, principal(w.mzj_head))
    assert [(i.key, i.action) for i in mzj] == [("DB-04", "报送进展"), ("DB-05", "办理")]
    office = _check_source(source, principal(w.office))
    assert [(i.key, i.action, i.state) for i in office] == [("DB-06", "审核办结", "申请办结")]
    registrar = staff_with_roles(Role.OFFICE_CLERK, department=w.d_scj, username="scjregistrar")
    assert [i.key for i in _check_source(source, principal(registrar))] == [
        "DB-02",
        "DB-03",
        "DB-11",
        "DB-01",
        "DB-04",
        "DB-09",
    ]
