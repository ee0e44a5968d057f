"""gold.dim_date: the calendar of the orders' date range, in Portuguese, with holidays.

`afluente.sql` runs the calendar query on whichever engine gave the frame (DuckDB or
Spark), so the same function builds the table on both."""

from typing import Any

import afluente

CALENDAR_SQL = """
WITH bounds AS (
    SELECT min(order_date) AS first_day, max(order_date) AS last_day
    FROM orders
),
series AS (
    SELECT unnest(generate_series(first_day, last_day, INTERVAL 1 DAY)) AS d
    FROM bounds
    WHERE first_day IS NOT NULL
),
days AS (
    SELECT CAST(d AS DATE) AS d FROM series
),
holidays(month, day, name, since) AS (
    VALUES
        (1, 1, 'Confraternização Universal', 1),
        (4, 21, 'Tiradentes', 1),
        (5, 1, 'Dia do Trabalho', 1),
        (9, 7, 'Independência do Brasil', 1),
        (10, 12, 'Nossa Senhora Aparecida', 1),
        (11, 2, 'Finados', 1),
        (11, 15, 'Proclamação da República', 1),
        (11, 20, 'Dia Nacional de Zumbi e da Consciência Negra', 2024),
        (12, 25, 'Natal', 1)
)
SELECT
    CAST(year(d) * 10000 + month(d) * 100 + day(d) AS INTEGER) AS date_key,
    d AS date,
    year(d) AS year,
    quarter(d) AS quarter,
    month(d) AS month,
    ['janeiro', 'fevereiro', 'março', 'abril', 'maio', 'junho', 'julho', 'agosto',
     'setembro', 'outubro', 'novembro', 'dezembro'][month(d)] AS month_name,
    CAST(date_trunc('month', d) AS DATE) AS month_start,
    isoyear(d) AS iso_year,
    weekofyear(d) AS iso_week,
    isodow(d) AS day_of_week,
    ['segunda-feira', 'terça-feira', 'quarta-feira', 'quinta-feira', 'sexta-feira',
     'sábado', 'domingo'][isodow(d)] AS day_name,
    isodow(d) >= 6 AS is_weekend,
    h.name IS NOT NULL AS is_holiday,
    h.name AS holiday_name
FROM days
LEFT JOIN holidays AS h ON h.month = month(d) AND h.day = day(d) AND year(d) >= h.since
UNION ALL
SELECT -1, NULL, NULL, NULL, NULL, 'desconhecido', NULL, NULL, NULL, NULL, 'desconhecido',
       false, false, NULL
ORDER BY date_key
"""


@afluente.table(
    inputs=["silver.orders"],
    description=(
        "Calendar covering the orders' purchase dates: year, quarter, month and its Portuguese"
        " name, ISO week, day of week (1 = Monday), weekend flag and the fixed-date Brazilian"
        " national holidays. date_key is yyyymmdd; -1 is the unknown date."
    ),
)
def dim_date(orders: Any) -> Any:
    return afluente.sql(CALENDAR_SQL, orders=orders)
