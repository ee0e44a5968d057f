"""Customers and sellers of the synthetic shop, with the dirt of a real CRM export."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from afluente.demo import vocab
from afluente.demo.columns import (
    TS_NULL,
    choose_codes,
    concat,
    epoch_seconds,
    int_text,
    null_rows,
    strings,
    strip_accents,
    take,
    timestamp_text,
    with_variants,
)
from afluente.demo.cpf import CPF_OK, cpf_text, valid_cpf_numbers

CUSTOMER_COLUMNS = ("customer_id", "name", "cpf", "email", "phone", "city", "uf", "created_at")
SELLER_COLUMNS = ("seller_id", "name", "city", "uf", "created_at")

# Relative weights of the format codes of columns.TS_* for "created_at" columns.
CREATED_AT_FORMATS = (86.0, 4.0, 4.0, 2.0, 1.5, 0.5, 2.0)
EXACT_DUPLICATE_RATE = 0.01
NEAR_DUPLICATE_RATE = 0.02


@dataclass(frozen=True)
class Words:
    """The word lists as Arrow arrays, with accent-free twins."""

    first: pa.Array
    first_ascii: pa.Array
    surname: pa.Array
    surname_ascii: pa.Array
    particle: pa.Array
    city: pa.Array
    city_ascii: pa.Array
    uf: pa.Array
    ddd: pa.Array
    city_p: np.ndarray


def words() -> Words:
    cities = vocab.CITIES
    weights = np.asarray(vocab.CITY_WEIGHTS, dtype=float)
    return Words(
        first=strings(vocab.FIRST_NAMES),
        first_ascii=strings([strip_accents(w) for w in vocab.FIRST_NAMES]),
        surname=strings(vocab.SURNAMES),
        surname_ascii=strings([strip_accents(w) for w in vocab.SURNAMES]),
        particle=strings(vocab.NAME_PARTICLES),
        city=strings([c[0] for c in cities]),
        city_ascii=strings([strip_accents(c[0]) for c in cities]),
        uf=strings([c[1] for c in cities]),
        ddd=strings([c[2] for c in cities]),
        city_p=weights / weights.sum(),
    )


def city_columns(
    rng: np.random.Generator, w: Words, n: int
) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """City and UF columns with case/accent/whitespace dirt, plus the clean city index."""
    idx = rng.choice(len(w.city_p), size=n, p=w.city_p)
    city = with_variants(
        take(w.city, idx),
        choose_codes(rng, n, (85, 5, 4, 2, 2, 1, 1)),
        {
            1: lambda r: pc.utf8_upper(take(w.city, idx[r])),
            2: lambda r: pc.utf8_upper(take(w.city_ascii, idx[r])),
            3: lambda r: pc.utf8_lower(take(w.city, idx[r])),
            4: lambda r: pc.utf8_lower(take(w.city_ascii, idx[r])),
            5: lambda r: concat(" ", take(w.city, idx[r]), "  "),
            6: null_rows,
        },
    )
    uf = with_variants(
        take(w.uf, idx),
        choose_codes(rng, n, (94, 3, 1, 1, 1)),
        {
            1: lambda r: pc.utf8_lower(take(w.uf, idx[r])),
            2: lambda r: concat(take(w.uf, idx[r]), " "),
            3: lambda r: pc.utf8_capitalize(pc.utf8_lower(take(w.uf, idx[r]))),
            4: null_rows,
        },
    )
    return city, uf, idx


def _name_parts(rng: np.random.Generator, w: Words, n: int) -> dict[str, np.ndarray]:
    return {
        "first": rng.integers(0, len(w.first), n),
        "s1": rng.integers(0, len(w.surname), n),
        "s2": rng.integers(0, len(w.surname), n),
        "particle": rng.integers(0, len(w.particle), n),
    }


def _full_name(w: Words, p: dict[str, np.ndarray], rows: np.ndarray, ascii_: bool) -> pa.Array:
    first, surname = (w.first_ascii, w.surname_ascii) if ascii_ else (w.first, w.surname)
    return concat(
        take(first, p["first"][rows]),
        " ",
        take(surname, p["s1"][rows]),
        " ",
        take(w.particle, p["particle"][rows]),
        take(surname, p["s2"][rows]),
    )


def _email(rng: np.random.Generator, w: Words, p: dict[str, np.ndarray]) -> pa.Array:
    n = p["first"].size
    suffix = with_variants(
        strings([""]).take(np.zeros(n, dtype=np.int64)),
        (rng.random(n) < 0.6).astype(np.int8),
        {1: lambda r: int_text(rng.integers(1, 999, r.size))},
    )
    domains = strings(vocab.EMAIL_DOMAINS)
    local = concat(take(w.first_ascii, p["first"]), ".", take(w.surname_ascii, p["s2"]), suffix)
    email = pc.utf8_lower(concat(local, "@", take(domains, rng.integers(0, len(domains), n))))
    return with_variants(email, choose_codes(rng, n, (97, 3)), {1: null_rows})


def _phone(rng: np.random.Generator, w: Words, city_idx: np.ndarray) -> pa.Array:
    n = city_idx.size
    ddd, number = take(w.ddd, city_idx), int_text(rng.integers(0, 100_000_000, n), 8)
    head, tail = pc.utf8_slice_codeunits(number, 0, 4), pc.utf8_slice_codeunits(number, 4, 8)
    phone = concat("(", ddd, ") 9", head, "-", tail)
    return with_variants(
        phone,
        choose_codes(rng, n, (72, 20, 5, 3)),
        {
            1: lambda r: concat(ddd.take(r), "9", number.take(r)),
            2: lambda r: concat("+55 ", ddd.take(r), " 9", head.take(r), "-", tail.take(r)),
            3: null_rows,
        },
    )


def _near_duplicates(
    rng: np.random.Generator, table: pa.Table, w: Words, p: dict[str, np.ndarray]
) -> pa.Table:
    """Re-sent customers whose name/email differ only in case, accents or whitespace."""
    rows = np.flatnonzero(rng.random(table.num_rows) < NEAR_DUPLICATE_RATE)
    accented = _full_name(w, p, rows, False)
    ascii_ = pa.array(rng.random(rows.size) < 0.5)
    either = pc.if_else(ascii_, _full_name(w, p, rows, True), accented)
    # Case changes may also lose the accents; padding keeps them (so it trims back to the name).
    name = with_variants(
        accented,
        choose_codes(rng, rows.size, (0, 4, 3, 2)),
        {
            1: pc.utf8_upper(either).take,
            2: pc.utf8_lower(either).take,
            3: lambda r: concat("  ", accented.take(r), " "),
        },
    )
    email = table.column("email").combine_chunks().take(rows)
    email = with_variants(
        email,
        choose_codes(rng, rows.size, (2, 1, 1)),
        {
            1: pc.utf8_upper(email).take,
            2: lambda r: concat(email.take(r), " "),
        },
    )
    dup = table.take(rows)
    dup = dup.set_column(dup.schema.get_field_index("name"), "name", name)
    return dup.set_column(dup.schema.get_field_index("email"), "email", email)


def exact_duplicates(rng: np.random.Generator, table: pa.Table, rate: float) -> pa.Table:
    return table.take(np.flatnonzero(rng.random(table.num_rows) < rate))


@dataclass(frozen=True)
class CustomersChunk:
    """The customers file of a chunk, its dirt counts, and each customer once (`base`, in id
    order) with its registration time in seconds, for the change feed built on them."""

    table: pa.Table
    dirt: dict[str, int]
    base: pa.Table
    created: np.ndarray


def customers_chunk(
    rng: np.random.Generator, first_id: int, n: int, seed: int
) -> CustomersChunk:
    """Customers `first_id .. first_id + n - 1`, shuffled, with duplicates and dirt."""
    w = words()
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    parts = _name_parts(rng, w, n)
    cpf, cpf_codes = cpf_text(rng, valid_cpf_numbers(ids, seed))
    city, uf, city_idx = city_columns(rng, w, n)
    created = rng.integers(epoch_seconds(2019), epoch_seconds(2024, 12, 31), n)
    table = pa.table(
        {
            "customer_id": int_text(ids),
            "name": with_variants(
                _full_name(w, parts, np.arange(n), False),
                choose_codes(rng, n, (99, 1)),
                {1: null_rows},
            ),
            "cpf": cpf,
            "email": _email(rng, w, parts),
            "phone": _phone(rng, w, city_idx),
            "city": city,
            "uf": uf,
            "created_at": timestamp_text(rng, created, choose_codes(rng, n, CREATED_AT_FORMATS)),
        }
    )
    near = _near_duplicates(rng, table, w, parts)
    exact = exact_duplicates(rng, table, EXACT_DUPLICATE_RATE)
    out = pa.concat_tables([table, near, exact])
    dirt = {
        "customers.exact_duplicates": exact.num_rows,
        "customers.near_duplicates": near.num_rows,
        "customers.invalid_cpf": int(np.count_nonzero(cpf_codes != CPF_OK)),
    }
    return CustomersChunk(out.take(rng.permutation(out.num_rows)), dirt, table, created)


def sellers_table(rng: np.random.Generator, n: int) -> pa.Table:
    w = words()
    suffixes = strings(vocab.SELLER_SUFFIXES)
    name = concat(
        take(w.surname, rng.integers(0, len(w.surname), n)),
        " ",
        take(suffixes, rng.integers(0, len(suffixes), n)),
    )
    city, uf, _ = city_columns(rng, w, n)
    created = rng.integers(epoch_seconds(2016), epoch_seconds(2023), n)
    codes = choose_codes(rng, n, CREATED_AT_FORMATS)
    codes[codes == TS_NULL] = 0
    table = pa.table(
        {
            "seller_id": int_text(np.arange(1, n + 1)),
            "name": name,
            "city": city,
            "uf": uf,
            "created_at": timestamp_text(rng, created, codes),
        }
    )
    return pa.concat_tables([table, exact_duplicates(rng, table, EXACT_DUPLICATE_RATE)])
