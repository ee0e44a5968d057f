"""A token bucket per caller: `rate` requests a minute, in bursts of up to `rate`."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from afluente.server.problems import RateLimited


@dataclass
class RateLimit:
    per_minute: int
    what: str = "queries"
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, at
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, who: str, now: float | None = None) -> None:
        """Spend one request of `who`'s allowance, or raise `RateLimited`."""
        moment = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, at = self._buckets.get(who, (float(self.per_minute), moment))
            tokens = min(float(self.per_minute), tokens + (moment - at) * rate)
            if tokens < 1.0:
                self._buckets[who] = (tokens, moment)
                wait = math.ceil((1.0 - tokens) / rate)
                raise RateLimited(
                    f"{who} sent more than {self.per_minute} {self.what} a minute",
                    retry_after=wait,
                    hint=f"wait {wait}s (Retry-After), or start the server with a higher "
                         "`--query-rate`")
            self._buckets[who] = (tokens - 1.0, moment)
