"""`type: kafka` sources: topic messages into bronze, exactly once, in micro-batches.

confluent-kafka is imported only when a source is read (`pip install 'afluente[kafka]'`).
See docs/streaming.md.
"""

from afluente.connectors.kafka.config import KafkaSource
from afluente.connectors.kafka.connector import KafkaConnector

__all__ = ["KafkaConnector", "KafkaSource"]
