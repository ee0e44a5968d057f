"""The synthetic landing zone: deterministic, well-formed CSV, and dirty at realistic rates."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pytest

from afluente.demo.columns import strip_accents
from afluente.demo.landing import LandingSummary, generate_landing

ORDERS = 20_000


def cpf_is_valid(text: str | None) -> bool:
    digits = re.sub(r"\D", "", text or "")
    if len(digits) != 11 or len(set(digits)) == 1:
        return False
    numbers = [int(ch) for ch in digits]
    for size in (9, 10):
        total = sum(d * w for d, w in zip(numbers[:size], range(size + 1, 1, -1), strict=True))
        if (total * 10) % 11 % 10 != numbers[size]:
            return False
    return True


def test_cpf_check_digits_reference() -> None:
    assert cpf_is_valid("529.982.247-25")
    assert cpf_is_valid("52998224725")
    assert not cpf_is_valid("52998224726")
    assert not cpf_is_valid("111.111.111-11")
    assert not cpf_is_valid("5299822472")


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> LandingSummary:
    return generate_landing(tmp_path_factory.mktemp("landing"), orders=ORDERS, seed=7)


def rows(summary: LandingSummary, entity: str) -> list[dict[str, str]]:
    spec = summary[entity]
    out: list[dict[str, str]] = []
    for path in spec.files:
        with path.open(encoding="utf-8", newline="") as handle:
            out.extend(csv.DictReader(handle, delimiter=spec.delimiter))
    return out


def file_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.csv"))}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    generate_landing(tmp_path / "a", orders=2_000, seed=1)
    generate_landing(tmp_path / "b", orders=2_000, seed=1)
    generate_landing(tmp_path / "c", orders=2_000, seed=2)
    first = file_bytes(tmp_path / "a")
    assert first == file_bytes(tmp_path / "b")
    other = file_bytes(tmp_path / "c")
    assert first.keys() == other.keys()
    assert all(first[name] != other[name] for name in first if "categories" not in name)


def test_regenerating_replaces_old_files(tmp_path: Path) -> None:
    generate_landing(tmp_path, orders=1_500, seed=3)
    summary = generate_landing(tmp_path, orders=10, seed=3)
    assert sorted(tmp_path.rglob("*.csv")) == sorted(
        f for entity in summary.entities.values() for f in entity.files
    )


def test_summary_matches_files(landing: LandingSummary) -> None:
    assert set(landing.entities) == {
        "customers",
        "customer_updates",
        "categories",
        "products",
        "sellers",
        "orders",
        "order_items",
        "payments",
    }
    assert landing["payments"].delimiter == ";"
    assert {e.delimiter for n, e in landing.entities.items() if n != "payments"} == {","}
    names = {p.name for p in landing["orders"].files}
    assert names == {"orders_0001.csv", "orders_updates_0001.csv"}
    for entity in landing.entities.values():
        data = rows(landing, entity.name)
        assert len(data) == entity.rows > 0
        assert tuple(data[0]) == entity.columns
        assert all(p.parent == landing.out_dir / entity.name for p in entity.files)
    assert landing.total_rows == sum(e.rows for e in landing.entities.values())


def test_sizes_scale_with_orders(landing: LandingSummary) -> None:
    orders = {r["order_id"] for r in rows(landing, "orders")}
    customers = {r["customer_id"] for r in rows(landing, "customers")}
    assert len(orders) == ORDERS
    assert len(customers) == ORDERS // 5
    items_per_order = landing["order_items"].rows / ORDERS
    assert 1.4 < items_per_order < 1.9
    assert 1.0 < landing["payments"].rows / ORDERS < 1.25


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    generate_landing(tmp_path, orders=500, progress=lambda e, d, t: calls.append((e, d, t)))
    assert ("orders", 500, 500) in calls
    assert ("customers", 100, 100) in calls


def test_orders_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate_landing(tmp_path, orders=0)


def rate(count: int, total: int) -> float:
    return count / total


def test_duplicates_exact_and_near(landing: LandingSummary) -> None:
    customers = rows(landing, "customers")
    as_tuples = [tuple(r.values()) for r in customers]
    exact = len(as_tuples) - len(set(as_tuples))
    assert 0.005 < rate(exact, ORDERS // 5) < 0.02
    by_id: dict[str, set[tuple[str, ...]]] = {}
    for r in customers:
        by_id.setdefault(r["customer_id"], set()).add(tuple(r.values()))
    near = [variants for variants in by_id.values() if len(variants) > 1]
    assert 0.01 < rate(len(near), ORDERS // 5) < 0.04
    for variants in near:
        names = {re.sub(r"\s+", " ", v[1]).strip().lower() for v in variants if v[1]}
        accentless = {strip_accents(n) for n in names}
        assert len(accentless) == 1, variants
    for entity in ("orders", "order_items", "payments"):
        data = [tuple(r.values()) for r in rows(landing, entity)]
        assert 0.002 < rate(len(data) - len(set(data)), len(data)) < 0.02, entity


def test_cpfs_valid_invalid_masked_and_plain(landing: LandingSummary) -> None:
    cpfs = [r["cpf"] for r in rows(landing, "customers")]
    invalid = [c for c in cpfs if not cpf_is_valid(c)]
    assert 0.02 < rate(len(invalid), len(cpfs)) < 0.07
    assert any(re.fullmatch(r"\d{3}\.\d{3}\.\d{3}-\d{2}", c) for c in cpfs)
    assert any(re.fullmatch(r"\d{11}", c) for c in cpfs)
    assert any(re.fullmatch(r"\d{10}", c) for c in cpfs)  # wrong length
    assert "" in cpfs


def test_orders_of_missing_customers(landing: LandingSummary) -> None:
    known = {r["customer_id"] for r in rows(landing, "customers")}
    orders = rows(landing, "orders")
    missing = [o for o in orders if o["customer_id"] and o["customer_id"] not in known]
    assert 0.005 < rate(len(missing), len(orders)) < 0.02
    assert landing.dirt["orders.missing_customer"] > 0


def test_late_updates_resend_orders_with_newer_status(landing: LandingSummary) -> None:
    con = duckdb.connect()
    spec = landing["orders"]
    path = str(landing.out_dir / "orders")
    base = f"read_csv('{path}/orders_0*.csv', all_varchar=true)"
    updates = f"read_csv('{path}/orders_updates_*.csv', all_varchar=true)"
    assert spec.rows > ORDERS
    row = con.execute(f"""
        SELECT count(*), count(DISTINCT u.order_id),
               count(*) FILTER (WHERE u.updated_at <= o.updated_at),
               count(*) FILTER (WHERE lower(u.status) = lower(o.status))
        FROM {updates} u JOIN (SELECT DISTINCT * FROM {base}) o USING (order_id)
    """).fetchone()
    assert row is not None
    resent, distinct, not_newer, unchanged = row
    assert 0.02 < rate(distinct, ORDERS) < 0.1
    assert resent > distinct  # some orders are updated twice
    assert not_newer == 0 and unchanged == 0


def test_money_with_decimal_commas(landing: LandingSummary) -> None:
    amounts = [r["amount"] for r in rows(landing, "payments")]
    assert rate(sum("," in a for a in amounts), len(amounts)) > 0.9
    assert any(re.fullmatch(r"\d{1,3}(\.\d{3})+,\d{2}", a) for a in amounts)
    assert any(re.fullmatch(r"\d+\.\d{2}", a) for a in amounts)
    prices = [r["unit_price"] for r in rows(landing, "order_items")]
    assert 0.02 < rate(sum("," in p for p in prices), len(prices)) < 0.07


def test_mixed_and_broken_dates(landing: LandingSummary) -> None:
    dates = [r["purchased_at"] for r in rows(landing, "orders")]
    patterns = {
        "iso": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",
        "iso_t": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d",
        "br": r"\d\d/\d\d/\d{4} \d\d:\d\d",
        "date": r"\d{4}-\d\d-\d\d",
        "br_date": r"\d\d/\d\d/\d{4}",
    }
    counts = {k: sum(bool(re.fullmatch(p, d)) for d in dates) for k, p in patterns.items()}
    assert counts["iso"] / len(dates) > 0.7
    assert all(counts[k] > 0 for k in patterns)
    assert "" in dates
    assert {"32/13/2024", "2024-02-30"} & set(dates)


def test_unconformed_cities_states_and_categories(landing: LandingSummary) -> None:
    customers = rows(landing, "customers")
    cities = {r["city"] for r in customers}
    assert {"São Paulo", "SÃO PAULO", "SAO PAULO", "sao paulo"} <= cities
    assert {"SP", "sp"} <= {r["uf"] for r in customers}
    categories = {r["category"] for r in rows(landing, "products")}
    assert len(categories) > len(rows(landing, "categories")) + 10
