"""CPF numbers (Brazilian taxpayer ids): valid ones with correct check digits, and dirt.

A CPF is nine base digits and two check digits, each a weighted sum modulo 11. The base
digits come from a bijection of the customer id, so every customer has a distinct CPF.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from afluente.demo.columns import choose_codes, concat, int_text, null_rows, take, with_variants

_BASE_SPACE = 1_000_000_000  # nine digits
_MULTIPLIER = 734_237_731  # odd and not a multiple of 5: a bijection modulo 10**9

# Dirt codes, drawn per row.
CPF_OK, CPF_BAD_CHECK, CPF_SHORT, CPF_LONG, CPF_REPEATED, CPF_NULL = range(6)
CPF_DIRT_WEIGHTS = (96.0, 1.8, 0.6, 0.3, 0.3, 1.0)
REPEATED_CPFS = ("11111111111", "00000000000", "99999999999")


def check_digit(digits: np.ndarray) -> np.ndarray:
    """Check digit for each row of a (n, k) digit matrix (k = 9 or 10)."""
    weights = np.arange(digits.shape[1] + 1, 1, -1)
    return (digits @ weights) * 10 % 11 % 10


def valid_cpf_numbers(ids: np.ndarray, seed: int) -> np.ndarray:
    """One valid 11-digit CPF (as int64) per id, distinct for distinct ids."""
    base = (ids.astype(np.int64) * _MULTIPLIER + seed * 7_919) % _BASE_SPACE
    digits = (base[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    first = check_digit(digits)
    second = check_digit(np.column_stack([digits, first]))
    return base * 100 + first * 10 + second


def masked(text: pa.Array) -> pa.Array:
    """`12345678909` -> `123.456.789-09`."""

    def part(start: int, stop: int) -> pa.Array:
        return pc.utf8_slice_codeunits(text, start, stop)

    return concat(part(0, 3), ".", part(3, 6), ".", part(6, 9), "-", part(9, 11))


def cpf_text(rng: np.random.Generator, numbers: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """CPF column (half masked, half digits-only) with dirt, and the dirt code per row."""
    codes = choose_codes(rng, numbers.size, CPF_DIRT_WEIGHTS)
    wrong = numbers - numbers % 10 + (numbers % 10 + rng.integers(1, 10, numbers.size)) % 10
    digits = int_text(np.where(codes == CPF_BAD_CHECK, wrong, numbers), 11)
    digits = with_variants(
        digits,
        codes,
        {
            CPF_SHORT: lambda r: int_text(numbers[r] // 10, 10),
            CPF_LONG: lambda r: int_text(numbers[r] * 10 + rng.integers(0, 10, r.size), 12),
            CPF_REPEATED: lambda r: take(pa.array(REPEATED_CPFS), rng.integers(0, 3, r.size)),
        },
    )
    is_masked = (rng.random(numbers.size) < 0.5) & (codes != CPF_SHORT) & (codes != CPF_LONG)
    text = with_variants(digits, is_masked.astype(np.int8), {1: lambda r: masked(digits.take(r))})
    return with_variants(text, codes, {CPF_NULL: null_rows}), codes
