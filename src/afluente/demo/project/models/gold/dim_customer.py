"""gold.dim_customer: the customer dimension, SCD type 2 by apply_changes.

The change events are the registration of each customer (silver.customers, at created_at)
and the CRM's change feed (silver.customer_updates: moves, new e-mails, LGPD deletions, at
updated_at). apply_changes orders them by that business time whatever order they landed in,
so an event that arrives late is put in its place in the history. A customer who moves gets a
new version valid from the move; a deletion closes the current version. The surrogate key
hashes (customer_id, changed_at): stable across runs.
"""

import duckdb

import afluente
from afluente.transform import UNKNOWN_KEY, surrogate_key_sql, unknown_member_sql

TRACKED = ["name", "cpf", "email", "phone", "city", "uf"]
COLUMNS = {
    "name": "VARCHAR",
    "cpf": "VARCHAR",
    "cpf_valid": "BOOLEAN",
    "email": "VARCHAR",
    "phone": "VARCHAR",
    "city": "VARCHAR",
    "uf": "VARCHAR",
    "created_at": "TIMESTAMP",
}
UNKNOWN_COLUMNS = {"customer_id": "BIGINT", **COLUMNS, "changed_at": "TIMESTAMPTZ"}
UNKNOWN = (
    f"SELECT * REPLACE ({UNKNOWN_KEY} AS customer_id, 'Cliente desconhecido' AS name, "
    "false AS cpf_valid, NULL AS cpf, NULL AS email, NULL AS phone, NULL AS city, NULL AS uf, "
    "TIMESTAMPTZ '1900-01-01 00:00:00+00' AS changed_at) "
    f"FROM ({unknown_member_sql('customer_key', UNKNOWN_COLUMNS)})"
)
STATE = "customer_id, name, cpf, cpf_valid, email, phone, city, uf, created_at"
REGISTERED = f"""
SELECT {STATE}, CAST(coalesce(created_at, TIMESTAMP '1900-01-01') AS TIMESTAMPTZ) AS changed_at,
       'U' AS op
FROM customers
"""
# a change event: the feed's new values, the registration's name and CPF
CHANGED = (
    "u.customer_id, c.name, c.cpf, c.cpf_valid, u.email, u.phone, u.city, u.uf, c.created_at, "
    "CAST(u.updated_at AS TIMESTAMPTZ) AS changed_at, u.op"
)
EVENTS = f"""
SELECT {surrogate_key_sql(["customer_id", "changed_at"])} AS customer_key, *
FROM events
UNION ALL BY NAME
{UNKNOWN}
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
def dim_customer(
    customers: duckdb.DuckDBPyRelation, updates: duckdb.DuckDBPyRelation
) -> duckdb.DuckDBPyRelation:
    registered = customers.query("customers", REGISTERED)
    changed = updates.set_alias("u").join(
        customers.set_alias("c"), "u.customer_id = c.customer_id", how="left"
    ).project(CHANGED)
    return registered.union(changed).query("events", EVENTS)
