"""The results database of ``edgeprof sweep``: one SQLite file, one table ``results`` with one row per
(model hash, options hash, device, precision, edgeprof version), the headline figures as columns
and the full JSON report beside them, and a table ``meta`` that holds the schema version.

Only the sweep's parent process writes, one transaction per finished row (workers return rows;
they never open the file), in WAL mode so that a reader (``edgeprof db query``, any SQLite
client) can read while a sweep runs. A sweep killed half way leaves every finished row committed.
The schema is documented in docs/sweep.md; :data:`SCHEMA_VERSION` changes with it, and a file of
a newer version is refused rather than misread.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from edgeprof.errors import UsageError
from edgeprof.report.sweep import KEY_FIELDS, SweepRow

__all__ = ["DEFAULT_QUERY", "SCHEMA", "SCHEMA_VERSION", "ResultsDB", "query"]

SCHEMA_VERSION = 1

_COLUMNS: dict[str, str] = {
    "model_hash": "TEXT NOT NULL",
    "options_hash": "TEXT NOT NULL",
    "device": "TEXT NOT NULL",
    "precision": "TEXT NOT NULL",
    "edgeprof_version": "TEXT NOT NULL",
    "label": "TEXT NOT NULL",
    "source": "TEXT NOT NULL",
    "point": "TEXT NOT NULL",
    "options": "TEXT NOT NULL",
    "status": "TEXT NOT NULL CHECK (status IN ('ok', 'error'))",
    "error": "TEXT NOT NULL",
    "flops": "INTEGER",
    "macs": "INTEGER",
    "params": "INTEGER",
    "weight_bytes": "INTEGER",
    "peak_bytes": "INTEGER",
    "is_lower_bound": "INTEGER",
    "latency_s": "REAL",
    "latency_is_lower_bound": "INTEGER",
    "energy_j": "REAL",
    "measured_latency_s": "REAL",
    "measured_peak_bytes": "INTEGER",
    "measurement_error": "TEXT NOT NULL",
    "runner": "TEXT NOT NULL",
    "host": "TEXT NOT NULL",
    "elapsed_s": "REAL",
    "created_at": "TEXT NOT NULL",
    "report": "TEXT NOT NULL",
}
assert list(_COLUMNS) == [f.name for f in dataclasses.fields(SweepRow)]

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS results (\n    id INTEGER PRIMARY KEY,\n"
    + "".join(f"    {name} {kind},\n" for name, kind in _COLUMNS.items())
    + f"    UNIQUE ({', '.join(KEY_FIELDS)})\n);\n"
    "CREATE INDEX IF NOT EXISTS results_label ON results (label);\n"
)
"""The schema, as created (docs/sweep.md explains every column)."""

DEFAULT_QUERY = ("SELECT label, device, precision, status, params, macs, peak_bytes, latency_s, energy_j, error "
                 "FROM results ORDER BY id")
"""What ``edgeprof db query FILE`` runs without a query."""

_INT64 = 2**63 - 1


def _sql_value(value: Any) -> Any:
    """A count past SQLite's 64-bit integers is stored as a REAL (never seen for a real model)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and abs(value) > _INT64:
        return float(value)
    return value


def _check_version(conn: sqlite3.Connection, path: str) -> None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        return
    try:
        version = int(row[0])
    except ValueError:
        version = -1
    if version != SCHEMA_VERSION:
        raise UsageError(f"{path}: results database of schema version {row[0]}; this edgeprof reads version "
                         f"{SCHEMA_VERSION} (use a new --db file)")


class ResultsDB:
    """The results database at ``path`` (created if missing), for the sweep's parent process."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        if os.path.isdir(self.path):
            raise UsageError(f"--db {self.path}: is a folder")
        try:
            self.conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables and "results" not in tables:
                raise UsageError(f"--db {self.path}: an SQLite file that is not an edgeprof results database")
            if "meta" in tables:
                _check_version(self.conn, self.path)
            self.conn.execute("BEGIN IMMEDIATE")
            for statement in SCHEMA.split(";\n"):
                if statement.strip():
                    self.conn.execute(statement)
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"--db {self.path}: {exc}") from None

    def existing(self, keys: Iterable[tuple[str, str, str, str, str]], *, ok_only: bool = False) -> dict[
            tuple[str, str, str, str, str], SweepRow]:
        """The rows already in the database among ``keys`` (``ok_only``: the successful ones)."""
        out: dict[tuple[str, str, str, str, str], SweepRow] = {}
        names = list(_COLUMNS)
        sql = (f"SELECT {', '.join(names)} FROM results WHERE "
               + " AND ".join(f"{k} = ?" for k in KEY_FIELDS))  # the unique index serves it
        for key in dict.fromkeys(keys):
            values = self.conn.execute(sql, key).fetchone()
            if values is not None:
                row = _row(names, values)
                if row.ok or not ok_only:
                    out[key] = row
        return out

    def put(self, row: SweepRow) -> None:
        """Write one row (replacing the row of the same key), in its own transaction."""
        names = list(_COLUMNS)
        values = [_sql_value(getattr(row, n)) for n in names]
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute(f"INSERT OR REPLACE INTO results ({', '.join(names)}) VALUES "
                              f"({', '.join('?' * len(names))})", values)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def rows(self) -> list[SweepRow]:
        names = list(_COLUMNS)
        return [_row(names, v) for v in self.conn.execute(f"SELECT {', '.join(names)} FROM results ORDER BY id")]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultsDB:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


_BOOLS = {"is_lower_bound", "latency_is_lower_bound"}


def _row(names: Sequence[str], values: Sequence[Any]) -> SweepRow:
    data = dict(zip(names, values, strict=True))
    for name in _BOOLS:
        if data[name] is not None:
            data[name] = bool(data[name])
    return SweepRow(**data)


def query(path: str | os.PathLike[str], sql: str = DEFAULT_QUERY,
          params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``sql`` on the database at ``path``, opened read-only (a query cannot change it): the
    column names and the rows."""
    where = str(path)
    if not Path(where).is_file():
        raise UsageError(f"{where}: No such file")
    uri = Path(where).resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30.0)
    except sqlite3.Error as exc:
        raise UsageError(f"{where}: {exc}") from None
    try:
        cursor = conn.execute(sql, tuple(params))
        columns = [d[0] for d in cursor.description or ()]
        return columns, [tuple(r) for r in cursor.fetchall()]
    except sqlite3.Error as exc:
        raise UsageError(f"{where}: {exc}") from None
    finally:
        conn.close()
