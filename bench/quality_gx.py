"""The twenty rules of bench/quality.py in Great Expectations 1.x (pandas), timed.
Runs in its own venv: python bench/quality_gx.py PARQUET_FILE_OR_DIR"""

import json
import sys
import time

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd

started = time.perf_counter()
df = pd.read_parquet(sys.argv[1])
loaded = time.perf_counter() - started
E = gxe
suite_rules = [
    E.ExpectColumnValuesToNotBeNull(column="id"), E.ExpectColumnValuesToNotBeNull(column="code"),
    E.ExpectColumnValuesToNotBeNull(column="email", mostly=0.9),
    E.ExpectColumnValuesToNotBeNull(column="day"),
    E.ExpectColumnValuesToBeBetween(column="amount", min_value=0, max_value=200),
    E.ExpectColumnValuesToBeBetween(column="bucket", min_value=0, max_value=4),
    E.ExpectColumnValuesToBeBetween(column="id", min_value=0),
    E.ExpectColumnValuesToBeInSet(column="bucket", value_set=[0, 1, 2, 3, 4]),
    E.ExpectColumnValuesToMatchRegex(column="code", regex="^c[0-9]+$"),
    E.ExpectColumnValuesToMatchRegex(column="email", regex="@example[.]com$"),
    E.ExpectColumnValueLengthsToBeBetween(column="code", min_value=2, max_value=4),
    E.ExpectColumnValueLengthsToBeBetween(column="email", max_value=40),
    E.ExpectColumnValuesToMatchRegex(
        column="email", regex=r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"),
    E.ExpectColumnValuesToNotBeNull(column="day"),
    E.ExpectColumnValuesToBeBetween(column="amount", min_value=0),
    E.ExpectColumnValuesToBeBetween(column="id", min_value=0),
    E.ExpectColumnValuesToNotBeNull(column="day"),
    E.ExpectColumnValuesToBeBetween(column="amount", min_value=1),
    E.ExpectColumnValuesToBeInSet(column="code", value_set=["c1", "c2", "c3"], mostly=0.001),
    E.ExpectColumnValuesToBeBetween(column="bucket", min_value=0, max_value=3),
]
context = gx.get_context(mode="ephemeral")
batch = (context.data_sources.add_pandas("p").add_dataframe_asset("a")
         .add_batch_definition_whole_dataframe("b").get_batch(batch_parameters={"dataframe": df}))
suite = context.suites.add(gx.ExpectationSuite(name="s", expectations=suite_rules))
t0 = time.perf_counter()
result = batch.validate(suite)
validate = time.perf_counter() - t0
print(json.dumps({"status": "ok", "version": gx.__version__, "load_s": round(loaded, 2),
                  "validate_s": round(validate, 2), "rules": len(suite_rules),
                  "success": bool(result.success)}))
