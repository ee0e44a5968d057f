"""gold.dim_customer: the customer dimension, SCD type 2 by apply_changes.

Each run offers the current state of every customer (silver.customers) as a change event
whose sequence is when the copy kept landed (`landed_at`). apply_changes keeps the events it
has seen, so a customer whose name, CPF, e-mail, phone, city or state changes gets a new
version valid from the landing of the change; an identical copy re-sent later changes no
tracked column and is folded into the open version. The surrogate key hashes (customer_id,
landed_at) of the version's latest event: a re-send gives the version a new key, and the
facts (rebuilt in full) follow it.
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
UNKNOWN_COLUMNS = {"customer_id": "BIGINT", **COLUMNS, "landed_at": "TIMESTAMPTZ"}
UNKNOWN = (
    f"SELECT * REPLACE ({UNKNOWN_KEY} AS customer_id, 'Cliente desconhecido' AS name, "
    "false AS cpf_valid, NULL AS cpf, NULL AS email, NULL AS phone, NULL AS city, NULL AS uf, "
    "TIMESTAMPTZ '1900-01-01 00:00:00+00' AS landed_at) "
    f"FROM ({unknown_member_sql('customer_key', UNKNOWN_COLUMNS)})"
)
EVENTS = f"""
SELECT {surrogate_key_sql(["customer_id", "landed_at"])} AS customer_key, *
FROM customers
UNION ALL BY NAME
{UNKNOWN}
"""


@afluente.table(
    inputs=["silver.customers"],
    kind="apply_changes",
    keys=["customer_id"],
    sequence_by="landed_at",
    scd_type=2,
    track_history_columns=TRACKED,
    description=(
        "Customer dimension, SCD type 2: one version per customer state, valid_from/valid_to"
        " in landing time, is_current on the latest. customer_key is a stable surrogate key"
        " (hash of customer_id and landed_at); -1 is the unknown member."
    ),
    tags=["pii"],
    columns={
        "customer_key": {"description": "Surrogate key of the version; -1 = unknown customer"},
        "landed_at": {"description": "When the state of this version landed"},
        "cpf": {"tags": ["pii"]},
        "email": {"tags": ["pii"]},
        "phone": {"tags": ["pii"]},
        "name": {"tags": ["pii"]},
    },
)
def dim_customer(customers: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    return customers.query("customers", EVENTS)
