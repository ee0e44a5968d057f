"""The demo: a synthetic Brazilian e-commerce landing zone and a medallion project on it."""
