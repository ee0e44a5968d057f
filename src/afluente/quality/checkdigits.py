"""Brazilian CPF and CNPJ check digits as plain SQL expressions (no UDF: every engine that
speaks SQL evaluates them vectorised, in the same pass as the other row rules).

CPF: 11 digits; each check digit is the weighted sum of the digits before it (weights count
down to 2) times 10, modulo 11, with 10 read as 0. CNPJ: 14 digits; weights cycle 9..2 from
the right; the digit is 0 when the sum modulo 11 is below 2, else 11 minus it. Numbers made of
one repeated digit pass the arithmetic but are invalid.
"""

from __future__ import annotations


def _digits(column: str) -> str:
    return f"regexp_replace(CAST({column} AS VARCHAR), '[^0-9]', '', 'g')"


def _digit(d: str, position: int) -> str:
    return f"CAST(substr({d}, {position}, 1) AS INTEGER)"


def _weighted(d: str, weights: list[int]) -> str:
    return " + ".join(f"{_digit(d, i + 1)} * {w}" for i, w in enumerate(weights))


def _not_repeated(d: str, size: int) -> str:
    return f"{d} <> repeat(substr({d}, 1, 1), {size})"


def _guarded(d: str, size: int, digits_check: str) -> str:
    """The arithmetic only runs on strings of the right length (SQL `AND` may evaluate both
    sides, and a missing digit must not be a cast error)."""
    return (
        f"(CASE WHEN length({d}) = {size} AND {_not_repeated(d, size)} "
        f"THEN {digits_check} ELSE FALSE END)"
    )


def cpf_valid(column: str) -> str:
    """True when `column` (punctuation allowed) is a CPF with correct check digits."""
    d = _digits(column)
    first = f"(({_weighted(d, list(range(10, 1, -1)))}) * 10 % 11 % 10)"
    second = f"(({_weighted(d, list(range(11, 1, -1)))}) * 10 % 11 % 10)"
    return _guarded(d, 11, f"{first} = {_digit(d, 10)} AND {second} = {_digit(d, 11)}")


def _cnpj_digit(d: str, weights: list[int]) -> str:
    total = f"(({_weighted(d, weights)}) % 11)"
    return f"(CASE WHEN {total} < 2 THEN 0 ELSE 11 - {total} END)"


def cnpj_valid(column: str) -> str:
    """True when `column` (punctuation allowed) is a CNPJ with correct check digits."""
    d = _digits(column)
    first = _cnpj_digit(d, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    second = _cnpj_digit(d, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    return _guarded(d, 14, f"{first} = {_digit(d, 13)} AND {second} = {_digit(d, 14)}")
