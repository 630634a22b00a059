"""公共数据开放: who may act on a dataset (the opening department's data officers, the big-data centre) and the
readable numbers of applications — shared by the dataset services and the account services."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.numbering import counter_next
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal
from yiwang.core.selectors.org import department_subtree_ids

from ..models.opendata import (
    OpenDataset,
)
from ..models.sharing import ShareSequence


# --- who may act ----------------------------------------------------------------------------------------------
def is_centre(principal: Principal | None) -> bool:
    return principal is not None and not principal.is_system and principal.has(DATA_CENTRE)


def steward_department_ids(principal: Principal | None) -> set[int]:
    if principal is None or principal.is_system or not principal.has(DATA_STEWARD):
        return set()
    department = principal.department
    return department_subtree_ids(department) if department is not None else set()


def dataset_may_manage(principal: Principal | None, dataset: OpenDataset) -> bool:
    """The centre, or a data officer of the dataset's department (or one above it)."""
    return is_centre(principal) or dataset.department_id in steward_department_ids(principal)


def dataset_may_decide(principal: Principal | None, dataset: OpenDataset) -> bool:
    """Applications are decided by the opening department's data officers only (not by another department's)."""
    return dataset.department_id in steward_department_ids(principal)


def _require_manage(principal: Principal, dataset: OpenDataset) -> None:
    if not dataset_may_manage(principal, dataset):
        raise PermissionDenied(_("只有开放部门的数据专员或大数据中心可以管理该数据集。"))


def _require_centre(principal: Principal) -> None:
    if not is_centre(principal):
        raise PermissionDenied(_("只有大数据中心可以执行此操作。"))


def _number(kind: str) -> str:
    day = timezone.localdate()
    return f"{kind}{day:%Y%m%d}{counter_next(ShareSequence, day=day, kind=kind):04d}"
