"""The data officer's and the big-data centre's home figures: the work waiting, counted with indexed queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal

from ..models import DataResource, HarvestRun, ShareDispute, ShareGrant, ShareRequest

# Requests that wait for the provider's answer (or, for the centre, for its coordination).
_AWAITING = (ShareRequest.State.REQUESTED, ShareRequest.State.OFFERED, ShareRequest.State.AGREED)


@dataclass(frozen=True)
class DataWork:
    to_answer: int  # share requests received, waiting for my department
    to_answer_overdue: int
    requests_open: int  # my department's own requests not yet settled
    resources_published: int
    resources_draft: int
    grants_given: int  # active grants on my department's resources
    grants_held: int  # active grants my department's systems hold
    # The centre's queue (None when the principal is not the centre).
    to_review: int | None = None
    overdue_district: int | None = None
    disputes_open: int | None = None
    harvests_failed: int | None = None


def data_work_for(principal: Principal) -> DataWork:
    principal.require(DATA_STEWARD)
    department = principal.department
    now = timezone.now()
    # Three queries whatever the volumes: requests both ways, resources, grants both ways.
    mine = Q(provider=department) | Q(requester=department)
    requests = ShareRequest.objects.filter(mine, state__in=_AWAITING).aggregate(
        to_answer=Count("id", filter=Q(provider=department)),
        overdue=Count("id", filter=Q(provider=department, due_at__lt=now)),
        made=Count("id", filter=Q(requester=department)),
    )
    resources = DataResource.objects.filter(provider=department).aggregate(
        published=Count("id", filter=Q(status=DataResource.Status.PUBLISHED)),
        draft=Count(
            "id",
            filter=Q(
                status__in=(
                    DataResource.Status.DRAFT,
                    DataResource.Status.MOUNTED,
                    DataResource.Status.IN_REVIEW,
                )
            ),
        ),
    )
    grants = ShareGrant.objects.filter(mine, status=ShareGrant.Status.ACTIVE, valid_until__gt=now).aggregate(
        given=Count("id", filter=Q(provider=department)),
        held=Count("id", filter=Q(requester=department)),
    )
    work = dict(
        to_answer=requests["to_answer"],
        to_answer_overdue=requests["overdue"],
        requests_open=requests["made"],
        resources_published=resources["published"],
        resources_draft=resources["draft"],
        grants_given=grants["given"],
        grants_held=grants["held"],
    )
    if principal.has(DATA_CENTRE):
        work.update(
            to_review=DataResource.objects.filter(status=DataResource.Status.IN_REVIEW).count(),
            overdue_district=ShareRequest.objects.filter(state__in=_AWAITING, due_at__lt=now).count(),
            disputes_open=ShareDispute.objects.filter(status=ShareDispute.Status.OPEN).count(),
            harvests_failed=HarvestRun.objects.filter(
                status=HarvestRun.Status.FAILED, started_at__gte=now - timedelta(days=7)
            ).count(),
        )
    return DataWork(**work)
