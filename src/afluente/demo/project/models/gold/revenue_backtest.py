"""gold.revenue_backtest: how the revenue forecast would have done on past months.

A rolling-origin backtest per state: at every month from the 14th on, each method is
refitted on the months before it and forecasts the next three; MAPE and sMAPE over all of
them, and whether Holt-Winters beats the seasonal-naive baseline."""

from typing import Any

import afluente

SERIES = {"series": "uf", "time": "month", "value": "gross_revenue", "season": 12, "seed": 17}


@afluente.table(
    inputs=["gold.revenue_by_state_month"],
    frame="arrow",
    description=(
        "Rolling-origin backtest of the revenue forecast per state and method: the number and"
        " range of origins, the horizon in months, MAPE and sMAPE (percent) and whether the"
        " method's sMAPE beats the seasonal-naive baseline's."
    ),
    tags=["mart", "forecast"],
    columns={
        "uf": {"description": "Customer state, '??' when unknown",
               "derived_from": ["gold.revenue_by_state_month.uf"],
               "transformation": "identity"},
        "mape": {"description": "Mean absolute percentage error (percent; months with no"
                 " revenue left out)",
                 "derived_from": ["gold.revenue_by_state_month.gross_revenue"]},
        "smape": {"description": "Symmetric MAPE (percent, 0 to 200)",
                  "derived_from": ["gold.revenue_by_state_month.gross_revenue"]},
    },
)
def revenue_backtest(revenue: Any) -> Any:
    from afluente import forecast  # numpy: loaded when the table is built

    return forecast.backtest_table(revenue, horizon=3, **SERIES)
