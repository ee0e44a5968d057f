"""The Spark session of a process: started once, lazily, and shared by every Spark engine.

Starting Spark costs tens of seconds (a JVM, a SparkContext), so a process starts it once,
on the first engine that needs it. Each engine then gets its own session on top of it
(`SparkSession.newSession()`, or a new Spark Connect session): its own temporary views and
SQL settings, the same executors. Before starting anything the master or Connect URL is
probed with a plain TCP connection, so an unreachable cluster fails in seconds naming the
URL instead of Spark retrying for minutes.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import threading
from collections.abc import Callable
from importlib import import_module
from typing import Any
from urllib.parse import urlparse

from afluente.engines.settings import SparkSettings
from afluente.errors import EngineError

INSTALL_HINT = "pip install 'afluente[spark]'"
JAVA_HINT = (
    "install a Java 17 runtime (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`) "
    "or set JAVA_HOME to one"
)
PROBE_SECONDS = 3.0
CONNECT_PORT = 15002  # Spark Connect's default port

# Settings every engine's session runs with: timestamps are UTC, and Parquet timestamps are
# INT64 microseconds (Delta's own; Spark's default INT96 is not what delta-rs expects).
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}
# Settings of the process's session when afluente starts Spark itself (`conf` overrides).
START_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}

_lock = threading.Lock()
_root: Any = None
_target: str | None = None


def target(settings: SparkSettings) -> str:
    """Where the settings run Spark: the Connect URL, else the master."""
    return settings.connect_url or settings.master


def spark_session(settings: SparkSettings) -> Any:
    """A session of its own for one engine: a new session on the process's Spark (started
    on first use), or a new session of the Spark Connect server."""
    reachable(settings)
    builder = _builder(settings)  # pyspark importable (also once Spark runs)
    _claim(target(settings))
    if settings.connect_url:
        session = _started(settings, builder.remote(settings.connect_url).create)
    else:
        session = _process_session(settings, builder).newSession()
    runtime = {k: conf_value(v) for k, v in settings.conf.items() if k.startswith("spark.sql.")}
    for key, text in {**SESSION_CONF, **runtime}.items():
        session.conf.set(key, text)
    return session


def reachable(settings: SparkSettings) -> None:
    """Fail in seconds, naming the URL, when the cluster or Connect server does not answer
    (Spark itself retries a standalone master for about a minute)."""
    if settings.connect_url:
        probe(settings.connect_url, _connect_addresses(settings.connect_url))
    elif settings.master.startswith("spark://"):
        probe(settings.master, _master_addresses(settings.master))


def _claim(where: str) -> None:
    """Tie the process to one Spark: a JVM holds one SparkContext, and once pyspark has
    made a Spark Connect session its functions build Connect plans for every session."""
    global _target
    with _lock:
        if _target is None:
            _target = where
        elif where != _target:
            raise EngineError(
                f"this process already runs Spark on {_target}; it cannot also run Spark on "
                f"{where}",
                hint="one Spark per process: give every Spark engine of a process the same "
                "`master` / `connect_url`",
            )


def _process_session(settings: SparkSettings, builder: Any) -> Any:
    """The process's own Spark, started on first use."""
    global _root
    with _lock:
        if _root is None:
            require_java()
            if settings.master.startswith("local"):
                # local executors run Python (UDFs, the object-storage reader) with the
                # driver's own interpreter, not whatever `python3` is first on PATH
                os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = builder.master(settings.master)
            for key, value in {**START_CONF, **SESSION_CONF, **settings.conf}.items():
                builder = builder.config(key, conf_value(value))
            _root = _started(settings, builder.getOrCreate)
            _root.sparkContext.setLogLevel("FATAL")  # failures reach the user as errors
        return _root


def _started(settings: SparkSettings, start: Callable[[], Any]) -> Any:
    try:
        return start()
    except Exception as exc:
        raise EngineError(
            f"Spark did not start on {target(settings)}: {summary_line(exc)}",
            hint="check `engine.master` / `engine.connect_url` and `engine.conf` in "
            "afluente.yml",
        ) from exc


def summary_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _builder(settings: SparkSettings) -> Any:
    try:
        module = import_module("pyspark.sql")
        if settings.connect_url:
            import_module("pyspark.sql.connect.session")
    except ImportError as exc:
        raise EngineError(
            f"the Spark engine needs pyspark, which is not installed ({exc})",
            hint=INSTALL_HINT,
        ) from None
    _quiet_error_logs()
    return module.SparkSession.builder.appName(settings.app_name)


def _quiet_error_logs() -> None:
    """pyspark logs every SQL error with its JVM stack trace to stderr as it raises it; the
    error reaches the user as an EngineError, so the log only repeats it at length."""
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # a pyspark without structured logging logs none of this
        return
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)


def conf_value(value: str | int | float | bool) -> str:
    """A Spark setting as Spark spells it (`true`, not `True`)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def require_java() -> None:
    """Spark's driver is a JVM: fail clearly when there is no `java` to start it."""
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return
    if shutil.which("java") is None:
        where = f"JAVA_HOME={home} has no bin/java and " if home else ""
        raise EngineError(f"the Spark engine needs Java: {where}no `java` is on PATH",
                          hint=JAVA_HINT)


def probe(url: str, addresses: list[tuple[str, int]]) -> None:
    """Connect to each address once with a short timeout; none answering is an error."""
    failures = []
    for host, port in addresses:
        try:
            with socket.create_connection((host, port), timeout=PROBE_SECONDS):
                return
        except OSError as exc:
            failures.append(f"{host}:{port} ({exc.strerror or exc})")
    raise EngineError(
        f"cannot reach Spark at {url}: {', '.join(failures) or 'no host:port in the URL'}",
        hint="start the Spark master (or Connect server) there, or fix `engine.master` / "
        "`engine.connect_url` in afluente.yml",
    )


def _master_addresses(master: str) -> list[tuple[str, int]]:
    """`spark://h1:7077,h2:7077` → its hosts and ports (standby masters included)."""
    addresses = []
    for part in master.removeprefix("spark://").split(","):
        host, _, port = part.partition(":")
        addresses.append((host, int(port) if port.isdigit() else 7077))
    return addresses


def _connect_addresses(url: str) -> list[tuple[str, int]]:
    """`sc://host:port/;token=...` → its host and port."""
    parsed = urlparse(url.split(";", 1)[0].replace("sc://", "http://", 1))
    try:
        port = parsed.port or CONNECT_PORT
    except ValueError:
        return []
    return [(parsed.hostname, port)] if parsed.hostname else []
