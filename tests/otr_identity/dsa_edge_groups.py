#!/usr/bin/env python3
"""Writes tests/vectors/dsa_edge_groups.json: DSA groups that are valid in every way but their size
(or whose size sits on the edge of the top-bit test), for the unit tests of
src/otr/identity/public_key.rs. OTR keys are DSA-1024/160, so `p` must be exactly 1,024 bits and
`q` exactly 160: a 1,020-bit `p` or a 159-bit `q` must be refused even though the group works,
and a `p` or `q` whose first byte is exactly 0x80 must be accepted.

Deterministic (a fixed seed), so running it again gives the same file:
    python3 tests/otr_identity/dsa_edge_groups.py > tests/vectors/dsa_edge_groups.json
"""
import json
import random

rng = random.Random(20261203)
SMALL_PRIMES = [n for n in range(3, 2000) if all(n % d for d in range(2, int(n**0.5) + 1))]


def is_probable_prime(n, rounds=64):
    if n < 2:
        return False
    for p in SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        a = rng.randrange(2, n - 1)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def prime_in(low, high):
    """A prime in [low, high)."""
    while True:
        n = rng.randrange(low, high) | 1
        if low <= n < high and is_probable_prime(n):
            return n


def group(p_low, p_high, q):
    """A prime p = k q + 1 in [p_low, p_high), a generator of the order-q subgroup, and a key."""
    while True:
        k = rng.randrange(p_low // q, p_high // q) & ~1  # p - 1 even
        p = k * q + 1
        if p_low <= p < p_high and is_probable_prime(p):
            break
    h = 2
    while pow(h, (p - 1) // q, p) == 1:
        h += 1
    g = pow(h, (p - 1) // q, p)
    x = rng.randrange(1, q)
    return {"p": p, "q": q, "g": g, "y": pow(g, x, p), "x": x}


def bits(n):
    return 1 << n


q160 = prime_in(bits(159), bits(160))
groups = {
    # Valid DSA groups OTR must refuse: p one nibble short, q one bit short.
    "p_1020_bits": group(bits(1019), bits(1020), q160),
    "q_159_bits": group(bits(1023), bits(1024), prime_in(bits(158), bits(159))),
    # Valid DSA-1024/160 groups on the edge of the top-bit test: first byte exactly 0x80.
    "p_first_byte_80": group(0x80 << 1016, 0x81 << 1016, q160),
    "q_first_byte_80": group(bits(1023), bits(1024), prime_in(0x80 << 152, 0x81 << 152)),
}
out = {}
for name, values in groups.items():
    out[name] = {k: format(v, "x").rjust((v.bit_length() + 7) // 8 * 2, "0") for k, v in values.items()}
print(json.dumps(out, indent=2))
