"""The champion repeat-purchase model's predictions for every customer (docs/ml.md)"""

import afluente


@afluente.score(model="gold.repeat_model", inputs=["gold.customer_features"],
                unique_key="customer_id",
                description="Probability that each customer orders again (`score`), by the "
                            "champion version of gold.repeat_model")
def repeat_scores(customers):
    return customers
