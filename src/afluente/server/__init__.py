"""`afluente serve`: the REST API over a project's tables, runs, quality, lineage, health,
schedules and audit log (docs/api.md). Only this package imports fastapi, starlette and
uvicorn; every read of table values goes through the governed reader."""
