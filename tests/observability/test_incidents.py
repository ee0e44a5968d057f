"""Real runs build a normal history; then real incidents are injected, and each must raise
exactly one alert of the right pillar naming the downstream impact."""

from __future__ import annotations

from datetime import timedelta

from afluente.observability import check_project
from afluente.state.observability import ObservabilityStore

from .conftest import Shop

NORMAL_RUNS = 5
DOWNSTREAM = ("silver.orders", "gold.revenue_by_channel")


def history(shop: Shop) -> None:
    for _ in range(NORMAL_RUNS):
        assert shop.run().status == "success"
    store = ObservabilityStore.open(shop.project.state_url)
    try:
        assert store.incidents() == []  # normal runs raise nothing
    finally:
        store.close()


def new_incidents(shop: Shop) -> list[str]:
    with ObservabilityStore.open(shop.project.state_url) as store:
        return sorted(f"{i.model}:{i.pillar}:{i.metric}" for i in store.incidents("open"))


def alerts_of(shop: Shop, **landing: object) -> list[dict[str, object]]:
    from afluente.runtime import run_project

    shop.land(**landing)  # type: ignore[arg-type]
    project = shop.project
    # the run's own observation is the one under test: read what it opened
    result = run_project(project)
    assert result.status == "success"
    with ObservabilityStore.open(project.state_url) as store:
        opened = [i for i in store.incidents("open") if i.opened_run_id == result.run_id]
    roots = {i.root for i in opened}
    return [{"root": r, "incidents": [i for i in opened if i.root == r]} for r in roots]


def test_normal_runs_record_metrics_and_raise_nothing(shop: Shop) -> None:
    history(shop)
    with ObservabilityStore.open(shop.project.state_url) as store:
        rows = store.metrics("bronze.orders")
    assert len(rows) == NORMAL_RUNS
    assert all(95 <= (r.rows_added or 0) <= 105 for r in rows)
    assert (rows[-1].files_written or 0) >= 1 and (rows[-1].bytes_written or 0) > 0
    assert rows[-1].profile["channel"]["null_rate"] == 0.0


def test_ten_times_fewer_rows_is_one_volume_alert(shop: Shop) -> None:
    history(shop)
    groups = alerts_of(shop, rows=10)
    assert len(groups) == 1
    group = groups[0]
    assert group["root"] == "bronze.orders"
    incidents = group["incidents"]
    assert isinstance(incidents, list)
    assert {i.pillar for i in incidents} == {"volume"}
    assert tuple(incidents[0].downstream) == DOWNSTREAM


def test_dropped_source_column_is_one_schema_alert(shop: Shop) -> None:
    history(shop)
    groups = alerts_of(shop, drop="channel")
    assert len(groups) == 1
    incidents = groups[0]["incidents"]
    assert isinstance(incidents, list)
    assert groups[0]["root"] == "bronze.orders"
    bronze = [i for i in incidents if i.model == "bronze.orders"]
    assert [i.pillar for i in bronze] == ["schema"]
    assert bronze[0].details["changes"][0]["column"] == "channel"
    assert tuple(bronze[0].downstream) == DOWNSTREAM


def test_null_rate_jump_is_one_distribution_alert(shop: Shop) -> None:
    history(shop)
    groups = alerts_of(shop, null_rate=0.5)
    assert len(groups) == 1
    incidents = groups[0]["incidents"]
    assert isinstance(incidents, list)
    assert groups[0]["root"] == "bronze.orders"
    assert "bronze.orders:distribution:channel.null_rate" in [
        f"{i.model}:{i.pillar}:{i.metric}" for i in incidents
    ]
    assert {i.pillar for i in incidents} == {"distribution"}


def test_table_past_its_sla_is_one_freshness_alert_then_resolves(shop: Shop) -> None:
    history(shop)
    with ObservabilityStore.open(shop.project.state_url) as store:
        last = store.metrics("bronze.orders")[-1].finished_at
    late = check_project(shop.project, now=last + timedelta(hours=7))
    assert len(late.alerts) == 1
    alert = late.alerts[0]
    assert (alert.kind, alert.severity, alert.root) == ("incident", "error", "bronze.orders")
    assert alert.downstream == DOWNSTREAM
    assert alert.marts == ("mart:gold.revenue_by_channel",)
    again = check_project(shop.project, now=last + timedelta(hours=8))
    assert again.alerts == []  # still open: no second alert
    fresh = check_project(shop.project, now=last + timedelta(minutes=5))
    assert [a.kind for a in fresh.alerts] == ["resolved"]
    assert new_incidents(shop) == []


def test_optional_column_empty_in_a_small_batch_is_no_schema_alert(shop: Shop) -> None:
    for _ in range(NORMAL_RUNS):  # `channel` is optional: about half the orders lack it
        assert shop.run(null_rate=0.5).status == "success"
    groups = alerts_of(shop, rows=3, null_rate=1.0)  # by chance, none of 3 orders has one
    pillars = {i.pillar for g in groups for i in g["incidents"]}  # type: ignore[attr-defined]
    assert "volume" in pillars  # 3 rows is still far fewer than usual
    assert "schema" not in pillars


def test_stopped_arriving_weighs_the_batch_size_against_the_earlier_null_rate() -> None:
    from afluente.observability.schema_diff import stopped_arriving

    earlier = [{"channel": {"rows": 100.0, "null_rate": 0.0}}] * 5
    now = {"channel": {"rows": 3.0, "null_rate": 1.0}}
    (change,) = stopped_arriving(now, earlier)
    assert (change.kind, change.column, change.breaking) == ("stopped_arriving", "channel", True)
    optional = [{"channel": {"rows": 100.0, "null_rate": 0.5}}] * 5
    assert stopped_arriving(now, optional) == []  # 1 chance in 8 for 3 rows
    assert len(stopped_arriving({"channel": {"rows": 20.0, "null_rate": 1.0}}, optional)) == 1
