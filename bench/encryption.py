"""Encryption at rest (issue 15, RESULTS §28): the cost of writing a table whose `cpf` and
`email` columns are sealed with AES-GCM, against the same write in clear, and of reading
them back through the DuckDB engine (the `afluente_decrypt` view) against a clear read.

Writes go through `Warehouse.write` (the Delta writer path every encrypted table takes),
in three variants run in turn A B C A B C: clear (A), sealed under the table's data key
(B), sealed under per-subject keys (`subject: cpf`, C; the subject keys already exist, as
on every run after the first). Reads: a full scan to Arrow and an aggregate over both
sealed columns, clear (A) against sealed (B), alternating. Medians, IQR, paired ratios.

    PYTHONPATH=src python bench/encryption.py --rows 100000 --pairs 3
    PYTHONPATH=src python bench/encryption.py --rows 1000000 --pairs 3 --no-subject

RESULTS §35 (issue 15's "encryption overhead on a 10M-row write", and what a MERGE into a
table with sealed columns costs now that the incremental kinds seal):

    PYTHONPATH=src python bench/encryption.py --rows 10000000 --pairs 3 --no-subject \
        --write-only
    PYTHONPATH=src python bench/encryption.py --rows 1000000 --pairs 3 --no-subject \
        --write-only --merge 10000 [--merge-key cpf]

`--merge N`: after the writes, an upsert (`Target.upsert`, the MERGE every keyed kind
commits through) of N rows -- half of them changed e-mails of stored ids, half new ids --
into each variant's table, alternating; the sealed side reseals the diff against the
stored rows of the touched files (`storage/sealed_target.py`).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).parent))
from paired_stats import paired_ratio, spread

from afluente.config.governance import EncryptionSpec, KeySpec
from afluente.engines.duckdb_engine import DuckDBEngine
from afluente.governance.column_cipher import ColumnCipher
from afluente.governance.keyring import KeyRing
from afluente.model import TableRef
from afluente.storage import Warehouse
from afluente.storage.target import ACTION, UPSERT, Target

REF = TableRef("silver", "people")
SEALED = ("silver.people.cpf", "silver.people.email")
QUERIES = {"scan": "SELECT * FROM silver.people",
           "aggregate": "SELECT uf, count(DISTINCT cpf), max(email), sum(amount) "
                        "FROM silver.people GROUP BY uf"}


def people(rows: int, start: int = 0, mail: str = "example.com.br") -> pa.Table:
    """`rows` people with ids from `start` (Arrow kernels: 10M rows in seconds)."""
    ids = pa.array(range(start, start + rows), pa.int64())
    text = pc.cast(ids, pa.string())
    return pa.table({
        "id": ids,
        "cpf": pc.utf8_lpad(pc.cast(pc.multiply(ids, 7919), pa.string()), 11, "0"),
        "email": pc.binary_join_element_wise("person", text, "@" + mail, ""),
        "uf": pc.take(pa.array(["SP", "RJ", "MG", "BA"]), pc.bit_wise_and(ids, 3)),
        "amount": pc.multiply(pc.cast(ids, pa.float64()), 0.5)})


def cipher(folder: Path, subject: str | None) -> ColumnCipher:
    spec = EncryptionSpec(key=KeySpec(source="env"), pii=False, columns=SEALED,
                          subject=subject)
    return ColumnCipher(spec, KeyRing.create(folder / f"keyring-{subject}.db", spec.key))


def write(root: Path, data: pa.Table, encryptor: ColumnCipher | None, run: int) -> float:
    warehouse = Warehouse(str(root))
    warehouse.encryptor = encryptor
    start = time.perf_counter()
    warehouse.write(REF, pa.RecordBatchReader.from_batches(data.schema, data.to_batches(
        max_chunksize=256_000)), run_id=f"r{run}", fingerprint="f", inputs={})
    return time.perf_counter() - start


def upsert(root: Path, diff: pa.Table, encryptor: ColumnCipher | None,
           key: str = "id") -> float:
    """One MERGE of `diff` into the table by `key`, pruned to the files whose range of it
    the diff touches (none for a sealed key: ciphertext has no range), as the keyed kinds
    commit it."""
    warehouse = Warehouse(str(root))
    warehouse.encryptor = encryptor
    target = Target(warehouse.uri(REF), name=str(REF), sealing=warehouse.sealing(REF))
    rows = diff.append_column(ACTION, pa.array([UPSERT] * diff.num_rows))
    ids = diff[key].to_pylist()
    start = time.perf_counter()
    ranges = target.key_ranges(key)
    within = None if ranges is None else [
        (lo, hi) for lo, hi in ranges if any(lo <= i <= hi for i in ids)]
    target.upsert(pa.RecordBatchReader.from_batches(rows.schema, rows.to_batches()), [key],
                  diff.column_names, None, within=within)
    return time.perf_counter() - start


def merges(variants: dict[str, tuple[Path, ColumnCipher | None]], rows: int, size: int,
           pairs: int, key: str = "id") -> dict[str, object]:
    """Each round: a MERGE of `size` rows per variant, in turn; half the rows change the
    e-mail of stored ids, half are ids beyond the table."""
    times: dict[str, list[float]] = {n: [] for n in variants}
    for run in range(pairs):
        half = size // 2
        changed = people(half, start=rows // 2, mail=f"changed{run}.example.com.br")
        new = people(size - half, start=rows + run * size)
        diff = pa.concat_tables([changed, new])
        for name, (root, encryptor) in variants.items():
            times[name].append(upsert(root, diff, encryptor, key))
    return paired(times, "clear")


def read(root: Path, sql: str, decryptor: ColumnCipher | None) -> float:
    start = time.perf_counter()
    engine = DuckDBEngine()
    if decryptor is not None:
        engine.use_decryptor(decryptor)
    engine.attach_table(REF, Warehouse(str(root)).dataset(REF))
    engine.connection.sql(sql).to_arrow_table()
    return time.perf_counter() - start


def paired(sides: dict[str, list[float]], base: str) -> dict[str, object]:
    out: dict[str, object] = {name: spread(values).text(2) for name, values in sides.items()}
    for name, values in sides.items():
        if name != base:
            ratio = paired_ratio(sides[base], values)
            out[f"{name}/{base}"] = [round(ratio.median, 2), round(ratio.ci_low, 2),
                                     round(ratio.ci_high, 2)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--no-subject", action="store_true",
                        help="leave out the per-subject variant (its first write makes a key "
                             "per row: minutes at 1M rows)")
    parser.add_argument("--write-only", action="store_true", help="no read measurements")
    parser.add_argument("--merge", type=int, default=0, metavar="N",
                        help="also time a MERGE of N rows (half updates, half new ids)")
    parser.add_argument("--merge-key", default="id", choices=("id", "cpf"),
                        help="the MERGE's key: `cpf` is a sealed column")
    args = parser.parse_args()
    os.environ.setdefault("AFLUENTE_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    report: dict[str, object] = {"rows": args.rows, "load_before": os.getloadavg()}
    data = people(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        variants: dict[str, tuple[Path, ColumnCipher | None]] = {
            "clear": (base / "clear", None),
            "table_key": (base / "table", cipher(base, None)),
            "subject_keys": (base / "subject", cipher(base, "cpf"))}
        if args.no_subject:
            del variants["subject_keys"]
        first = {n: write(r, data, c, 0) for n, (r, c) in variants.items()}
        report["first_write_s"] = {n: round(s, 2) for n, s in first.items()}
        writes: dict[str, list[float]] = {n: [] for n in variants}
        for run in range(1, args.pairs + 1):
            for name, (root, encryptor) in variants.items():
                writes[name].append(write(root, data, encryptor, run))
        report["write"] = paired(writes, "clear")
        if args.merge:
            report["merge"] = merges(variants, args.rows, args.merge, args.pairs,
                                     args.merge_key)
            report["merge_key"] = args.merge_key
        for query, sql in ({} if args.write_only else QUERIES).items():
            reads: dict[str, list[float]] = {n: [] for n in variants}
            for _ in range(args.pairs):
                for name, (root, decryptor) in variants.items():
                    reads[name].append(read(root, sql, decryptor))
            report[f"read_{query}"] = paired(reads, "clear")
    report["load_after"] = os.getloadavg()
    sys.stdout.write(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
