"""Deterministic random streams keyed by labels.

Every random decision in the demo world draws from a stream named after what it decides
(seed, unit, month, ...), never from a shared stream. That makes the output independent of
the order work is done in (processes, partial spans): generating two months gives the same
values as the first two months of an eighteen-month run.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np


def _key(seed: int, labels: tuple) -> int:
    text = "\x1f".join([str(seed), *(str(label) for label in labels)])
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest(), "big")


def rnd(seed: int, *labels: object) -> random.Random:
    """A `random.Random` for scalar draws, seeded from `seed` and `labels`."""
    return random.Random(_key(seed, labels))


def nprng(seed: int, *labels: object) -> np.random.Generator:
    """A numpy generator for bulk draws, seeded from `seed` and `labels`."""
    return np.random.default_rng(_key(seed, labels))


def poisson(r: random.Random, lam: float) -> int:
    """A Poisson draw from a `random.Random` (Knuth for small means, normal beyond)."""
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(r.gauss(lam, lam**0.5)))
    limit = pow(2.718281828459045, -lam)
    k, p = 0, 1.0
    while True:
        p *= r.random()
        if p <= limit:
            return k
        k += 1


def binomial(r: random.Random, n: int, p: float) -> int:
    """A binomial draw for the small counts of the forms."""
    return sum(1 for _ in range(n) if r.random() < p)


# `random.Random.random()` is a C call; `randint`, `choice` and `uniform` are Python functions
# around it several times slower. These run once per record, millions of times at national scale.
def ri(r: random.Random, a: int, b: int) -> int:
    """Like `r.randint(a, b)`."""
    return a + int(r.random() * (b - a + 1))


def pick(r: random.Random, seq):
    """Like `r.choice(seq)`."""
    return seq[int(r.random() * len(seq))]


def uni(r: random.Random, a: float, b: float) -> float:
    """Like `r.uniform(a, b)`."""
    return a + (b - a) * r.random()
