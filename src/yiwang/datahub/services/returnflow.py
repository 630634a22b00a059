"""回流 and harvesting (filled in by the return-flow part of issue 14).

Contract used by the gateway: `return_flow_grant(*, system, resource)` returns an `ImplicitGrant` when the
system's department sits at a town, village or grid level the resource is designated for (`return_levels`),
else None.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImplicitGrant:
    """What 回流 lets a grass-roots system read without a share request: the resource's fields with their default
    masks, limited to the system department's division."""

    fields: dict[str, str] = field(default_factory=dict)  # field name -> mask
    division_prefix: str = ""
    rate_per_minute: int = 600


def return_flow_grant(*, system, resource) -> ImplicitGrant | None:
    return None
