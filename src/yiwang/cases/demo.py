"""The demo content of the case features, run by `yiwang demo` (yiwang.demo.loader) after the catalogue.

Each feature keeps its content in its own module (demo_pledge, demo_instant, demo_bundles, demo_policies,
demo_reviews, demo_work); this module runs them in the order the loader has always used. The demo district's
names come from the caller: cases sits below the demo package and does not import it.
"""

from __future__ import annotations

# Called through their modules, so that a test can replace one step (mock.patch of the module's function).
from . import demo_bundles, demo_instant, demo_pledge, demo_policies, demo_reviews, demo_work


def demo_load_service_extras(*, district_code: str, service_department: str, market_department: str) -> int:
    """容缺/告知承诺 flags, 秒批 rule sets, 一件事 bundles, 免申即享 policies and a history of ratings (each step
    idempotent); returns how many rows they created. Window ratings are given at `service_department`."""
    return sum(
        (
            demo_pledge.demo_load_pledge_flags(),
            demo_instant.demo_load_instant_rules(district_code=district_code),
            demo_bundles.demo_load_bundles(),
            demo_policies.demo_load_policies(),
            demo_reviews.demo_load_reviews(
                district_code=district_code,
                service_department=service_department,
                market_department=market_department,
            ),
        )
    )


def demo_load_work(*, district_code: str) -> int:
    """Cases waiting at each step for the demo clerk, approver and head (filed and moved by the real services)."""
    return demo_work.demo_load_work(district_code=district_code)
