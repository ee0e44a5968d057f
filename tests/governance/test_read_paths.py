"""Every read of table values goes through the governed reader: this test enumerates the
ways the package can read stored data and the CLI's commands, so a new read path (or a new
command) fails here until it is governed or explained."""

from __future__ import annotations

import re
from pathlib import Path

import click
import typer

import afluente
from afluente.cli.app import _register, app

PACKAGE = Path(afluente.__file__).parent

#: The calls that read stored table values (or the quality samples taken from them).
READS = re.compile(r"\battach_tables\(|\battach_catalog\(|\.readable\(|\bread_only_query\(|"
                   r"\bread_only_rows\(|\.dataset\(|\bquality_history\(|\.head\(|\.to_batches\(")

#: Modules that read table values and take the governed reader's decision before showing
#: them (`GovernedReader.decide`, through `rewrite`, `table_sql` or `scan.governed_table`).
GOVERNED = {
    "runtime/query.py": "query: the statement is rewritten by GovernedReader.rewrite",
    "cli/commands_tables.py": "show: governance.scan.governed_table",
    "runtime/publish.py": "publish: governance.scan.governed_table",
    "runtime/quality_check.py": "profile: GovernedReader.table_sql (check: evaluates rules, "
                                "prints no values)",
    "cli/commands_quality.py": "quality: samples hidden by GovernedReader.decide",
    "io/beam/tables.py": "Beam ReadFromAfluente: FileReader reads a file through "
                         "governance.scan.governed_table unless the reader is unrestricted",
    "server/rows_page.py": "GET /api/tables/{table}/rows and /quarantine, and the UI's row "
                           "browser and quarantine (/ui/tables/...): "
                           "governance.scan.table_page",
    "server/routes_observe.py": "GET /api/quality: samples hidden by governance.scan."
                                "governed_samples",
    "runtime/env_diff.py": "diff --env: GovernedReader.decide on both sides' columns first "
                           "(prints counts, no values)",
}

#: Modules that read stored data for a run or for numbers, never showing a value to a reader.
NOT_SHOWN = {
    "runtime/model_build.py": "builds models (a write: `afluente run`)",
    "runtime/incremental_build.py": "builds incremental kinds",
    "runtime/ml_build.py": "reads the keys a score table holds during its build (a write)",
    "runtime/incremental_read.py": "reads the new input of an incremental build",
    "runtime/backfill_partition.py": "builds one backfill partition",
    "runtime/quarantine.py": "writes quarantined rows during a build",
    "runtime/window_close.py": "appends windows a watermark closed to `<table>__final` (a build)",
    "runtime/group_refresh.py": "reads the changed input rows of a by-group refresh during a build",
    "runtime/ingest.py": "ingests landing files into bronze",
    "runtime/openlineage.py": "pass/fail counts of a run's rules in its lineage events",
    "transform/delta_target.py": "a kind's write target",
    "observability/metrics.py": "row counts and numeric profiles after a write",
    "observability/profile.py": "profiles of written files (counts, distinct, mean)",
    "catalog/collect.py": "row counts for the catalog (no values)",
    "cli/commands_catalog.py": "pass/fail counts of rules for the catalog pages",
    "cli/commands_project.py": "row counts after `afluente demo`",
    "runtime/observe.py": "a table's head commit (version, row count) after a write",
    "connectors/files/arrow_files.py": "reads landing files for ingestion",
    "io/beam/bundles.py": "Beam WriteToAfluente: a group's own rows into a commit",
}

#: What each command does with table values.
COMMANDS = {
    "query": "governed", "show": "governed", "profile": "governed", "publish": "governed",
    "quality": "governed",
    "run": "writes", "retry": "writes", "backfill": "writes", "stream": "writes",
    "repair": "writes", "check": "evaluates rules: prints counts, samples via `quality`",
    "demo": "writes", "init": "writes", "scheduler": "writes",
    "test": "fixtures only", "validate": "no values", "plan": "no values",
    "history": "versions, no values", "runs": "run records", "lineage": "no values",
    "health": "no values", "metrics": "counts and numeric profiles", "schedules": "no values",
    "catalog": "names, docs, tags, counts", "docs": "names, docs, tags, counts",
    "airflow": "generated code", "spark": "generated code", "grant": "governance",
    "revoke": "governance", "roles": "governance", "token": "governance",
    "whoami": "governance", "keys": "governance (ADMIN: the keyring of encrypted columns)",
    "classify": "ADMIN only (samples values for its suggestions)",
    "subject": "ADMIN only (exports a subject's values)",
    "forget": "ADMIN only (erases)", "audit": "ADMIN only (the audit log)",
    "processing-records": "names, tags and lineage, no values",
    "retain": "writes (deletes the rows past a retention period; takes MODIFY)",
    "maintain": "writes (rewrites files, no row changes; takes MODIFY; figures, no values)",
    "demo-stream": "writes (prints the live gold table it builds from generated events)",
    "diff": "governed (GovernedReader.decide; counts of rows, keys and changed columns)",
    "ci": "writes (builds the changed models in a data environment through run_project; "
          "its diff as `diff`)",
    "promote": "writes (prod's pointers to an environment's tables; takes MODIFY)",
    "rollback": "writes (prod's pointers back; takes MODIFY)",
    "env": "environments' names, bases and states, no values",
    "serve": "governed (the REST API: rows through governance.scan.table_page, query and "
             "dashboard panels through runtime.query with the caller's GovernedReader; "
             "tests/server)",
    "dashboard": "governed (panels and filter choices through runtime.query_rows with the "
                 "caller's GovernedReader; tests/dashboards)",
}

#: Modules of afluente.governance itself that read stored values outside the reader, and
#: the ADMIN-only command that calls them.
ADMIN_ONLY = {
    "governance/classify.py": "classify",
}


def readers_in_package() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.split("/")[0] in ("storage", "engines", "sinks", "state"):
            continue  # the adapters themselves
        if relative.startswith("governance/") and relative not in ADMIN_ONLY:
            continue  # the reader
        calls = READS.findall(path.read_text())
        if calls:
            found[relative] = calls
    return found


def test_every_read_of_stored_data_is_governed_or_explained() -> None:
    found = readers_in_package()
    unknown = sorted(set(found) - set(GOVERNED) - set(NOT_SHOWN) - set(ADMIN_ONLY))
    assert unknown == [], (
        f"{unknown} read stored table data: send the read through "
        "afluente.governance.reader (and list the module in GOVERNED), or explain in "
        "NOT_SHOWN why no value reaches a reader")
    assert set(GOVERNED) | set(NOT_SHOWN) | set(ADMIN_ONLY) >= set(found)
    for module, command in ADMIN_ONLY.items():
        assert COMMANDS[command].startswith("ADMIN only"), module


def test_the_governed_modules_call_the_reader() -> None:
    for module in GOVERNED:
        text = (PACKAGE / module).read_text()
        assert "afluente.governance" in text, f"{module} reads data but not through the reader"


def test_every_cli_command_is_classified() -> None:
    _register()
    group = typer.main.get_command(app)
    names = set(group.list_commands(click.Context(group)))  # type: ignore[attr-defined]
    assert names == set(COMMANDS), (
        f"new commands {sorted(names - set(COMMANDS))}: a command that shows table values "
        "goes through afluente.governance.reader; classify it in COMMANDS")


def test_admin_only_commands_refuse_other_principals(tmp_path: Path) -> None:
    """Under governance, the LGPD commands that read or erase values take ADMIN."""
    from tests.cli_inprocess import run_afluente

    from afluente.cli.scaffold import scaffold

    root = tmp_path / "shop"
    scaffold(root)
    with (root / "afluente.yml").open("a") as config:
        config.write("governance:\n  admins: [user:someone_else]\n")
    for args in (["classify"], ["audit"], ["forget", "--subject", "cpf=1"],
                 ["subject", "export", "--subject", "cpf=1"]):
        done = run_afluente(["-p", str(root), *args])
        assert done.returncode == 1, args
        assert "it takes ADMIN" in done.stderr and "someone_else" in done.stderr, args
