"""Forecast and backtest tables from a gold table of time series (one per series key), for
a Python model:

    @afluente.table(inputs=["gold.revenue_by_state_month"], frame="arrow")
    def revenue_forecast(revenue):
        return forecast.forecast_table(revenue, series="uf", time="month",
                                       value="gross_revenue", season=12, horizon=6)

Each series is made regular first: the periods from the table's first to its last (the
same for every series), a period without a row is 0 (the tables are sums: no order, no
revenue), several rows of one period add up, rows without a time are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from afluente.errors import ForecastError
from afluente.forecast.backtest import errors, rolling_origin
from afluente.forecast.methods import (
    HoltWinters,
    Seasonality,
    Series,
    holt_winters,
    require_length,
    seasonal_naive,
)

if TYPE_CHECKING:
    import pyarrow as pa

Frequency = Literal["month", "week", "day"]
MethodName = Literal["seasonal_naive", "holt_winters"]
METHODS: tuple[MethodName, ...] = ("seasonal_naive", "holt_winters")
BASELINE: MethodName = "seasonal_naive"


@dataclass(frozen=True)
class Settings:
    """How to forecast: the season's length in periods, how far ahead, the method's knobs."""

    season: int
    horizon: int
    seasonal: Seasonality = "add"
    seed: int = 0

    def method(self, name: MethodName) -> Callable[[Series, int], Series]:
        if name == "seasonal_naive":
            return lambda history, horizon: seasonal_naive(history, self.season, horizon)
        return lambda history, horizon: holt_winters(history, self.season, horizon,
                                                     self.seasonal, self.seed)

    def needed(self, names: Sequence[MethodName]) -> int:
        return max(HoltWinters.minimum_points(self.season) if n == "holt_winters"
                   else self.season for n in names)


@dataclass(frozen=True)
class Regular:
    """The series of a table on one regular calendar."""

    keys: list[tuple[Any, ...]]
    values: list[Series]
    periods: Any  # numpy datetime64 array, one per position
    freq: Frequency
    key_types: list[Any]  # the Arrow types of the series key columns


def forecast_table(data: Any, *, series: str | Sequence[str], time: str, value: str,
                   season: int, horizon: int, freq: Frequency = "month",
                   seasonal: Seasonality = "add", seed: int = 0,
                   methods: Sequence[MethodName] = METHODS) -> pa.Table:
    """The next `horizon` periods of every series, by each method: columns the series
    key(s), `time`, `method`, `forecast`."""
    settings, regular = _prepare(data, series, time, value, season, horizon, freq, seasonal,
                                 seed, methods)
    future = _future(regular, horizon)
    rows: list[tuple[Any, ...]] = []
    for key, history in zip(regular.keys, regular.values, strict=True):
        for name in methods:
            predicted = settings.method(name)(history, horizon)
            rows += [(*key, future[k], name, float(predicted[k])) for k in range(horizon)]
    names = [*_names(series), time, "method", "forecast"]
    return _table(names, rows, [*regular.key_types, "date32", "string", "float64"])


def backtest_table(data: Any, *, series: str | Sequence[str], time: str, value: str,
                   season: int, horizon: int, freq: Frequency = "month",
                   seasonal: Seasonality = "add", seed: int = 0,
                   methods: Sequence[MethodName] = METHODS,
                   first_origin: int | None = None, step: int = 1) -> pa.Table:
    """A rolling-origin backtest of each method on every series: per series and method the
    origins' count and range, MAPE and sMAPE, and whether it beats the seasonal-naive
    baseline's sMAPE."""
    settings, regular = _prepare(data, series, time, value, season, horizon, freq, seasonal,
                                 seed, (*methods, BASELINE))
    start = settings.needed([*methods, BASELINE]) if first_origin is None else first_origin
    rows: list[tuple[Any, ...]] = []
    for key, history in zip(regular.keys, regular.values, strict=True):
        scores = {}
        for name in dict.fromkeys([BASELINE, *methods]):
            points = rolling_origin(history, settings.method(name), horizon, start, step)
            scores[name] = (points, *errors(points))
        baseline = scores[BASELINE][2]
        for name in methods:
            points, mape_value, smape_value = scores[name]
            origins = sorted({p.origin for p in points})
            rows.append((*key, name, len(origins), _period(regular, origins[0]),
                         _period(regular, origins[-1]), horizon, mape_value, smape_value,
                         None if smape_value is None or baseline is None
                         else smape_value < baseline))
    names = [*_names(series), "method", "origins", "first_origin", "last_origin", "horizon",
             "mape", "smape", "beats_baseline"]
    return _table(names, rows, [*regular.key_types, "string", "int64", "date32", "date32",
                                "int64", "float64", "float64", "bool_"])


def _prepare(data: Any, series: str | Sequence[str], time: str, value: str, season: int,
             horizon: int, freq: Frequency, seasonal: Seasonality, seed: int,
             methods: Sequence[MethodName]) -> tuple[Settings, Regular]:
    if season < 1 or horizon < 1:
        raise ForecastError(f"season ({season}) and horizon ({horizon}) must be at least 1")
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ForecastError(f"unknown forecast method {unknown[0]!r}",
                            hint=f"choose from {', '.join(METHODS)}")
    settings = Settings(season, horizon, seasonal, seed)
    regular = regular_series(_arrow(data), _names(series), time, value, freq)
    for key, history in zip(regular.keys, regular.values, strict=True):
        require_length(history, settings.needed(methods), season,
                       " and ".join(dict.fromkeys(methods)), _label(key))
    return settings, regular


def regular_series(table: pa.Table, series: Sequence[str], time: str, value: str,
                   freq: Frequency) -> Regular:
    """Each series of `table` on the periods from its first to its last time."""
    missing = [c for c in (*series, time, value) if c not in table.column_names]
    if missing:
        raise ForecastError(f"the table has no column `{missing[0]}` (its columns: "
                            f"{', '.join(table.column_names)})",
                            hint="name the series, time and value columns of that table")
    times = table[time].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    known = ~np.isnat(times)
    if not known.any():
        raise ForecastError(f"column `{time}` has no time to forecast from")
    positions = _positions(times[known], freq)
    amounts = np.nan_to_num(np.asarray(table[value].to_numpy(zero_copy_only=False),
                                       dtype=np.float64)[known])
    key_rows = list(zip(*(table[c].to_pylist() for c in series), strict=True))
    key_rows = [k for k, keep in zip(key_rows, known, strict=True) if keep]
    keys = sorted(set(key_rows), key=repr)
    index = {k: i for i, k in enumerate(keys)}
    values = np.zeros((len(keys), int(positions.max()) + 1))
    np.add.at(values, (np.array([index[k] for k in key_rows]), positions), amounts)
    start = _start(times[known].min(), freq)
    periods = start + np.arange(values.shape[1]) * (7 if freq == "week" else 1)
    return Regular(keys, list(values), periods, freq,
                   [table.schema.field(c).type for c in series])


def _positions(times: Any, freq: Frequency) -> Any:
    if freq == "month":
        months = times.astype("datetime64[M]")
        return (months - months.min()).astype(np.int64)
    days = (times - times.min()).astype(np.int64)
    return days // 7 if freq == "week" else days


def _start(first: Any, freq: Frequency) -> Any:
    return first.astype("datetime64[M]") if freq == "month" else first


def _future(regular: Regular, horizon: int) -> list[Any]:
    return [_period(regular, len(regular.periods) + k) for k in range(horizon)]


def _period(regular: Regular, position: int) -> Any:
    unit = 7 if regular.freq == "week" else 1
    return (regular.periods[0] + position * unit).astype("datetime64[D]").item()


def _names(series: str | Sequence[str]) -> list[str]:
    return [series] if isinstance(series, str) else list(series)


def _label(key: tuple[Any, ...]) -> str:
    return ", ".join(str(k) for k in key)


def _arrow(data: Any) -> pa.Table:
    import pyarrow as pa

    from afluente.engines.frames import as_frame

    return data if isinstance(data, pa.Table) else as_frame(data, "arrow")


def _table(names: list[str], rows: list[tuple[Any, ...]], types: list[Any]) -> pa.Table:
    """The rows as a table of the given types (names of pyarrow type functions, or types),
    typed even when a column holds only nulls or there is no row."""
    import pyarrow as pa

    kinds = [getattr(pa, t)() if isinstance(t, str) else t for t in types]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table([pa.array(list(c), type=k) for c, k in zip(columns, kinds, strict=True)],
                    names=names)
