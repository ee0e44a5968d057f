"""Find every node of a project: sources from `afluente.yml`, models under `models/`."""

from __future__ import annotations

import difflib
import inspect
from pathlib import Path

from afluente.config import Project
from afluente.config.retention import RETENTION_KEYS
from afluente.config.yaml_lines import LocatedYaml, load_located_yaml
from afluente.errors import ConfigError, Location, ModelError
from afluente.model.decorators import PythonModelSpec
from afluente.model.folder_defaults import (
    ConfigLayer,
    FolderDefaultsResolver,
    effective_config,
    model_layer,
)
from afluente.model.graph import Graph, build_graph
from afluente.model.header import Header, split_header
from afluente.model.model_config import ModelConfig
from afluente.model.nodes import Dependency, Node
from afluente.model.parse_cache import CachedHeader, ParseCache, ParsedSql
from afluente.model.point_in_time import MACRO, has_calls, with_stand_ins
from afluente.model.python_model import load_specs
from afluente.model.refs import TableRef

MODEL_SUFFIXES = (".sql", ".py")


def discover_nodes(project: Project, cache: ParseCache | None = None) -> list[Node]:
    """All nodes, sources first, then model files in path order."""
    cache = cache or ParseCache(None)
    nodes = [source_node(project, name) for name in project.config.sources]
    models_dir = project.models_dir
    defaults = FolderDefaultsResolver(project)
    if models_dir.is_dir():
        for file in sorted(models_dir.rglob("*")):
            if file.suffix in MODEL_SUFFIXES and file.is_file() and not _ignored(file):
                nodes.extend(_model_nodes(project, file, cache, defaults))
            else:
                defaults.check(file)
    cache.save(keep={ParseCache.key(n.sql) for n in nodes if n.sql is not None})
    return nodes


def _ignored(file: Path) -> bool:
    return file.name.startswith((".", "_"))


# keys that only pace a stream (whether it is one, how much per micro-batch, how long to
# wait, which group shows the lag): tuning them changes no row, so they stay out of the
# fingerprint and rebuild nothing downstream
PACING_KEYS = frozenset({"max_records", "poll_timeout", "connect_timeout", "group_id",
                         "stream", "max_files", "max_bytes"})


# source keys added after fingerprints were first recorded: left out while unset, so that
# upgrading afluente re-ingests no source
LATER_KEYS = ("schema_registry",)


def _unset_later_keys(source: object) -> set[str]:
    return {k for k in LATER_KEYS if getattr(source, k, "absent") is None}


def source_node(project: Project, name: str) -> Node:
    source = project.config.sources[name]
    location = project.source_location(name)
    target = source.table or f"{project.config.layers[0]}.{name}"
    try:
        ref = TableRef.parse(target)
    except ModelError as exc:
        raise ModelError(exc.message, location=location, hint=exc.hint) from None
    _check_layer(project, ref.layer, location)
    config = ModelConfig(description=source.description, tags=source.tags,
                         retention=source.retention, retention_column=source.retention_column,
                         maintenance=source.maintenance)
    return Node(
        ref=ref,
        language="source",
        location=location,
        config=config,
        source_name=name,
        # a retention period or maintenance changes no ingested row: out of the fingerprint,
        # like a model's
        code=source.model_dump_json(
            exclude=set(PACING_KEYS) | set(RETENTION_KEYS) | {"maintenance"}
            | _unset_later_keys(source)
        ),
    )


def _model_nodes(
    project: Project, file: Path, cache: ParseCache, defaults: FolderDefaultsResolver
) -> list[Node]:
    layer = _layer_of(project, file)
    layers = defaults.layers_for(file, layer)
    if file.suffix == ".sql":
        return [_sql_node(file, layer, cache, layers)]
    return [_python_node(spec, file, layer, layers) for spec in load_specs(file)]


def _layer_of(project: Project, file: Path) -> str:
    relative = file.relative_to(project.models_dir)
    if len(relative.parts) < 2:
        raise ModelError(
            "a model file must sit inside a layer folder",
            location=Location(file),
            hint=f"move it to {project.config.models.path}/<layer>/{file.name}, "
            f"layers: {', '.join(project.config.layers)}",
        )
    layer = relative.parts[0]
    _check_layer(project, layer, Location(file))
    return layer


def _check_layer(project: Project, layer: str, location: Location) -> None:
    layers = project.config.layers
    if layer in layers:
        return
    close = difflib.get_close_matches(layer, layers, n=1)
    hint = f"did you mean `{close[0]}`? " if close else ""
    raise ModelError(
        f"unknown layer `{layer}`",
        location=location,
        hint=hint + f"declared layers: {', '.join(layers)} (add more under `layers:` "
        "in afluente.yml)",
    )


def _sql_node(file: Path, layer: str, cache: ParseCache, defaults: list[ConfigLayer]) -> Node:
    text = file.read_text(encoding="utf-8")
    doc = _sql_config_doc(file, text, cache)
    config = effective_config(model_layer(doc), defaults)
    parsed = cache.get(text)
    macros = has_calls(text)
    if parsed is None:
        parsed = _parse_sql(with_stand_ins(text, file) if macros else text, file)
        cache.put(text, parsed)
    deps = tuple(
        Dependency(TableRef(layer_, name), Location(file, line, column))
        for layer_, name, line, column in parsed.references
    ) + _expectation_refs(config, file)
    return Node(
        ref=_parse_input(f"{layer}.{file.stem}", Location(file, 1)),
        language="sql",
        location=Location(file, 1),
        config=config,
        depends_on=deps,
        sql=text,
        # a point_in_time call's options change the query it becomes (graph.build_graph)
        code=parsed.code + "".join(m.group(0) for m in MACRO.finditer(text)) if macros
        else parsed.code,
        config_doc=doc,
    )


def _parse_sql(text: str, file: Path) -> ParsedSql:
    # sqlglot loads only on a cache miss: `show`, `plan` and `query` on an unchanged
    # project start without it
    from afluente.model.sql_model import normalized_sql, parse_query, table_references

    query = parse_query(text, file)
    references = table_references(query, file)
    return ParsedSql(
        code=normalized_sql(query),
        references=tuple(
            (d.ref.layer, d.ref.name, d.location.line, d.location.column) for d in references
        ),
    )


def _sql_config_doc(file: Path, text: str, cache: ParseCache) -> LocatedYaml:
    """The document holding the model's own config (empty when it declares none)."""
    header = split_header(text)
    sidecar = file.with_suffix(".yml")
    if header is not None and sidecar.exists():
        raise ConfigError(
            f"config is declared twice: in the header and in {sidecar.name}",
            location=Location(file, header.first_line),
            hint="keep one of them",
        )
    if header is not None:
        return _header_doc(file, text, header, cache)
    if sidecar.exists():
        return load_located_yaml(sidecar.read_text(encoding="utf-8"), sidecar)
    return LocatedYaml(data={}, file=file, lines={(): 1})


def _header_doc(file: Path, text: str, header: Header, cache: ParseCache) -> LocatedYaml:
    offset = header.first_line - 1
    cached = cache.header(text)
    if cached is not None:
        return LocatedYaml(data=cached.data, file=file, lines=cached.lines, line_offset=offset)
    doc = load_located_yaml(header.yaml_text, file, line_offset=offset)
    cache.put_header(text, CachedHeader(doc.data, doc.lines))
    return doc


def _expectation_refs(config: ModelConfig, file: Path) -> tuple[Dependency, ...]:
    """Tables named by `relationships` expectations: read when the model is checked, so
    they are built first."""
    where = Location(file, 1)
    targets = [e["relationships"].get("to") for e in config.expectations
               if isinstance(e.get("relationships"), dict)]
    return tuple(Dependency(_parse_input(t, where), where) for t in targets if isinstance(t, str))


def _python_node(
    spec: PythonModelSpec, file: Path, layer: str, defaults: list[ConfigLayer]
) -> Node:
    line = inspect.getsourcelines(spec.function)[1]
    location = Location(file, line)
    ref = _python_ref(spec, layer, location)
    doc = LocatedYaml(data=spec.config, file=file, lines={(): line})
    config = effective_config(model_layer(doc), defaults)
    deps = tuple(Dependency(_parse_input(text, location), location) for text in spec.inputs)
    return Node(
        ref=ref,
        language="python",
        location=location,
        config=config,
        depends_on=deps,
        function=spec.function,
        keywords=spec.keywords,
        code=file.read_text(encoding="utf-8"),
        config_doc=doc,
    )


def _python_ref(spec: PythonModelSpec, layer: str, location: Location) -> TableRef:
    if spec.name and "." in spec.name:
        return _parse_input(spec.name, location)
    return _parse_input(f"{layer}.{spec.name or spec.function.__name__}", location)


def _parse_input(text: str, location: Location) -> TableRef:
    try:
        return TableRef.parse(text)
    except ModelError as exc:
        raise ModelError(exc.message, location=location, hint=exc.hint) from None


def load_graph(project: Project, cache: bool = True) -> Graph:
    """Discover and validate every node of `project` (reusing cached SQL parses)."""
    parse_cache = ParseCache(project.cache_dir / "sql-parse.json" if cache else None)
    nodes = discover_nodes(project, parse_cache)
    return build_graph(nodes, project.config.layers, project.config.vars)
