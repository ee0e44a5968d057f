"""Forecasts: metrics against hand-computed values, the backtest's origins, methods on
series whose future is known, reproducibility with a fixed seed, and bad input."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pytest

from afluente.errors import ForecastError
from afluente.forecast import (
    HoltWinters,
    backtest_table,
    forecast_table,
    mape,
    origins,
    rolling_origin,
    seasonal_naive,
    smape,
)
from afluente.forecast.tables import regular_series


def test_mape_by_hand_leaves_out_zero_actuals() -> None:
    # |100-110|/100 = 0.10, |200-180|/200 = 0.10; the 0 actual has no percentage error
    assert mape([100, 200, 0], [110, 180, 5]) == pytest.approx(10.0)
    assert mape([0, 0], [1, 2]) is None


def test_smape_by_hand() -> None:
    # 2*10/(100+110), 2*20/(200+180), 2*5/(0+5) = 2, and 0/0 counts as 0
    expected = (20 / 210 + 40 / 380 + 2 + 0) / 4 * 100
    assert smape([100, 200, 0, 0], [110, 180, 5, 0]) == pytest.approx(expected)
    assert smape([], []) is None


def test_seasonal_naive_repeats_the_last_season() -> None:
    history = np.arange(1.0, 11.0)  # 1..10, season 4: the last season is 7, 8, 9, 10
    assert seasonal_naive(history, 4, 6).tolist() == [7, 8, 9, 10, 7, 8]


def trend_and_season(n: int) -> np.ndarray:
    t = np.arange(n, dtype=np.float64)
    return 100 + 2 * t + 10 * np.sin(2 * np.pi * t / 12)


def test_holt_winters_continues_an_exact_additive_series() -> None:
    series = trend_and_season(42)

    fitted = HoltWinters.fit(series[:36], 12)

    assert fitted.forecast(6) == pytest.approx(series[36:], abs=1e-6)
    assert fitted.sse == pytest.approx(0, abs=1e-9)


def test_holt_winters_multiplicative_season() -> None:
    t = np.arange(40, dtype=np.float64)
    series = (100 + 2 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))

    fitted = HoltWinters.fit(series[:36], 12, "mul")

    assert fitted.forecast(4) == pytest.approx(series[36:], rel=0.01)


def test_a_fixed_seed_gives_the_same_fit() -> None:
    noisy = trend_and_season(30) + np.random.default_rng(3).normal(0, 2, 30)

    first, second = HoltWinters.fit(noisy, 12, seed=7), HoltWinters.fit(noisy, 12, seed=7)

    assert first == second
    assert first.sse <= HoltWinters.fit(noisy, 12, seed=8).sse * 1.05


def test_backtest_origins_and_points() -> None:
    series = np.arange(20, dtype=np.float64) * 10

    assert origins(20, 3, 6, step=2) == [6, 8, 10, 12, 14, 16]
    points = rolling_origin(series, lambda h, k: seasonal_naive(h, 4, k), 3, 6, step=2)

    assert [(p.origin, p.step) for p in points[:4]] == [(6, 1), (6, 2), (6, 3), (8, 1)]
    # at origin 6 the history is 0..50; its last season is 20, 30, 40, 50
    assert [(p.actual, p.predicted) for p in points[:3]] == [(60, 20), (70, 30), (80, 40)]
    assert (points[-1].origin, points[-1].step, points[-1].actual) == (16, 3, 180)


def months(n: int) -> list[date]:
    return [date(2022 + i // 12, i % 12 + 1, 1) for i in range(n)]


def sales(n: int = 30) -> pa.Table:
    values = trend_and_season(n)
    return pa.table({"uf": ["SP"] * n + ["RJ"] * n, "month": months(n) * 2,
                     "revenue": [*values, *(values / 2)]})


def test_forecast_table_gives_the_next_periods_per_series_and_method() -> None:
    table = forecast_table(sales(), series="uf", time="month", value="revenue", season=12,
                           horizon=2)

    assert table.column_names == ["uf", "month", "method", "forecast"]
    rows = {(r["uf"], r["month"], r["method"]): r["forecast"] for r in table.to_pylist()}
    assert len(rows) == 8
    assert rows[("SP", date(2024, 7, 1), "holt_winters")] == pytest.approx(
        trend_and_season(31)[30], abs=1e-6)
    assert rows[("RJ", date(2024, 8, 1), "seasonal_naive")] == pytest.approx(
        trend_and_season(30)[19] / 2)


def test_backtest_table_scores_each_method_against_the_baseline() -> None:
    noisy = sales().set_column(2, "revenue", pa.array(
        sales()["revenue"].to_numpy() + np.random.default_rng(5).normal(0, 1, 60)))

    first = backtest_table(noisy, series="uf", time="month", value="revenue", season=12,
                           horizon=3, seed=1)
    again = backtest_table(noisy, series="uf", time="month", value="revenue", season=12,
                           horizon=3, seed=1)

    assert first.to_pylist() == again.to_pylist()
    by = {(r["uf"], r["method"]): r for r in first.to_pylist()}
    # 30 months; Holt-Winters needs 14: origins 14..27 (the last with 3 months after it)
    assert by[("SP", "holt_winters")]["origins"] == 14
    # the months start in January 2022: position 14 is March 2023, 27 April 2024
    assert by[("SP", "holt_winters")]["first_origin"] == date(2023, 3, 1)
    assert by[("SP", "holt_winters")]["last_origin"] == date(2024, 4, 1)
    assert by[("SP", "holt_winters")]["beats_baseline"] is True
    assert by[("SP", "seasonal_naive")]["beats_baseline"] is False


def test_gaps_count_as_zero_and_rows_of_one_period_add_up() -> None:
    table = pa.table({"uf": ["SP", "SP", "SP", "RJ", "SP"],
                      "month": [date(2024, 1, 5), date(2024, 1, 20), date(2024, 3, 1),
                                date(2024, 2, 1), None],
                      "revenue": [1.0, 2.0, 4.0, 8.0, 100.0]})

    regular = regular_series(table, ["uf"], "month", "revenue", "month")

    assert regular.keys == [("RJ",), ("SP",)]
    assert [v.tolist() for v in regular.values] == [[0, 8, 0], [3, 0, 4]]


def test_a_series_too_short_for_the_season_names_it() -> None:
    short = pa.table({"uf": ["SP"] * 13, "month": months(13), "revenue": [1.0] * 13})

    with pytest.raises(ForecastError) as caught:
        forecast_table(short, series="uf", time="month", value="revenue", season=12,
                       horizon=3)

    assert caught.value.message == (
        "series `SP` has 13 points; seasonal_naive and holt_winters with season 12 needs at "
        "least 14")
    assert caught.value.hint == "give it a longer history, or a shorter `season=`"


def test_a_backtest_without_origins_says_so() -> None:
    with pytest.raises(ForecastError, match="has no origin"):
        backtest_table(sales(15), series="uf", time="month", value="revenue", season=12,
                       horizon=3)


def test_a_missing_column_is_named() -> None:
    with pytest.raises(ForecastError, match=r"no column `amount` \(its columns: uf, month, "
                       r"revenue\)"):
        forecast_table(sales(), series="uf", time="month", value="amount", season=12,
                       horizon=3)


def test_tables_are_typed_even_when_a_metric_is_null_everywhere() -> None:
    zeros = pa.table({"uf": ["SP"] * 20, "month": months(20), "revenue": [0.0] * 20})

    table = backtest_table(zeros, series="uf", time="month", value="revenue", season=4,
                           horizon=2)

    assert table.schema.field("mape").type == pa.float64()
    assert table["mape"].to_pylist() == [None, None]  # no period with actual != 0
    assert table["smape"].to_pylist() == [0.0, 0.0]  # every forecast 0 too: no error
    assert table.schema.field("first_origin").type == pa.date32()
