"""The repeat-purchase model: who orders again? (docs/ml.md)

The demo's generator gives orders to customers uniformly at random, so nothing known at the
cutoff predicts a later order: the holdout AUC is about 0.5. The model shows the pipeline
(trained, registered, scored into gold, traced to the landing files), not skill; it has no
`promote_if` gate, or no version would ever become champion on this data.
"""

from sklearn.ensemble import HistGradientBoostingClassifier

import afluente

FEATURES = ["orders", "revenue", "items_per_order", "days_since_last"]


@afluente.train(inputs=["gold.repeat_training"], label="repeat",
                metrics=["auc", "accuracy", "log_loss"],
                description="Whether a customer orders again, from what was known at the "
                            "training set's cutoff")
def repeat_model(training_set):
    model = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, random_state=0)
    return model.fit(training_set[FEATURES], training_set["repeat"])
