"""Discovery of a project's nodes: sources as bronze ingestions, models by layer folder."""

from __future__ import annotations

import pytest

from afluente.errors import ConfigError, Location, ModelError
from afluente.model import TableRef
from afluente.model.model_config import ColumnDoc

from .conftest import MakeProject, ProjectTree

LAYER_HINT = "declared layers: bronze, silver, gold (add more under `layers:` in afluente.yml)"


def refs(*names: str) -> list[TableRef]:
    return [TableRef.parse(name) for name in names]


def test_starter_project_nodes_in_layer_then_name_order(starter: ProjectTree) -> None:
    graph = starter.graph()

    assert list(graph.order) == refs(
        "bronze.customers",
        "bronze.orders",
        "silver.customers",
        "silver.orders",
        "gold.monthly_revenue",
        "gold.revenue_by_state",
    )
    languages = {str(ref): node.language for ref, node in graph.nodes.items()}
    assert languages == {
        "bronze.customers": "source",
        "bronze.orders": "source",
        "silver.customers": "sql",
        "silver.orders": "sql",
        "gold.monthly_revenue": "python",
        "gold.revenue_by_state": "sql",
    }


def test_sources_are_bronze_ingest_nodes_located_in_afluente_yml(starter: ProjectTree) -> None:
    graph = starter.graph()
    node = graph[TableRef("bronze", "orders")]

    assert node.kind == "ingest"
    assert node.materialized
    assert node.source_name == "orders"
    assert node.depends_on == ()
    assert node.location == Location(starter.path("afluente.yml"), 11)
    assert graph[TableRef("bronze", "customers")].location.line == 7


def test_sql_model_reads_header_config_and_references(starter: ProjectTree) -> None:
    node = starter.graph()[TableRef("silver", "customers")]

    assert node.language == "sql"
    assert node.location == Location(starter.path("models/silver/customers.sql"), 1)
    assert node.config.tags == ("pii",)
    assert node.config.description == "One row per customer, names and emails tidied."
    assert node.config.columns == {
        "email": ColumnDoc(description="Lower-cased e-mail", tags=("pii",))
    }
    assert node.upstream == (TableRef("bronze", "customers"),)
    assert node.sql == starter.path("models/silver/customers.sql").read_text()


def test_sql_references_carry_file_lines(starter: ProjectTree) -> None:
    node = starter.graph()[TableRef("gold", "revenue_by_state")]
    file = starter.path("models/gold/revenue_by_state.sql")

    assert node.upstream == (TableRef("silver", "orders"), TableRef("silver", "customers"))
    assert [(d.location.file, d.location.line) for d in node.depends_on] == [(file, 6), (file, 7)]


def test_python_model_is_located_at_its_decorator(starter: ProjectTree) -> None:
    node = starter.graph()[TableRef("gold", "monthly_revenue")]
    file = starter.path("models/gold/monthly_revenue.py")

    assert node.language == "python"
    assert node.location == Location(file, 6)
    assert node.config.tags == ("finance",)
    assert node.config.description == "Revenue per month."
    assert [(d.ref, d.location) for d in node.depends_on] == [
        (TableRef("silver", "orders"), Location(file, 6))
    ]
    assert node.function is not None and node.function.__name__ == "monthly_revenue"


def test_file_names_become_lower_case_table_names(starter: ProjectTree) -> None:
    starter.write({"models/gold/Top_Customers.sql": "SELECT * FROM silver.customers\n"})

    assert TableRef("gold", "top_customers") in starter.graph().nodes


@pytest.mark.parametrize(
    ("relative", "text"),
    [
        ("models/gold/my-model.sql", "SELECT 1 AS a\n"),
        (
            "models/gold/r.py",
            "import afluente\n\n@afluente.table(name='bad name')\ndef r():\n    return None\n",
        ),
    ],
)
def test_table_names_that_are_not_identifiers_are_rejected(
    starter: ProjectTree, relative: str, text: str
) -> None:
    starter.write({relative: text})

    error = starter.error(ModelError)

    assert error.location is not None and error.location.file == starter.path(relative)


def test_hidden_private_and_non_model_files_are_ignored(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/_draft.sql": "this is not SQL",
            "models/gold/.scratch.sql": "neither is this",
            "models/gold/README.md": "# notes",
            "models/gold/revenue_by_state.yml.bak": "kind: nope",
        }
    )

    assert len(starter.graph()) == 6


def test_a_project_without_models_folder_has_only_sources(bare: MakeProject) -> None:
    tree = bare({"afluente.yml": "name: p\nsources:\n  s: {type: files, path: s.csv}\n"})

    assert list(tree.graph().order) == [TableRef("bronze", "s")]


def test_custom_layers_place_sources_in_the_first_one(bare: MakeProject) -> None:
    tree = bare(
        {
            "afluente.yml": """\
            name: p
            layers: [raw, clean, mart]
            sources:
              s: {type: files, path: s.csv}
            """,
            "models/mart/m.sql": "SELECT * FROM clean.c\n",
            "models/clean/c.sql": "SELECT * FROM raw.s\n",
        }
    )

    assert list(tree.graph().order) == refs("raw.s", "clean.c", "mart.m")


def test_source_table_override(bare: MakeProject) -> None:
    tree = bare(
        {
            "afluente.yml": """\
        name: p
        sources:
          s: {type: files, path: s.csv, table: silver.landed}
        """
        }
    )

    assert list(tree.graph().nodes) == [TableRef("silver", "landed")]


def test_source_table_in_unknown_layer_points_at_the_source(bare: MakeProject) -> None:
    tree = bare(
        {
            "afluente.yml": """\
        name: p
        sources:
          s:
            type: files
            path: s.csv
            table: bronz.s
        """
        }
    )

    error = tree.error(ModelError)

    assert error.message == "unknown layer `bronz`"
    assert error.location == Location(tree.path("afluente.yml"), 3)
    assert error.hint == "did you mean `bronze`? " + LAYER_HINT


def test_source_table_that_is_not_layer_dot_table(bare: MakeProject) -> None:
    tree = bare({"afluente.yml": "name: p\nsources:\n  s: {type: files, path: s.csv, table: s}\n"})

    error = tree.error(ModelError)

    assert error.message == "invalid table reference 's'"
    assert error.location == Location(tree.path("afluente.yml"), 3)
    assert error.hint == "write tables as layer.table, e.g. silver.orders"


def test_model_outside_a_layer_folder(starter: ProjectTree) -> None:
    starter.write({"models/loose.sql": "SELECT 1 AS a\n"})

    error = starter.error(ModelError)

    assert error.message == "a model file must sit inside a layer folder"
    assert error.location == Location(starter.path("models/loose.sql"))
    assert error.hint == "move it to models/<layer>/loose.sql, layers: bronze, silver, gold"


def test_unknown_layer_folder_suggests_the_close_one(starter: ProjectTree) -> None:
    starter.write({"models/silvr/x.sql": "SELECT 1 AS a\n"})

    error = starter.error(ModelError)

    assert error.message == "unknown layer `silvr`"
    assert error.location == Location(starter.path("models/silvr/x.sql"))
    assert error.hint == "did you mean `silver`? " + LAYER_HINT


def test_unknown_layer_folder_without_close_match_lists_layers(starter: ProjectTree) -> None:
    starter.write({"models/reports/x.sql": "SELECT 1 AS a\n"})

    error = starter.error(ModelError)

    assert error.message == "unknown layer `reports`"
    assert error.hint == LAYER_HINT


def test_duplicate_table_names_both_locations(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/dup.sql": "SELECT 1 AS a\n",
            "models/gold/dup.py": """\
            import afluente


            @afluente.table()
            def dup():
                return None
            """,
        }
    )

    error = starter.error(ModelError)

    py_file, sql_file = starter.path("models/gold/dup.py"), starter.path("models/gold/dup.sql")
    assert error.message == f"table `gold.dup` is defined twice (first at {py_file}:4)"
    assert error.location == Location(sql_file, 1)
    assert error.hint == "rename one of the models, or remove the duplicate"


def test_model_with_the_name_of_a_source_is_a_duplicate(starter: ProjectTree) -> None:
    starter.write({"models/bronze/orders.sql": "SELECT 1 AS a\n"})

    error = starter.error(ModelError)

    assert error.message == (
        f"table `bronze.orders` is defined twice (first at {starter.path('afluente.yml')}:11)"
    )
    assert error.location == Location(starter.path("models/bronze/orders.sql"), 1)


def test_project_config_errors_surface_before_models(starter: ProjectTree) -> None:
    starter.write({"afluente.yml": "name: shop\nmodles: src\n"})

    error = starter.error(ConfigError)

    assert error.message == "unknown key `modles`"
    assert error.location == Location(starter.path("afluente.yml"), 2)
