"""Bridges that let other data-processing frameworks read and write afluente tables
(`afluente.io.beam`: Apache Beam). Each imports its framework only inside its own package."""
