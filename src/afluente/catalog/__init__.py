"""The catalog: tables and columns with their docs, owners and (inherited) tags, searchable,
and published as a static documentation site."""

from afluente.catalog.collect import TableFacts, load_lineage, table_facts
from afluente.catalog.search import Hit, search
from afluente.catalog.site import build_site, site_data
from afluente.catalog.tags import declared_tags, propagate_tags

__all__ = [
    "Hit", "TableFacts", "build_site", "declared_tags", "load_lineage", "propagate_tags",
    "search", "site_data", "table_facts",
]
