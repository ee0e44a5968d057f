"""Every write of table data checks MODIFY through one function,
`afluente.governance.reader.require_modify`: this test enumerates the commands that write
and the package's calls that commit to a table, so a new write path fails here until it is
checked (as test_read_paths.py does for reads)."""

from __future__ import annotations

import inspect
import json
import re
import shutil
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente
from tests.governance.test_read_paths import COMMANDS, PACKAGE

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.governance import erasure
from afluente.governance.grants import AccessDenied
from afluente.governance.reader import require_modify
from afluente.io.beam import bundles
from afluente.model import TableRef
from afluente.runtime import backfill, env_promote, maintenance, publish, retention, runner

#: The entry points that check MODIFY before writing, by name.
GUARDS = {
    "run_project": runner.run_project,
    "run_backfill": backfill.run_backfill,
    "apply_retention": retention.apply_retention,
    "maintain_tables": maintenance.maintain_tables,
    "publish_project": publish.publish_project,
    "forget": erasure.forget,
    "BundleWriter": bundles.BundleWriter.__init__,
    "promote": env_promote.promote,
    "rollback": env_promote.rollback,
}

#: Each command that writes table data (or a sink's copy) and the guarded entry it goes
#: through.
WRITE_COMMANDS = {
    "run": "run_project", "retry": "run_project", "stream": "run_project",
    "repair": "run_project", "demo": "run_project", "scheduler": "run_project",
    "demo-stream": "run_project", "backfill": "run_backfill", "retain": "apply_retention",
    "publish": "publish_project", "forget": "forget", "ci": "run_project",
    "promote": "promote", "rollback": "rollback", "maintain": "maintain_tables",
}

#: Calls that commit to a Delta table, outside storage.
COMMITS = re.compile(r"\.commit_staged\(|\bwarehouse\.write\(|\bwarehouse\.append\(|"
                     r"\.set_aside\(|\berase_rows\(|\bdelete_older\(|\bmaintain_table\(")

#: Modules that commit to tables and the guarded entry that reaches them.
COMMITTING = {
    "runtime/model_build.py": "run_project (builds the chosen models)",
    "runtime/incremental_build.py": "run_project",
    "runtime/ml_build.py": "run_project (train and score models)",
    "runtime/quarantine.py": "run_project (a model's quarantined rows)",
    "runtime/ingest.py": "run_project (a source's bronze table)",
    "runtime/repair.py": "run_project (repair rebuilds through a run)",
    "runtime/retention.py": "apply_retention",
    "runtime/maintenance.py": "maintain_tables (compaction, Z-order, vacuum: no row changes)",
    "governance/erasure.py": "forget",
    "governance/key_admin.py": "keys rotate --reencrypt (ADMIN: cli/commands_keys.py)",
    "io/beam/bundles.py": "BundleWriter (Beam's WriteToAfluente)",
    "runtime/window_close.py": "run_project (the windows a watermark closed)",
}


def test_every_write_command_goes_through_a_guarded_entry() -> None:
    writing = {name for name, what in COMMANDS.items()
               if what.startswith("writes") and name != "init"} | {"publish", "forget"}
    assert writing == set(WRITE_COMMANDS), (
        "a command that writes tables checks MODIFY (governance.reader.require_modify): "
        "list it in WRITE_COMMANDS with the guarded entry it goes through")
    for name, function in GUARDS.items():
        assert "require_modify(" in inspect.getsource(function), name


def test_every_commit_to_a_table_is_reached_through_a_guard() -> None:
    found = sorted(
        path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] != "storage" and COMMITS.search(path.read_text()))
    assert found == sorted(COMMITTING), (
        "a new module commits to tables: reach it only through an entry that calls "
        "require_modify, and list it in COMMITTING")


GOVERNANCE = """
governance:
  roles:
    reader:
      grants: [select: silver]
    builder:
      grants: [modify: silver.orders]
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("writes") / "shop"
    scaffold(root)
    with (root / "afluente.yml").open("a") as config:
        config.write(GOVERNANCE)
    return root


def token_for(root: Path, role: str) -> str:
    done = run_afluente(["-p", str(root), "--json", "token", "create", "--role", role,
                         "--name", f"{role}_svc"])
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["token"])


def test_require_modify_names_the_table_and_who_grants_it(shop: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    project = load_project(shop)
    monkeypatch.setenv("AFLUENTE_TOKEN", token_for(shop, "builder"))
    require_modify(project, [TableRef("silver", "orders")])  # granted: no error
    with pytest.raises(AccessDenied) as caught:
        require_modify(project, [TableRef("silver", "orders"), TableRef("silver", "customers")])
    assert "service:builder_svc has no MODIFY grant on silver.customers" in caught.value.render()


def test_backfill_without_modify_is_refused_before_anything_is_recorded(
        shop: Path, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    done = run_afluente(["-p", str(root), "backfill", "silver.orders",
                         "--start", "2024-01-01", "--end", "2024-01-02"],
                        env={"AFLUENTE_TOKEN": token_for(root, "reader")})
    assert done.returncode == 1
    assert "service:reader_svc has no MODIFY grant on silver.orders" in done.stderr
    assert not (root / "warehouse" / "silver" / "orders").exists()
