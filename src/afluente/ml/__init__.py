"""Machine learning on gold tables: training as a table kind, the MLflow registry, scoring.

The only package that imports MLflow and scikit-learn (the `ml` extra, imported when a
`train` or `score` model runs). It works on pandas frames and knows nothing of engines or
storage: the runtime (`afluente.runtime.ml_build`) reads the inputs and writes the tables.
"""
