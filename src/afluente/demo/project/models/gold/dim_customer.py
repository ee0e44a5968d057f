"""gold.dim_customer: the customer dimension, SCD type 2 by apply_changes.

The change events are the registration of each customer (silver.customers, at created_at)
and the CRM's change feed (silver.customer_updates: moves, new e-mails, LGPD deletions, at
updated_at). apply_changes orders them by that business time whatever order they landed in,
so an event that arrives late is put in its place in the history. A customer who moves gets a
new version valid from the move; a deletion closes the current version. The surrogate key
hashes (customer_id, changed_at as text): stable across runs and engines.
"""

from typing import Any

import afluente
from afluente.transform import UNKNOWN_KEY, surrogate_key_sql

TRACKED = ["name", "cpf", "email", "phone", "city", "uf"]
STATE = "customer_id, name, cpf, cpf_valid, email, phone, city, uf, created_at"
# the registration, then the feed's change events with the registration's name and CPF; the
# surrogate key hashes the customer and the event's time as text both engines write alike
EVENTS = f"""
WITH events AS (
    SELECT {STATE},
           CAST(coalesce(created_at, TIMESTAMP '1900-01-01') AS TIMESTAMPTZ) AS changed_at,
           'U' AS op
    FROM customers
    UNION ALL
    SELECT u.customer_id, c.name, c.cpf, c.cpf_valid, u.email, u.phone, u.city, u.uf,
           c.created_at, CAST(u.updated_at AS TIMESTAMPTZ) AS changed_at, u.op
    FROM updates AS u
    LEFT JOIN customers AS c ON u.customer_id = c.customer_id
),
keyed AS (
    SELECT *, strftime(changed_at, '%Y-%m-%d %H:%M:%S') AS changed_text FROM events
)
SELECT {surrogate_key_sql(["customer_id", "changed_text"])} AS customer_key,
       {STATE}, changed_at, op
FROM keyed
UNION ALL
SELECT {UNKNOWN_KEY}, {UNKNOWN_KEY}, 'Cliente desconhecido', CAST(NULL AS VARCHAR), false,
       CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
       CAST(NULL AS VARCHAR), CAST(NULL AS TIMESTAMP), TIMESTAMPTZ '1900-01-01 00:00:00+00',
       CAST(NULL AS VARCHAR)
"""


@afluente.table(
    inputs={"customers": "silver.customers", "updates": "silver.customer_updates"},
    kind="apply_changes",
    keys=["customer_id"],
    sequence_by="changed_at",
    apply_as_deletes="op = 'D'",
    except_columns=["op"],
    scd_type=2,
    track_history_columns=TRACKED,
    description=(
        "Customer dimension, SCD type 2: one version per customer state, valid_from/valid_to"
        " in business time (registration, then the CRM's changes), is_current on the latest;"
        " a deletion closes the current version. customer_key is a stable surrogate key"
        " (hash of customer_id and changed_at); -1 is the unknown member."
    ),
    tags=["pii"],
    columns={
        "customer_key": {"description": "Surrogate key of the version; -1 = unknown customer"},
        "changed_at": {"description": "When this version's state began (business time)"},
        "cpf": {"tags": ["pii"]},
        "email": {"tags": ["pii"]},
        "phone": {"tags": ["pii"]},
        "name": {"tags": ["pii"]},
    },
)
def dim_customer(customers: Any, updates: Any) -> Any:
    """The change events as one query in the project's SQL, on whichever engine runs it."""
    return afluente.sql(EVENTS, customers=customers, updates=updates)
