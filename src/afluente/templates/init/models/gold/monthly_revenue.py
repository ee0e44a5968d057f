"""A Python model: inputs arrive as DuckDB relations; return a relation, Arrow or Polars."""

import afluente


@afluente.table(inputs=["silver.orders"], description="Revenue per month.", tags=["finance"])
def monthly_revenue(orders):
    return orders.query(
        "orders",
        "SELECT date_trunc('month', ordered_at) AS month, sum(amount) AS revenue, "
        "count(*) AS orders FROM orders GROUP BY 1 ORDER BY 1",
    )
