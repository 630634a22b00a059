"""国密 primitives through tongsuopy (Tongsuo): SM2 sign/verify, SM3 hash and HMAC-SM3, SM4-GCM.

Nothing here implements an algorithm; it only gives the rest of Yiwang one small, typed surface.
"""

from __future__ import annotations

import hmac as _hmac
import os

from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.ciphers import Cipher, algorithms, modes
from tongsuopy.crypto.ciphers.aead import SM4GCM
from tongsuopy.crypto.exceptions import InternalError, InvalidSignature, InvalidTag

__all__ = [
    "InvalidSignature",
    "InvalidTag",
    "sm3",
    "sm3_hex",
    "hmac_sm3",
    "sm4_ecb_encrypt_block",
    "sm4_gcm_encrypt",
    "sm4_gcm_decrypt",
    "sm2_generate",
    "sm2_sign",
    "sm2_verify",
    "sm2_public_bytes",
    "sm2_private_pem",
    "sm2_load_private_pem",
    "sm2_load_public",
]

SM4_NONCE_BYTES = 12
_SM2_SIGNATURE = ec.ECDSA(hashes.SM3())  # SM2 with SM3 and the default user id 1234567812345678


def sm3(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def sm3_hex(data: bytes) -> str:
    return sm3(data).hex()


class _SM3ForHmac:
    """Adapter that lets the standard library's HMAC construction drive tongsuopy's SM3."""

    digest_size = 32
    block_size = 64
    name = "sm3"

    def __init__(self, data: bytes = b"", _ctx: hashes.Hash | None = None) -> None:
        self._ctx = _ctx or hashes.Hash(hashes.SM3())
        if data:
            self._ctx.update(data)

    def update(self, data: bytes) -> None:
        self._ctx.update(data)

    def copy(self) -> _SM3ForHmac:
        return _SM3ForHmac(_ctx=self._ctx.copy())

    def digest(self) -> bytes:
        return self._ctx.copy().finalize()

    def hexdigest(self) -> str:
        return self.digest().hex()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    return _hmac.new(key, data, _SM3ForHmac).digest()


def hmac_sm3_keyed(key: bytes) -> _hmac.HMAC:
    """A keyed HMAC-SM3 to `.copy()` per message: the key schedule is paid once, not per blind index."""
    return _hmac.new(key, None, _SM3ForHmac)


def sm4_ecb_encrypt_block(key: bytes, block: bytes) -> bytes:
    """One raw SM4 block, for the GB/T 32907 test vector only; fields use sm4_gcm_encrypt."""
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def sm4_gcm_encrypt(key: bytes, plaintext: bytes, associated_data: bytes | None = None) -> bytes:
    """Returns nonce || ciphertext || tag. A fresh random nonce each call (never reuse with one key)."""
    nonce = os.urandom(SM4_NONCE_BYTES)
    return nonce + SM4GCM(key).encrypt(nonce, plaintext, associated_data)


def sm4_gcm_decrypt(key: bytes, blob: bytes, associated_data: bytes | None = None) -> bytes:
    nonce, body = blob[:SM4_NONCE_BYTES], blob[SM4_NONCE_BYTES:]
    return SM4GCM(key).decrypt(nonce, body, associated_data)


def sm2_generate() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SM2())


def sm2_sign(private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """DER-encoded SM2 signature (r, s) over SM3(Z || data)."""
    return private_key.sign(data, _SM2_SIGNATURE)


def sm2_verify(public_key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public_key.verify(signature, data, _SM2_SIGNATURE)
    except (InvalidSignature, ValueError, InternalError):
        # Tongsuo reports a signature that is not valid DER as an InternalError; it is still just invalid.
        return False
    return True


def sm2_public_bytes(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> bytes:
    """Uncompressed point 04||x||y (65 bytes): the form other SM2 implementations take."""
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def sm2_private_pem(private_key: ec.EllipticCurvePrivateKey) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def sm2_load_private_pem(pem: str) -> ec.EllipticCurvePrivateKey:
    return serialization.load_pem_private_key(pem.encode(), password=None)


def sm2_load_public(point: bytes) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), point)
