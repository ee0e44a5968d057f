"""Categories, products and their prices: the catalogue of the synthetic shop."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from afluente.demo import vocab
from afluente.demo.columns import (
    choose_codes,
    concat,
    int_text,
    money_text,
    money_text_br,
    null_rows,
    strings,
    strip_accents,
    take,
    with_variants,
)

CATEGORY_COLUMNS = ("category_id", "name", "department")
PRODUCT_COLUMNS = ("product_id", "name", "category", "brand", "price", "weight_g")


@dataclass(frozen=True)
class Catalog:
    """The product table plus what the order generator needs to price items."""

    products: pa.Table
    price_cents: np.ndarray
    seller_idx: np.ndarray
    popularity: np.ndarray


def categories_table() -> pa.Table:
    cats = vocab.CATEGORIES
    return pa.table(
        {
            "category_id": int_text(np.arange(1, len(cats) + 1)),
            "name": strings([c[0] for c in cats]),
            "department": strings([c[1] for c in cats]),
        }
    )


def _category_text(rng: np.random.Generator, cat_idx: np.ndarray) -> pa.Array:
    names = strings([c[0] for c in vocab.CATEGORIES])
    plain = strings([strip_accents(c[0]) for c in vocab.CATEGORIES])
    return with_variants(
        take(names, cat_idx),
        choose_codes(rng, cat_idx.size, (88, 4, 4, 2, 2)),
        {
            1: lambda r: pc.utf8_upper(take(names, cat_idx[r])),
            2: lambda r: pc.utf8_lower(take(plain, cat_idx[r])),
            3: lambda r: concat(take(plain, cat_idx[r]), " "),
            4: null_rows,
        },
    )


def _prices(rng: np.random.Generator, cat_idx: np.ndarray) -> np.ndarray:
    ranges = [vocab.DEPARTMENT_PRICES[c[1]] for c in vocab.CATEGORIES]
    low = np.log(np.array([r[0] for r in ranges], dtype=float))[cat_idx]
    high = np.log(np.array([r[1] for r in ranges], dtype=float))[cat_idx]
    cents = np.exp(low + (high - low) * rng.beta(1.5, 3.0, cat_idx.size)).astype(np.int64)
    return cents // 100 * 100 + 90  # prices end in ,90


def _product_names(rng: np.random.Generator, cat_idx: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Product names (`Air Fryer Ipê Preto`) and their brands."""
    nouns = [noun for c in vocab.CATEGORIES for noun in c[2]]
    offsets = np.cumsum([0] + [len(c[2]) for c in vocab.CATEGORIES])
    sizes = np.diff(offsets)
    noun_idx = offsets[cat_idx] + rng.integers(0, 1 << 30, cat_idx.size) % sizes[cat_idx]
    brands, variants = strings(vocab.BRANDS), strings(vocab.VARIANTS)
    brand = take(brands, rng.integers(0, len(brands), cat_idx.size))
    variant = take(variants, rng.integers(0, len(variants), cat_idx.size))
    return concat(take(strings(nouns), noun_idx), " ", brand, " ", variant), brand


def catalog(rng: np.random.Generator, n_products: int, n_sellers: int) -> Catalog:
    cat_idx = rng.integers(0, len(vocab.CATEGORIES), n_products)
    cents = _prices(rng, cat_idx)
    name, brand = _product_names(rng, cat_idx)
    price = with_variants(
        money_text(cents),
        choose_codes(rng, n_products, (95, 3, 2)),
        {
            1: lambda r: money_text_br(cents[r]),
            2: lambda r: money_text_br(cents[r], grouped=False),
        },
    )
    products = pa.table(
        {
            "product_id": int_text(np.arange(1, n_products + 1)),
            "name": name,
            "category": _category_text(rng, cat_idx),
            "brand": brand,
            "price": price,
            "weight_g": int_text(rng.integers(50, 30_000, n_products)),
        }
    )
    popularity = rng.pareto(1.2, n_products) + 1.0
    return Catalog(
        products=products,
        price_cents=cents,
        seller_idx=rng.integers(0, n_sellers, n_products),
        popularity=popularity / popularity.sum(),
    )
