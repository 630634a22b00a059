"""授权用数 (filled in by the my-data part of issue 14).

Contract used by the gateway: `consent_for_release(*, consent_id, system, resource, fields, person_id,
organisation_id)` returns the live Consent that covers this release, or raises `ConsentRefused(reason)`;
the gateway calls it for a grant that `requires_consent` and records the consent on the call.
"""

from __future__ import annotations


class ConsentRefused(Exception):
    """No live consent of the data subject covers this release."""


def consent_for_release(*, consent_id, system, resource, fields, person_id=None, organisation_id=None):
    raise ConsentRefused("consent checking is not available yet")
