"""Who may see which open dataset: the one rule every open-data channel applies (portal pages, the CKAN Action
API, DCAT-AP, downloads, the datastore).

- Anyone, signed in or not: published datasets of tier 无条件开放 — listed, shown, downloaded.
- A signed-in account: also the *metadata* of published 有条件开放 datasets (to find and apply for them);
  their data (downloads, datastore rows, API) only with an approved, unexpired application of that account,
  or through an API key issued with such an application.
- The opening department's data officers (DATA_STEWARD of the department or above it) and the big-data centre
  (DATA_CENTRE): every dataset of their scope in every state, in the management pages only.
- Nobody outside the management pages: drafts, datasets in review, withdrawn datasets; a dataset whose resource
  is 不予开放 or on the negative list is refused at publication and so never reaches the public.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from ..models import OpenApplication, OpenDataset, OpenTier


@dataclass(frozen=True)
class OpenViewer:
    """The caller of a public open-data channel: an account (session), the account behind an API key, or
    nobody. Build it with `open_viewer(account=..., api_key=...)`."""

    account_id: int | None = None
    api_key_id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.account_id is None


ANONYMOUS = OpenViewer()


def open_viewer(*, account=None, api_key=None) -> OpenViewer:
    if api_key is not None:
        return OpenViewer(account_id=api_key.account_id, api_key_id=api_key.pk)
    if account is not None and getattr(account, "pk", None) is not None:
        return OpenViewer(account_id=account.pk)
    return ANONYMOUS


def _approved_application_q(viewer: OpenViewer) -> Q:
    today = timezone.localdate()
    q = Q(
        applications__applicant_id=viewer.account_id,
        applications__status=OpenApplication.Status.APPROVED,
    ) & (Q(applications__valid_until__isnull=True) | Q(applications__valid_until__gte=today))
    return q


def open_datasets_listed_to(viewer: OpenViewer) -> QuerySet[OpenDataset]:
    """Datasets a public channel may list or show (metadata)."""
    published = OpenDataset.objects.filter(status=OpenDataset.Status.PUBLISHED)
    if viewer.is_anonymous:
        return published.filter(tier=OpenTier.OPEN)
    return published.filter(tier__in=[OpenTier.OPEN, OpenTier.CONDITIONAL])


def open_dataset_data_allowed(viewer: OpenViewer, dataset: OpenDataset) -> bool:
    """May the viewer read the dataset's data (download, preview rows, datastore, API)?"""
    if dataset.status != OpenDataset.Status.PUBLISHED:
        return False
    if dataset.tier == OpenTier.OPEN:
        return True
    if viewer.is_anonymous:
        return False
    return OpenDataset.objects.filter(pk=dataset.pk).filter(_approved_application_q(viewer)).exists()
