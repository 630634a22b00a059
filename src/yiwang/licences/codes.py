"""核验码: the short random code printed on a licence (PDF) and shown to its holder in 我的证照.

Public verification by 证照标识 alone is an enumeration target (identifiers are predictable: issuer code, serial,
check character), so it reveals nothing personal; with the code beside the identifier (or the QR / 亮证 token) it
shows the face fields the type marks public. The code is 8 characters of Crockford's base32 alphabet (no I, L, O,
U: nothing to misread on paper), 40 random bits, printed as ``XXXX-XXXX``; it is stored SM4-encrypted
(`Licence.verify_code`, an EncryptedTextField) because the holder must be able to see it again, and compared in
constant time. Guessing is bounded by the `licence_verify` rate limit.
"""

from __future__ import annotations

import hmac
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
# what people type for the letters the alphabet leaves out
_READS_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def verify_code_new() -> str:
    """A fresh random code (the model field's default: every way of creating a Licence gets one)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def verify_code_normalise(value: str | None) -> str:
    """Upper case, separators and spaces dropped, look-alike letters mapped; '' when not a well-formed code."""
    text = "".join(ch for ch in str(value or "").upper() if ch.isalnum()).translate(_READS_AS)
    if len(text) != LENGTH or any(ch not in ALPHABET for ch in text):
        return ""
    return text


def verify_code_display(code: str) -> str:
    """``XXXX-XXXX`` as printed on the document."""
    code = code or ""
    return f"{code[:4]}-{code[4:]}" if len(code) == LENGTH else code


def verify_code_matches(stored: str, given: str | None) -> bool:
    """True when `given` (as typed) is the licence's code; constant-time."""
    typed = verify_code_normalise(given)
    if not typed or not stored:
        return False
    return hmac.compare_digest(typed.encode(), stored.encode())
