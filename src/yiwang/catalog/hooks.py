"""Hooks that apps above `catalog` fill in, so that catalog serves their features without importing them.

免填写 reads: `form_prefill` reads an applicant's base-registry records (person, organisation) to fill a form. When
the item belongs to another department than the registry's provider, that read is a use of another department's
data and must show in the data-sharing gateway's call log (and in the subject's 我的数据). The datahub app
registers the observer from its `AppConfig.ready()`; without one (an installation without datahub) nothing is
logged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

# (*, item, person, organisation, keys: PREFILL_SOURCES keys actually read) -> None
PrefillReadObserver = Callable[..., None]


def _ignore(*, item, person, organisation, keys: Sequence[str]) -> None:
    return None


_prefill_read_observer: PrefillReadObserver = _ignore


def prefill_read_observer_register(observer: PrefillReadObserver) -> PrefillReadObserver:
    """Called once from the observing app's `ready()`; returns the observer it replaced (tests swap it back)."""
    global _prefill_read_observer
    previous, _prefill_read_observer = _prefill_read_observer, observer
    return previous


def prefill_read_observed(*, item, person, organisation, keys: Sequence[str]) -> None:
    """Tells the observer that `form_prefill` read these registry values for `item`'s applicant."""
    if keys:
        _prefill_read_observer(item=item, person=person, organisation=organisation, keys=list(keys))
