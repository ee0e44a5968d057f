"""Forecasts of time series in gold, with a rolling-origin backtest against a seasonal-naive
baseline (docs/ml.md, "Forecasts"). numpy only."""

from afluente.forecast.backtest import BacktestPoint, origins, rolling_origin
from afluente.forecast.methods import HoltWinters, holt_winters, seasonal_naive
from afluente.forecast.metrics import mape, smape
from afluente.forecast.tables import backtest_table, forecast_table

__all__ = ["BacktestPoint", "HoltWinters", "backtest_table", "forecast_table", "holt_winters",
           "mape", "origins", "rolling_origin", "seasonal_naive", "smape"]
