"""Loading `afluente.yml`: defaults, unknown keys with did-you-mean, invalid values."""

from __future__ import annotations

from pathlib import Path

from afluente.config.loader import find_project_root
from afluente.connectors import source_config
from afluente.connectors.files import CsvOptions, FilesSource
from afluente.engines import DuckDBSettings, engine_settings
from afluente.errors import ConfigError, Location

from .conftest import WriteProject, config_error, load

TOP_KEYS = (
    "valid keys here: alerts, default_environment, engine, engines, environments, governance, "
    "layers, ml, models, name, openlineage, run, schedules, sensors, sinks, sources, state, vars, "
    "warehouse"
)
SOURCE_KEYS = (
    "valid keys here: changed_files, columns, description, format, freshness, maintenance, "
    "max_bytes, max_files, mode, "
    "options, path, retention, retention_column, schema_evolution, storage_options, stream, "
    "table, tags, type"
)
CSV_KEYS = (
    "valid keys here: decimal_separator, delimiter, encoding, escape, flatten, header, quote, "
    "sheet"
)


def test_minimal_project_gets_defaults(write_project: WriteProject) -> None:
    root = write_project("name: shop\n")

    project = load(root)

    config = project.config
    assert config.name == "shop"
    assert (config.warehouse, config.models.path, config.state) == ("warehouse", "models", None)
    assert engine_settings(project) == DuckDBSettings(threads=None, memory_limit=None)
    assert config.layers == ("bronze", "silver", "gold")
    assert (config.sources, config.vars, config.environments) == ({}, {}, {})
    assert project.environment is None
    assert project.file == root / "afluente.yml"
    assert project.models_dir == root / "models"
    assert project.warehouse_uri == str(root / "warehouse")
    assert project.state_url == f"sqlite:///{root / '.afluente' / 'state.db'}"


def test_sources_are_parsed_with_their_lines(write_project: WriteProject) -> None:
    root = write_project("""\
        name: shop
        warehouse: s3://lake/wh
        engine: {threads: 4, memory_limit: 2GB}
        sources:
          customers:
            type: files
            path: landing/customers.csv
          payments:
            type: files
            path: /data/payments/*.csv
            options: {delimiter: ";", encoding: latin-1}
            tags: [finance]
        """)

    project = load(root)

    assert engine_settings(project) == DuckDBSettings(threads=4, memory_limit="2GB")
    assert project.warehouse_uri == "s3://lake/wh"
    assert source_config(project, "payments") == FilesSource(
        type="files",
        path="/data/payments/*.csv",
        options=CsvOptions(delimiter=";", encoding="latin-1"),
        tags=("finance",),
    )
    assert project.source_location("customers") == Location(root / "afluente.yml", 5)
    assert project.source_location("payments") == Location(root / "afluente.yml", 8)
    assert project.resolve_path("landing/customers.csv") == str(root / "landing/customers.csv")
    assert project.resolve_path("/data/payments/*.csv") == "/data/payments/*.csv"
    assert project.resolve_path("s3://b/x.csv") == "s3://b/x.csv"


def test_engine_may_be_written_as_its_type(write_project: WriteProject) -> None:
    assert engine_settings(load(write_project("name: p\nengine: duckdb\n"))) == DuckDBSettings()


def test_project_is_found_from_a_subfolder(write_project: WriteProject) -> None:
    root = write_project("name: p\n")
    deep = root / "models" / "silver"
    deep.mkdir(parents=True)

    assert find_project_root(deep) == root
    assert load(deep).root == root


def test_no_project_file_anywhere_hints_at_afluente_init(tmp_path: Path) -> None:
    error = config_error(tmp_path)

    assert error.message == f"no afluente.yml found in {tmp_path.resolve()} or any parent folder"
    assert error.location is None
    assert error.hint == (
        "run inside a project, pass --project DIR, or create one with `afluente init DIR`"
    )


def test_typo_in_a_top_level_key(write_project: WriteProject) -> None:
    root = write_project("name: p\nwarehose: data/wh\n")

    error = config_error(root)

    assert error.message == "unknown key `warehose`"
    assert error.location == Location(root / "afluente.yml", 2)
    assert error.hint == f"did you mean `warehouse`? {TOP_KEYS}"
    assert str(error) == (
        f"{root / 'afluente.yml'}:2: unknown key `warehose`\n"
        f"  hint: did you mean `warehouse`? {TOP_KEYS}"
    )


def test_unknown_key_without_close_match_lists_valid_keys(write_project: WriteProject) -> None:
    error = config_error(write_project("name: p\nxyzzy: 1\n"))

    assert error.message == "unknown key `xyzzy`"
    assert error.hint == TOP_KEYS


def test_typo_in_engine(write_project: WriteProject) -> None:
    root = write_project("""\
        name: p
        engine:
          type: duckdb
          treads: 4
        """)

    error = config_error(root)

    assert error.message == "unknown key `engine.treads`"
    assert error.location == Location(root / "afluente.yml", 4)
    assert error.hint == "did you mean `threads`? valid keys here: memory_limit, threads, type"


def test_typo_in_a_source(write_project: WriteProject) -> None:
    root = write_project("""\
        name: p
        sources:
          orders:
            type: files
            path: landing/orders.csv
            optons: {delimiter: ";"}
        """)

    error = config_error(root)

    assert error.message == "unknown key `sources.orders.optons`"
    assert error.location == Location(root / "afluente.yml", 6)
    assert error.hint == f"did you mean `options`? {SOURCE_KEYS}"


def test_typo_in_csv_options(write_project: WriteProject) -> None:
    root = write_project("""\
        name: p
        sources:
          orders:
            type: files
            path: landing/orders.csv
            options:
              header: false
              delimter: ";"
        """)

    error = config_error(root)

    assert error.message == "unknown key `sources.orders.options.delimter`"
    assert error.location == Location(root / "afluente.yml", 8)
    assert error.hint == f"did you mean `delimiter`? {CSV_KEYS}"


def test_typo_in_flow_style_options_points_at_its_line(write_project: WriteProject) -> None:
    root = write_project("""\
        name: p
        sources:
          orders: {type: files, path: o.csv,
                   options: {delimter: ";"}}
        """)

    error = config_error(root)

    assert error.message == "unknown key `sources.orders.options.delimter`"
    assert error.location == Location(root / "afluente.yml", 4)


def test_invalid_source_type(write_project: WriteProject) -> None:
    root = write_project("""\
        name: p
        sources:
          orders:
            path: landing/orders.csv
            type: kinesis
        """)

    error = config_error(root)

    assert error.message == "no connector for source type `kinesis` (source `orders`)"
    assert error.location == Location(root / "afluente.yml", 5)
    assert error.hint == (
        "available types: files, kafka, mariadb, mysql, postgres, postgres_cdc, rest, seed")


def test_source_without_path(write_project: WriteProject) -> None:
    root = write_project("name: p\nsources:\n  orders:\n    type: files\n")

    error = config_error(root)

    assert error.message == "missing required key `sources.orders.path`"
    assert error.location == Location(root / "afluente.yml", 3)


def test_source_without_type(write_project: WriteProject) -> None:
    root = write_project("name: p\nsources:\n  orders:\n    path: o.csv\n")

    error = config_error(root)

    assert error.location == Location(root / "afluente.yml", 3)
    assert error.message == "missing required key `sources.orders.type`"
    assert error.hint == (
        "the connector that reads it: files, postgres, mysql, mariadb, rest, seed, kafka, "
        "postgres_cdc, or one a plugin registers"
    )


def test_invalid_literal_format(write_project: WriteProject) -> None:
    root = write_project("""\
        name: p
        sources:
          orders:
            type: files
            path: landing/orders.xml
            format: xml
        """)

    error = config_error(root)

    assert error.message == "invalid value 'xml' for `sources.orders.format`"
    assert error.location == Location(root / "afluente.yml", 6)
    assert error.hint == (
        "expected 'csv', 'tsv', 'json', 'ndjson', 'parquet', 'avro', 'orc' or 'xlsx'"
    )


def test_invalid_engine_type(write_project: WriteProject) -> None:
    root = write_project("name: p\nengine: flink\n")

    error = config_error(root)

    assert error.message == "no engine of type `flink`"
    assert error.location == Location(root / "afluente.yml", 2)
    assert error.hint is not None
    assert error.hint.startswith("available engines: duckdb, spark (a plugin adds one through")


def test_out_of_range_value(write_project: WriteProject) -> None:
    root = write_project("name: p\nengine:\n  threads: 0\n")

    error = config_error(root)

    assert error.message == "`engine.threads`: Input should be greater than or equal to 1"
    assert error.location == Location(root / "afluente.yml", 3)


def test_missing_name(write_project: WriteProject) -> None:
    root = write_project("warehouse: wh\n")

    error = config_error(root)

    assert error.message == "missing required key `name`"
    assert error.location == Location(root / "afluente.yml", 1)


def test_empty_project_file_is_missing_its_name(write_project: WriteProject) -> None:
    assert config_error(write_project("")).message == "missing required key `name`"


def test_project_file_that_is_not_a_mapping(write_project: WriteProject) -> None:
    root = write_project("- name\n- p\n")

    error = config_error(root)

    assert error.message == "the project file must be a mapping of keys"
    assert error.location == Location(root / "afluente.yml", 1)
    assert error.hint == "start with `name: my_project`"


def test_invalid_project_name(write_project: WriteProject) -> None:
    root = write_project("name: 'my shop'\n")

    error = config_error(root)

    assert error.message == "`name`: String should match pattern '^[A-Za-z_][A-Za-z0-9_\\-]*$'"
    assert error.location == Location(root / "afluente.yml", 1)


def test_reserved_and_invalid_layer_names(write_project: WriteProject) -> None:
    reserved = config_error(write_project("name: p\nlayers: [raw, afluente]\n"))
    invalid = config_error(write_project("name: p\nlayers: [raw, my-layer]\n"))

    assert reserved.message == (
        "`layers`: layer name 'afluente' is reserved for afluente's own tables"
    )
    assert invalid.message == (
        "`layers`: layer name 'my-layer' must be a SQL identifier"
    )
    assert invalid.location is not None and invalid.location.line == 2


def test_invalid_yaml_reports_line_and_column(write_project: WriteProject) -> None:
    root = write_project("""\
        name: p
        sources:
          orders: [a, b
          customers: 1
        """)

    error = config_error(root)

    assert error.message == "invalid YAML: expected ',' or ']', but got ':'"
    assert error.location == Location(root / "afluente.yml", 4, 12)
    assert error.hint == "check indentation and quoting on that line"
    assert isinstance(error, ConfigError)


def test_tab_indentation_is_invalid_yaml(write_project: WriteProject) -> None:
    root = write_project("name: p\nengine:\n\tthreads: 2\n")

    error = config_error(root)

    assert error.message == "invalid YAML: found character '\\t' that cannot start any token"
    assert error.location == Location(root / "afluente.yml", 3, 1)
