"""Governance: who may read what, masks, audit and erasure."""
