"""Observability: per model run metrics, the five pillars (freshness, volume, schema,
distribution, lineage), incidents, alerts, `afluente health` and a Prometheus endpoint.

Computed after each run from what the run already produced (Delta commit metadata, file
statistics, one aggregate query per table written); see docs/observability.md.
"""

from afluente.observability.monitor import Observed, check_project, observe_run

__all__ = ["Observed", "check_project", "observe_run"]
