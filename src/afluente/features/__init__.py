"""Point-in-time correct training sets from feature tables (docs/ml.md, "Features").

A feature table is an ordinary afluente table declaring `entity_key:` and `event_time:`;
`training_set` gives each label row the feature values known at its label time."""

from afluente.features.spec import FeatureTable, Labels
from afluente.features.training_set import FeatureInput, feature, training_set

__all__ = ["FeatureInput", "FeatureTable", "Labels", "feature", "training_set"]
