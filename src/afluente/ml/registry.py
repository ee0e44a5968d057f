"""The registered versions of a model: which one to score with, and their history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from afluente.errors import Location
from afluente.ml.errors import MLError
from afluente.ml.training import CHAMPION, TAG


@dataclass(frozen=True)
class Registered:
    """One registered version, as scoring needs it."""

    name: str
    version: int
    features: tuple[str, ...]
    reference: dict[str, Any] | None  # the training predictions' bins (afluente.ml.drift)

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def resolve(client: Any, name: str, version: int | None, alias: str | None,
            location: Location, table: str) -> Registered:
    """The version `version:` or `alias:` names (by default the champion)."""
    versions = _versions(client, name)
    if not versions:
        raise MLError(f"no version of model `{name}` is registered",
                      location=location, table=table,
                      hint=f"train it (`afluente run -s {name} --full-refresh`) into this "
                           "tracking store (`ml: tracking_uri` in afluente.yml, by default "
                           ".afluente/mlflow.db)")
    if version is not None:
        found = next((v for v in versions if int(v.version) == version), None)
        if found is None:
            raise MLError(f"model `{name}` has no version {version} (it has "
                          f"{_listed(versions)})", location=location, table=table,
                          hint="set `version:` to a registered version, or `alias: champion`")
        return _registered(name, found)
    wanted = alias or CHAMPION
    aliases = sorted(_aliases(client, name))
    if wanted not in aliases:
        known = ", ".join(f"`{a}`" for a in aliases) or "none"
        raise MLError(
            f"model `{name}` has no alias `{wanted}` (its aliases: {known}; versions "
            f"{_listed(versions)})", location=location, table=table,
            hint="use an alias it has, or `version:`; a version becomes `champion` when its "
                 "training passes `promote_if`")
    return _registered(name, client.get_model_version_by_alias(name, wanted))


def history(client: Any, name: str) -> list[dict[str, Any]]:
    """Every registered version of `name`, oldest first, as rows of its `train` table."""
    rows = []
    champion = _aliases(client, name).get(CHAMPION)
    for found in sorted(_versions(client, name), key=lambda v: int(v.version)):
        tags = found.tags or {}
        run = client.get_run(found.run_id)
        rows.append({
            "version": int(found.version),
            "mlflow_run_id": found.run_id,
            "run_id": tags.get(TAG + "run_id"),
            "trained_at": datetime.fromtimestamp(found.creation_timestamp / 1000, UTC),
            "metrics": json.dumps(run.data.metrics, sort_keys=True),
            "inputs": tags.get(TAG + "inputs"),
            "fingerprint": tags.get(TAG + "fingerprint"),
            "promoted": tags.get(TAG + "promoted") == "True",
            "gate": tags.get(TAG + "gate") or None,
            "champion": champion == str(found.version),
        })
    return rows


def _versions(client: Any, name: str) -> list[Any]:
    return list(client.search_model_versions(f"name = '{name}'"))


def _aliases(client: Any, name: str) -> dict[str, str]:
    """Each alias of `name` and its version (version listings leave aliases out)."""
    return {a: str(v) for a, v in (client.get_registered_model(name).aliases or {}).items()}


def _registered(name: str, found: Any) -> Registered:
    tags = found.tags or {}
    reference = tags.get(TAG + "reference")
    return Registered(name, int(found.version), tuple(json.loads(tags.get(TAG + "features",
                                                                          "[]"))),
                      json.loads(reference) if reference else None)


def _listed(versions: list[Any]) -> str:
    return ", ".join(str(v) for v in sorted(int(v.version) for v in versions))
