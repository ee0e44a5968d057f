"""Python models: `@afluente.table(inputs=[...])` functions, imported in isolation."""

from __future__ import annotations

from afluente.errors import ConfigError, Location, ModelError
from afluente.model import TableRef

from .conftest import ProjectTree

IMPORT_HINT = "a model file should only define functions; move work into the function"


def test_inputs_become_ordered_dependencies_at_the_decorator_line(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/both.py": """\
        import afluente


        @afluente.table(inputs=["silver.orders", "silver.customers"], owner="bi")
        def both(orders, customers):
            return orders
        """
        }
    )
    file = starter.path("models/gold/both.py")

    node = starter.graph()[TableRef("gold", "both")]

    assert node.upstream == (TableRef("silver", "orders"), TableRef("silver", "customers"))
    assert {d.location for d in node.depends_on} == {Location(file, 4)}
    assert node.location == Location(file, 4)
    assert node.keywords is None
    assert node.config.owner == "bi"
    assert node.code == file.read_text()


def test_inputs_as_a_mapping_pass_keywords(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/kw.py": """\
        import afluente


        @afluente.table(inputs={"o": "silver.orders", "c": "Silver.Customers"})
        def kw(o, c):
            return o
        """
        }
    )

    node = starter.graph()[TableRef("gold", "kw")]

    assert node.keywords == ("o", "c")
    assert node.upstream == (TableRef("silver", "orders"), TableRef("silver", "customers"))


def test_several_models_in_one_file_with_names_views_and_layers(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/many.py": """\
        import afluente


        @afluente.view(inputs=["silver.orders"])
        def Recent(orders):
            return orders


        @afluente.materialized_view(name="Top", inputs=["gold.recent"])
        def build_top(recent):
            return recent


        @afluente.table(name="silver.extra")
        def extra():
            return None


        def helper():
            return None
        """
        }
    )

    graph = starter.graph()

    assert graph[TableRef("gold", "recent")].kind == "view"
    assert graph[TableRef("gold", "top")].kind == "full"
    assert graph[TableRef("gold", "top")].upstream == (TableRef("gold", "recent"),)
    assert graph[TableRef("silver", "extra")].location.line == 14
    assert len(graph) == 9


def test_typo_in_inputs_names_file_line_and_close_matches(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/y.py": """\
        import afluente


        @afluente.table(inputs=["silver.ordrs"])
        def y(orders):
            return orders
        """
        }
    )

    error = starter.error(ModelError)

    assert error.message == "`gold.y` reads unknown table `silver.ordrs`"
    assert error.location == Location(starter.path("models/gold/y.py"), 4)
    assert error.hint == "did you mean `silver.orders` or `silver.customers`?"


def test_input_that_is_not_layer_dot_table(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/y.py": """\
        import afluente

        @afluente.table(inputs=["orders"])
        def y(orders):
            return orders
        """
        }
    )

    error = starter.error(ModelError)

    assert error.message == "invalid table reference 'orders'"
    assert error.location == Location(starter.path("models/gold/y.py"), 3)
    assert error.hint == "write tables as layer.table, e.g. silver.orders"


def test_unknown_decorator_keyword_is_a_config_error(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/y.py": """\
        import afluente

        @afluente.table(knd="view")
        def y():
            return None
        """
        }
    )

    error = starter.error(ConfigError)

    assert error.message == "unknown key `knd`"
    assert error.location == Location(starter.path("models/gold/y.py"), 3)
    assert error.hint.startswith("did you mean `kind`? valid keys here: alias, apply_as_deletes, ")


def test_invalid_kind_in_decorator(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/y.py": """\
        import afluente

        @afluente.table(kind="incremental")
        def y():
            return None
        """
        }
    )

    error = starter.error(ConfigError)

    assert error.message == "invalid value 'incremental' for `kind`"
    assert error.location == Location(starter.path("models/gold/y.py"), 3)


def test_model_file_raising_on_import_reports_the_line(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/r.py": """\
        import afluente

        LIMIT = 10
        raise RuntimeError("cannot reach the API")
        """
        }
    )

    error = starter.error(ModelError)

    assert error.message == "importing the model raised RuntimeError: cannot reach the API"
    assert error.location == Location(starter.path("models/gold/r.py"), 4)
    assert error.hint == IMPORT_HINT
    assert isinstance(error.__cause__, RuntimeError)


def test_import_error_inside_a_helper_reports_the_deepest_line_of_the_file(
    starter: ProjectTree,
) -> None:
    starter.write(
        {
            "models/gold/r.py": """\
        import afluente


        def ratio():
            return 1 / 0


        RATIO = ratio()
        """
        }
    )

    error = starter.error(ModelError)

    assert error.message == "importing the model raised ZeroDivisionError: division by zero"
    assert error.location == Location(starter.path("models/gold/r.py"), 5)


def test_python_syntax_error_reports_line_and_column(starter: ProjectTree) -> None:
    starter.write({"models/gold/r.py": "import afluente\n\ndef f(:\n    pass\n"})

    error = starter.error(ModelError)

    assert error.message == "Python syntax error: invalid syntax"
    assert error.location == Location(starter.path("models/gold/r.py"), 3, 7)


def test_python_file_without_a_model(starter: ProjectTree) -> None:
    starter.write({"models/gold/helpers.py": "def clean(x):\n    return x\n"})

    error = starter.error(ModelError)

    assert error.message == "no model found in this Python file"
    assert error.location == Location(starter.path("models/gold/helpers.py"), 1)
    assert error.hint == "decorate the function that builds the table with @afluente.table(...)"
