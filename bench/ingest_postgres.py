"""PostgreSQL table → bronze Delta ingestion throughput, against connectorx alone.

A table of `--rows` rows (id, customer, status, amount numeric(12,2), note, updated_at
timestamptz) is generated in PostgreSQL with `generate_series`. The server is the one given
by `--url`, or a throwaway cluster started in a temporary folder (`initdb`/`pg_ctl`, like the
test fixture). Then, each tool in its own child process:

  raw-connectorx     connectorx alone: `read_sql(..., return_type="arrow_stream")`, batches of
                     100k rows counted and dropped (the floor: reading from the server)
  afluente-ingest    `afluente -p DIR --json run`: the `postgres` source read in 100k-row
                     batches, bronze columns stamped, one Delta commit

Rate = rows / wall time; peak RSS shows the memory stays bounded (batches, not the table).
Results: `bench/results/ingest_postgres_<rows>.json`.

    python bench/ingest_postgres.py --rows 10000000 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA_DIR, Series, afluente_cli, environment, measure, write_result

RAW = """\
import sys, connectorx
reader = connectorx.read_sql(sys.argv[1], "SELECT * FROM bench_orders",
                             return_type="arrow_stream", batch_size=100000)
print(sum(batch.num_rows for batch in reader))
"""


def _bin(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)),
        None,
    )
    if found is None:
        raise SystemExit(f"{name} not found: install PostgreSQL or pass --url")
    return found


@contextmanager
def throwaway_server() -> Iterator[str]:
    """A PostgreSQL cluster in a temporary folder (as `postgres` when run as root)."""
    base = Path(tempfile.mkdtemp(prefix="afluente-bench-pg-"))
    user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    if user is not None:
        os.chown(base, user.pw_uid, user.pw_gid)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    data = base / "data"
    options = f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off -c shared_buffers=256MB"
    run = lambda args: subprocess.run(args, check=True, capture_output=True, cwd=base, **as_user)  # noqa: E731
    run([_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"])
    run([_bin("pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-o", options, "-w", "start"])
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run([_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


def load(url: str, rows: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_orders")
        conn.execute(
            "CREATE TABLE bench_orders (id bigint PRIMARY KEY, customer int, status text, "
            "amount numeric(12, 2), note text, updated_at timestamptz)"
        )
        conn.execute(
            "INSERT INTO bench_orders SELECT g, g % 50000, "
            "(ARRAY['open', 'paid', 'shipped', 'cancelled'])[g % 4 + 1], (g % 100000) / 100.0, "
            "'order note ' || g, timestamptz '2024-01-01' + g * interval '1 second' "
            f"FROM generate_series(1, {rows}) g"
        )
        conn.execute("VACUUM ANALYZE bench_orders")


def project(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "afluente.yml").write_text(textwrap.dedent("""\
        name: bench_pg
        sources:
          orders:
            type: postgres
            url: ${BENCH_PG_URL}
            source_table: bench_orders
            chunk_rows: 100000
        """))
    return folder


def bench(url: str, rows: int, repeat: int) -> dict[str, object]:
    load(url, rows)
    raw, ingest = Series("raw-connectorx"), Series("afluente-ingest")
    env = {**os.environ, "BENCH_PG_URL": url}
    for _ in range(repeat):
        raw.runs.append(measure([sys.executable, "-c", RAW, url]))
        folder = project(DATA_DIR / "ingest_postgres")
        ingest.runs.append(measure([afluente_cli(), "-p", str(folder), "--json", "run"], env=env))
    rates = {s.name: rows / s.wall_median_s for s in (raw, ingest)}
    return {
        "scenario": "ingest_postgres",
        "rows": rows,
        "rows_per_s": {k: round(v) for k, v in rates.items()},
        "afluente_vs_raw": round(rates["afluente-ingest"] / rates["raw-connectorx"], 3),
        "series": [raw.summary(), ingest.summary()],
        "environment": environment(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--url", help="an existing server (default: start a throwaway one)")
    args = parser.parse_args()
    if args.url:
        result = bench(args.url, args.rows, args.repeat)
    else:
        with throwaway_server() as url:
            result = bench(url, args.rows, args.repeat)
    path = write_result(f"ingest_postgres_{args.rows}", result)
    print(f"{path}: {result['rows_per_s']} (afluente/raw {result['afluente_vs_raw']})")


if __name__ == "__main__":
    main()
