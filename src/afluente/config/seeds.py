"""Seeds: small CSV files under `seeds/`, each declared as a `type: seed` source by itself.

`seeds/countries.csv` becomes the source `countries`, ingested (with inferred column types)
into the first layer, `bronze.countries`, so models read it like any source. A source
declared in afluente.yml with `type: seed` and that file as its `path` replaces the automatic
declaration (to add a description, tags or type hints); any other source of the same name is
an error, as are two seed files of the same name in different subfolders.
"""

from __future__ import annotations

from pathlib import Path

from afluente.config.schema import ProjectConfig, SourceSpec
from afluente.errors import ConfigError, Location

SEEDS_DIR = "seeds"
SEED_TYPE = "seed"


def find_seeds(root: Path, config: ProjectConfig) -> dict[str, Path]:
    """Seed name → CSV file, for the files under `seeds/` no declared source reads."""
    folder = root / SEEDS_DIR
    if not folder.is_dir():
        return {}
    declared = _declared_seed_files(root, config)
    found: dict[str, Path] = {}
    for file in sorted(folder.rglob("*.csv")):
        if file.name.startswith((".", "_")) or file.resolve() in declared:
            continue
        _check_name_is_free(file, root, config, found)
        found[file.stem] = file
    return found


def _declared_seed_files(root: Path, config: ProjectConfig) -> set[Path]:
    paths = [s.extra.get("path") for s in config.sources.values() if s.type == SEED_TYPE]
    return {(root / p).resolve() for p in paths if isinstance(p, str)}


def _check_name_is_free(
    file: Path, root: Path, config: ProjectConfig, found: dict[str, Path]
) -> None:
    name, relative = file.stem, file.relative_to(root)
    if not name.isidentifier():
        raise ConfigError(
            f"seed `{relative}`: `{name}` cannot name a table",
            location=Location(file),
            hint="rename the file with letters, digits and underscores, not starting with "
            "a digit (e.g. holidays_2024.csv)",
        )
    if name in config.sources:
        raise ConfigError(
            f"seed `{relative}` and the source `{name}` of afluente.yml have the same name",
            location=Location(file),
            hint=f"rename the CSV file, or give source `{name}` `type: seed` and "
            f"`path: {relative.as_posix()}` to configure the seed there",
        )
    if name in found:
        raise ConfigError(
            f"two seeds are named `{name}`: {found[name].relative_to(root)} and {relative}",
            location=Location(file),
            hint="seed names are their file names without `.csv`; rename one of them",
        )


def with_seeds(config: ProjectConfig, seeds: dict[str, Path], root: Path) -> ProjectConfig:
    """`config` with one `type: seed` source per found seed file."""
    if not seeds:
        return config
    added = {
        name: SourceSpec.model_validate(
            {"type": SEED_TYPE, "path": file.relative_to(root).as_posix()}
        )
        for name, file in seeds.items()
    }
    return config.model_copy(update={"sources": {**config.sources, **added}})
