"""国密 primitives against published vectors and an independent implementation (pure-Python gmssl)."""

from __future__ import annotations

import hmac

import pytest
from Cryptodome.Util.asn1 import DerSequence
from django.db import connection
from gmssl import sm2 as gm_sm2
from gmssl import sm3 as gm_sm3
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.asymciphers.utils import encode_dss_signature
from tongsuopy.crypto.ciphers import Cipher, algorithms, modes

from tests.factories import PersonFactory
from yiwang.core import crypto
from yiwang.core.models import Person

# --- SM3 (GB/T 32905-2016, appendix A) ------------------------------------------------------------------

SM3_VECTORS = [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
]


@pytest.mark.parametrize(("message", "digest"), SM3_VECTORS)
def test_sm3_published_vectors(message, digest):
    assert crypto.sm3_hex(message) == digest
    assert crypto.sm3(message) == bytes.fromhex(digest)


@pytest.mark.parametrize(("message", "digest"), SM3_VECTORS)
def test_gmssl_agrees_on_sm3_vectors(message, digest):
    # The independent implementation used below must itself be right, or agreeing with it proves nothing.
    assert gm_sm3.sm3_hash(list(message)) == digest


def test_sm3_differs_on_one_bit():
    assert crypto.sm3(b"abc") != crypto.sm3(b"abb")


# --- SM4 (GB/T 32907-2016, appendix A) ------------------------------------------------------------------

SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


def test_sm4_one_block_vector():
    assert crypto.sm4_ecb_encrypt_block(SM4_KEY, SM4_KEY).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_million_times_vector():
    # Example 2: the plaintext encrypted 1,000,000 times with the same key (about 2 s through one context).
    encryptor = Cipher(algorithms.SM4(SM4_KEY), modes.ECB()).encryptor()
    block = SM4_KEY
    for _ in range(1_000_000):
        block = encryptor.update(block)
    assert block.hex() == "595298c7c6fd271f0402f804c33d3f66"


# --- HMAC-SM3 ---------------------------------------------------------------------------------------------


class _GmsslSM3:
    """hashlib-style adapter over gmssl's (non-incremental) SM3, so the stdlib HMAC drives an independent SM3."""

    digest_size = 32
    block_size = 64
    name = "gmssl-sm3"

    def __init__(self, data: bytes = b"") -> None:
        self._buf = bytearray(data)

    def update(self, data: bytes) -> None:
        self._buf += data

    def copy(self) -> _GmsslSM3:
        return _GmsslSM3(bytes(self._buf))

    def digest(self) -> bytes:
        return bytes.fromhex(gm_sm3.sm3_hash(list(self._buf)))


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (b"key", b"The quick brown fox jumps over the lazy dog"),
        (b"\x0b" * 20, b"Hi There"),
        (b"k" * 100, "身份证号\x1f440199199001011234".encode()),  # key longer than a block: hashed first
        (b"", b""),
    ],
)
def test_hmac_sm3_matches_independent_computation(key, message):
    expected = hmac.new(key, message, _GmsslSM3).digest()
    assert crypto.hmac_sm3(key, message) == expected
    assert len(expected) == 32


def test_hmac_sm3_depends_on_key():
    assert crypto.hmac_sm3(b"a", b"msg") != crypto.hmac_sm3(b"b", b"msg")


# --- SM4-GCM ------------------------------------------------------------------------------------------------


def test_sm4_gcm_rfc8998_vector_decrypts():
    # RFC 8998 appendix A.1 (SM4-GCM): nonce || ciphertext || tag is the blob format sm4_gcm_decrypt takes.
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    ciphertext = bytes.fromhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    )
    tag = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")
    assert crypto.sm4_gcm_decrypt(key, nonce + ciphertext + tag, aad) == plaintext


def test_sm4_gcm_round_trip_uses_fresh_nonces():
    key = bytes(range(16))
    a = crypto.sm4_gcm_encrypt(key, b"440199199001011234", b"1")
    b = crypto.sm4_gcm_encrypt(key, b"440199199001011234", b"1")
    assert a != b  # same plaintext, different nonce → different ciphertext
    assert (
        crypto.sm4_gcm_decrypt(key, a, b"1") == crypto.sm4_gcm_decrypt(key, b, b"1") == b"440199199001011234"
    )


@pytest.mark.parametrize("position", [0, 12, 20, -1])  # nonce, ciphertext, ciphertext, tag
def test_sm4_gcm_flipped_bit_fails(position):
    key = bytes(range(16))
    blob = bytearray(crypto.sm4_gcm_encrypt(key, b"secret value 123", b"aad"))
    blob[position] ^= 0x01
    with pytest.raises(crypto.InvalidTag):
        crypto.sm4_gcm_decrypt(key, bytes(blob), b"aad")


def test_sm4_gcm_wrong_associated_data_or_key_fails():
    key = bytes(range(16))
    blob = crypto.sm4_gcm_encrypt(key, b"secret", b"1")
    with pytest.raises(crypto.InvalidTag):
        crypto.sm4_gcm_decrypt(key, blob, b"2")
    with pytest.raises(crypto.InvalidTag):
        crypto.sm4_gcm_decrypt(bytes(16), blob, b"1")


# --- SM2 against gmssl ----------------------------------------------------------------------------------------


def _gmssl_for(private_key: ec.EllipticCurvePrivateKey) -> gm_sm2.CryptSM2:
    d = private_key.private_numbers().private_value
    xy = crypto.sm2_public_bytes(private_key)[1:].hex()  # x || y without the 04 prefix
    signer = gm_sm2.CryptSM2(private_key=f"{d:064x}", public_key=xy, asn1=False)
    # gmssl strips a leading "04" with str.lstrip, which also eats a public key whose x begins with 0 or 4.
    signer.public_key = xy
    return signer


def _der_to_rs_hex(signature: bytes) -> str:
    r, s = DerSequence().decode(signature)
    return f"{r:064x}{s:064x}"


def _rs_hex_to_der(rs: str) -> bytes:
    return encode_dss_signature(int(rs[:64], 16), int(rs[64:], 16))


MESSAGES = [b"", b"message digest", "一网通办 审计检查点 seq=1000".encode(), bytes(range(256)) * 5]


@pytest.fixture(scope="module")
def sm2_key():
    return crypto.sm2_generate()


@pytest.mark.parametrize("message", MESSAGES)
def test_sm2_signature_made_here_verifies_with_gmssl(sm2_key, message):
    signature = crypto.sm2_sign(sm2_key, message)
    gm = _gmssl_for(sm2_key)
    assert gm.verify_with_sm3(_der_to_rs_hex(signature), message)
    assert not gm.verify_with_sm3(_der_to_rs_hex(signature), message + b"x")


@pytest.mark.parametrize("message", MESSAGES)
def test_gmssl_signature_verifies_here(sm2_key, message):
    rs = _gmssl_for(sm2_key).sign_with_sm3(message)
    public = sm2_key.public_key()
    assert crypto.sm2_verify(public, _rs_hex_to_der(rs), message)
    assert not crypto.sm2_verify(public, _rs_hex_to_der(rs), message + b"x")


def test_sm2_tampered_signature_or_other_key_fails(sm2_key):
    message = b"audit checkpoint"
    signature = crypto.sm2_sign(sm2_key, message)
    assert crypto.sm2_verify(sm2_key.public_key(), signature, message)
    rs = _der_to_rs_hex(signature)
    s_plus_one = f"{rs[:64]}{(int(rs[64:], 16) + 1) % (1 << 256):064x}"
    assert not crypto.sm2_verify(sm2_key.public_key(), _rs_hex_to_der(s_plus_one), message)
    assert not _gmssl_for(sm2_key).verify_with_sm3(s_plus_one, message)
    assert not crypto.sm2_verify(sm2_key.public_key(), b"\x30\x00garbage", message)
    other = crypto.sm2_generate()
    assert not crypto.sm2_verify(other.public_key(), signature, message)


def test_sm2_key_round_trips_through_pem_and_point(sm2_key):
    loaded = crypto.sm2_load_private_pem(crypto.sm2_private_pem(sm2_key))
    point = crypto.sm2_public_bytes(loaded)
    assert point == crypto.sm2_public_bytes(sm2_key) and len(point) == 65 and point[0] == 4
    signature = crypto.sm2_sign(loaded, b"x")
    assert crypto.sm2_verify(crypto.sm2_load_public(point), signature, b"x")


# --- EncryptedTextField -------------------------------------------------------------------------------------


def _raw(column: str, pk: int) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM core_person WHERE id = %s", [pk])
        return cur.fetchone()[0]


@pytest.mark.django_db
def test_encrypted_field_stores_ciphertext_and_returns_plaintext():
    person = PersonFactory(id_number="11010519491231002X", phone="13800138000")
    raw_id, raw_phone = _raw("id_number", person.pk), _raw("phone", person.pk)
    for raw, plain in ((raw_id, "11010519491231002X"), (raw_phone, "13800138000")):
        assert raw.startswith("sm4:") and plain not in raw
    loaded = Person.objects.get(pk=person.pk)
    assert (loaded.id_number, loaded.phone) == ("11010519491231002X", "13800138000")
    assert (
        Person.objects.filter(pk=person.pk).values_list("id_number", flat=True).get() == "11010519491231002X"
    )


@pytest.mark.django_db
def test_encrypted_field_same_value_encrypts_differently():
    a = PersonFactory(phone="13900000000")
    b = PersonFactory(phone="13900000000")
    assert _raw("phone", a.pk) != _raw("phone", b.pk)  # random nonce: no equality leak at rest
    assert a.phone_index == b.phone_index  # the blind index is where equality lives


@pytest.mark.django_db
def test_encrypted_field_empty_value_is_stored_empty():
    person = PersonFactory(phone="", phone_index="")
    assert _raw("phone", person.pk) == ""
    assert Person.objects.get(pk=person.pk).phone == ""


@pytest.mark.django_db
@pytest.mark.parametrize("lookup", ["id_number", "id_number__exact", "id_number__startswith", "phone__in"])
def test_filtering_on_encrypted_field_raises(lookup):
    PersonFactory()
    value = ["1"] if lookup.endswith("__in") else "1"
    with pytest.raises(TypeError, match="blind index"):
        list(Person.objects.filter(**{lookup: value}))


@pytest.mark.django_db
def test_isnull_lookup_still_allowed():
    PersonFactory()
    assert Person.objects.filter(id_number__isnull=False).count() == 1
