"""The credit file of a subject: found by its registry row, created on first need (a record, a list entry)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from ..models import CreditFile


def credit_file_of(
    *, organisation_id: int | None = None, person_id: int | None = None, create: bool = False
) -> CreditFile | None:
    """The file of an organisation or (without one) a person; with create=True a missing file is made (a race
    between two writers ends with one file: the loser reads the winner's)."""
    if organisation_id is not None:
        lookup, subject = {"organisation_id": organisation_id}, CreditFile.Subject.ORGANISATION
    elif person_id is not None:
        lookup, subject = {"person_id": person_id}, CreditFile.Subject.PERSON
    else:
        raise ValueError("credit_file_of needs an organisation or a person")
    found = CreditFile.objects.filter(**lookup).first()
    if found is not None or not create:
        return found
    try:
        with transaction.atomic():
            return CreditFile.objects.create(subject=subject, **lookup)
    except IntegrityError:
        return CreditFile.objects.get(**lookup)
