"""A property-based run of the published OpenAPI schema (schemathesis): whatever the
parameters and bodies, no operation answers 500. Starting runs and backfills (a child
process each) and the endless event stream are left out; their bad input is tested in
test_runs_api.py."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from tests.conftest import require_component
from tests.server.conftest import Served

try:
    import schemathesis
except ImportError:  # the dev extra installs it; with CI=true its absence fails
    schemathesis = None

SKIPPED = {("POST", "/api/runs"), ("POST", "/api/backfills"), ("GET", "/api/events/stream")}


def test_no_operation_answers_500(served: Served) -> None:
    if schemathesis is None:
        require_component("schemathesis", "pip install 'afluente[dev]'")
    from schemathesis.checks import not_a_server_error

    schema = schemathesis.openapi.from_url(f"{served.url}/openapi.json")
    headers = {"Authorization": f"Bearer {served.tokens['analyst']}"}
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        tried.append(operation.path)

        @settings(max_examples=4, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: object) -> None:
            answer = case.call(base_url=served.url, headers=headers)  # type: ignore[attr-defined]
            case.validate_response(answer, checks=[not_a_server_error])  # type: ignore[attr-defined]

        check()
    assert len(tried) >= 20
