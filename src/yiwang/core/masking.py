"""Masking (脱敏): the one rule per kind of personal value for screens, logs, messages and the audit chain.

| kind | what stays | example |
|---|---|---|
| 身份证号 `mask_id_number` | the first 4 (province and city) and the last 4 characters of the normalised number; the birth date in between is hidden; 8 characters or fewer: nothing | 4401**********123X |
| phone `mask_phone` | the first 3 and the last 4 characters, when at least 11 (a mobile number, or a landline with its area code); shorter numbers: nothing | 139****5678, 020*****4321 |
| name `mask_name` | the first character, and the last one for names of three or more | 张*三, 李* |

A hidden character becomes one `*`, so the length shows; a value too short to keep anything is starred entirely.
Free text published to the public (incident descriptions, addresses) has its own rule, in
`incidents.selectors_public.public_text`, because it finds the values inside prose first.
"""

from __future__ import annotations

from .validators import normalise_id_number, normalise_phone

ID_NUMBER_KEEP = (4, 4)
PHONE_KEEP = (3, 4)
# Below a mobile number's length, 3 + 4 kept characters would show most of the number (7 of 8 digits).
PHONE_MIN_LENGTH = 11


def mask_middle(value: str, keep_start: int, keep_end: int) -> str:
    """`value` with all but its first `keep_start` and last `keep_end` characters starred; entirely starred when
    it is not longer than what would be kept."""
    value = value or ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[len(value) - keep_end :]


def mask_id_number(value: str) -> str:
    """4401**********1234: the first 4 and last 4 characters of the normalised 身份证号."""
    return mask_middle(normalise_id_number(value), *ID_NUMBER_KEEP)


def mask_phone(value: str) -> str:
    """138****5678: the first 3 and last 4 characters of a number of 11 characters or more; shorter ones starred."""
    value = normalise_phone(value)
    if len(value) < PHONE_MIN_LENGTH:
        return "*" * len(value)
    return mask_middle(value, *PHONE_KEEP)


def mask_name(value: str) -> str:
    """张*三 / 李*: the first character (and the last, for names of three or more)."""
    value = value or ""
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
