"""国密 throughput: tongsuopy (Tongsuo, C) against pure-Python gmssl on the same inputs; the ratio is the figure.

Runs standalone (no Django settings): `python bench/crypto.py [--seconds S] [--gmssl-seconds S]`.
Human-readable lines first; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from gmssl import sm2 as gm_sm2  # noqa: E402
from gmssl import sm3 as gm_sm3  # noqa: E402

from yiwang.core import crypto  # noqa: E402

MIB = 1024 * 1024
GMSSL_SM3_SLICE = 64 * 1024


def rate(op: Callable[[], object], seconds: float, *, max_ops: int | None = None) -> tuple[float, int, float]:
    """(ops per second, ops done, elapsed): runs op until `seconds` have passed (at least once)."""
    done, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        op()
        done += 1
        now = time.perf_counter()
        if now >= deadline or (max_ops is not None and done >= max_ops):
            return done / (now - start), done, now - start


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def der_to_rs_hex(signature: bytes) -> str:
    from Cryptodome.Util.asn1 import DerSequence  # gmssl's own dependency

    r, s = DerSequence().decode(signature)
    return f"{r:064x}{s:064x}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per tongsuopy measurement")
    parser.add_argument("--gmssl-seconds", type=float, default=3.0, help="cap per gmssl measurement")
    args = parser.parse_args()

    key = crypto.sm2_generate()
    public = key.public_key()
    message = b"yiwang-audit-checkpoint\n1000\n" + b"0" * 64  # the size of what the audit chain signs
    signature = crypto.sm2_sign(key, message)
    buffer = os.urandom(MIB)
    sm4_key = os.urandom(16)

    xy = crypto.sm2_public_bytes(key)[1:].hex()
    gm = gm_sm2.CryptSM2(private_key=f"{key.private_numbers().private_value:064x}", public_key=xy, asn1=False)
    gm.public_key = xy  # gmssl's lstrip("04") can eat leading digits of x
    rs = der_to_rs_hex(signature)
    assert gm.verify_with_sm3(rs, message), "gmssl must accept the tongsuopy signature (same inputs)"
    buffer_list = list(buffer)

    results: dict[str, dict[str, float]] = {"tongsuopy": {}, "gmssl": {}}
    t = results["tongsuopy"]
    g = results["gmssl"]

    t["sm2_sign_per_s"], n, _ = rate(lambda: crypto.sm2_sign(key, message), args.seconds)
    print(f"tongsuopy SM2 sign     {t['sm2_sign_per_s']:12,.0f} /s   ({n} ops)")
    t["sm2_verify_per_s"], n, _ = rate(lambda: crypto.sm2_verify(public, signature, message), args.seconds)
    print(f"tongsuopy SM2 verify   {t['sm2_verify_per_s']:12,.0f} /s   ({n} ops)")
    per_s, n, _ = rate(lambda: crypto.sm3(buffer), args.seconds)
    t["sm3_mb_per_s"] = per_s  # one op = 1 MiB
    print(f"tongsuopy SM3          {t['sm3_mb_per_s']:12,.1f} MiB/s ({n} MiB)")
    per_s, n, _ = rate(lambda: crypto.sm4_gcm_encrypt(sm4_key, buffer), args.seconds)
    t["sm4_gcm_mb_per_s"] = per_s
    print(f"tongsuopy SM4-GCM enc  {t['sm4_gcm_mb_per_s']:12,.1f} MiB/s ({n} MiB)")

    g["sm2_sign_per_s"], n, _ = rate(lambda: gm.sign_with_sm3(message), args.gmssl_seconds)
    print(f"gmssl     SM2 sign     {g['sm2_sign_per_s']:12,.1f} /s   ({n} ops)")
    g["sm2_verify_per_s"], n, _ = rate(lambda: gm.verify_with_sm3(rs, message), args.gmssl_seconds)
    print(f"gmssl     SM2 verify   {g['sm2_verify_per_s']:12,.1f} /s   ({n} ops)")
    # One 1 MiB hash takes gmssl several seconds, past the time cap, so it hashes the same 1 MiB buffer as
    # 64 KiB slices in turn (SM3 cost is linear in length; padding is one extra block per 1,024). gmssl takes
    # a list of ints and pads it in place, so each call gets a fresh copy of a pre-converted slice.
    slices = [buffer_list[i : i + GMSSL_SM3_SLICE] for i in range(0, MIB, GMSSL_SM3_SLICE)]
    assert gm_sm3.sm3_hash(list(slices[0])) == crypto.sm3_hex(buffer[:GMSSL_SM3_SLICE])
    turn = iter(range(1 << 62))
    per_s, n, elapsed = rate(
        lambda: gm_sm3.sm3_hash(list(slices[next(turn) % len(slices)])), args.gmssl_seconds
    )
    g["sm3_mb_per_s"] = per_s * GMSSL_SM3_SLICE / MIB
    print(f"gmssl     SM3          {g['sm3_mb_per_s']:12,.3f} MiB/s ({n} x 64 KiB in {elapsed:.1f} s)")

    ratios = {name: t[name] / g[name] for name in g}
    for name, ratio in ratios.items():
        print(f"ratio tongsuopy/gmssl  {name:18s} {ratio:10,.0f}x")

    machine = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}")
    summary = {
        "bench": "crypto",
        "unit": {"sm2": "ops/s", "sm3": "MiB/s (1 MiB buffers)", "sm4_gcm": "MiB/s (1 MiB buffers)"},
        "gmssl_sm3_slice_bytes": GMSSL_SM3_SLICE,
        "tongsuopy": {k: round(v, 2) for k, v in t.items()},
        "gmssl": {k: round(v, 3) for k, v in g.items()},
        "ratio": {k: round(v, 1) for k, v in ratios.items()},
        "machine": machine,
    }
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
