"""The errors of training, registering and scoring models."""

from __future__ import annotations

from afluente.errors import ModelError


class MLError(ModelError):
    """A `train` or `score` model cannot do its work (bad output, missing label, unknown
    alias, missing extra); it names the model file and what to do."""
