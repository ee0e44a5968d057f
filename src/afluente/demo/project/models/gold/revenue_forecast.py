"""gold.revenue_forecast: the next six months of revenue per state.

Two methods per state: the seasonal-naive baseline (the same month a year before) and
Holt-Winters with an additive yearly season, fitted by least squares (afluente.forecast,
numpy only). How well each did on the past is in gold.revenue_backtest."""

from typing import Any

import afluente

SERIES = {"series": "uf", "time": "month", "value": "gross_revenue", "season": 12, "seed": 17}


@afluente.table(
    inputs=["gold.revenue_by_state_month"],
    frame="arrow",
    description=(
        "Revenue forecast per state for the six months after the last month of orders, by"
        " the seasonal-naive baseline and by Holt-Winters (additive season of 12 months)."
        " Months without orders count as 0; orders without a date are left out."
    ),
    tags=["mart", "forecast"],
    columns={
        "uf": {"description": "Customer state, '??' when unknown",
               "derived_from": ["gold.revenue_by_state_month.uf"],
               "transformation": "identity"},
        "month": {"description": "First day of the forecast month"},
        "method": {"description": "seasonal_naive or holt_winters"},
        "forecast": {"description": "Forecast gross revenue (BRL)",
                     "derived_from": ["gold.revenue_by_state_month.gross_revenue"]},
    },
)
def revenue_forecast(revenue: Any) -> Any:
    from afluente import forecast  # numpy: loaded when the table is built

    return forecast.forecast_table(revenue, horizon=6, **SERIES)
