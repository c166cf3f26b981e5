"""`inspect export`: every table of one run written to files, one per table (CSV, or
Parquet when pyarrow is installed)."""

from __future__ import annotations

import csv
import importlib.util
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.read.queries import TABLES, InspectError

TABLE_ORDER: Mapping[str, str] = {
    "runs": "run_id",
    "messages": "id",
    "snapshots": "step, asset",
    "equity": "step",
}
"""The order each table's rows are exported in."""


def require_package(name: str, why_: str) -> None:
    """Raise InspectError naming `name` when it cannot be imported."""
    try:
        found = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise InspectError(
            f"{why_} needs the {name} package, which is not installed (pip install {name})"
        )


def export_run(
    conn: sqlite3.Connection, run_id: str, fmt: str, out_dir: str | Path
) -> list[dict[str, Any]]:
    """Write every table of one run (runs, messages, snapshots, equity) to `out_dir`,
    one file per table (`<table>.csv` or `<table>.parquet`), overwriting.

    Returns:
        One entry per table: table, path, rows.

    Raises:
        InspectError: unknown format, or parquet without pyarrow.
    """
    if fmt not in ("csv", "parquet"):
        raise InspectError(f"unknown export format {fmt!r}: csv or parquet")
    if fmt == "parquet":
        require_package("pyarrow", "export --format parquet")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES:
        sql = f"SELECT * FROM {table} WHERE run_id = ? ORDER BY {TABLE_ORDER[table]}"
        path = out / f"{table}.{fmt}"
        write = _write_csv if fmt == "csv" else _write_parquet
        written.append({"table": table, "path": str(path), "rows": write(conn, sql, run_id, path)})
    return written


def _write_csv(conn: sqlite3.Connection, sql: str, run_id: str, path: Path) -> int:
    """Write the rows of `sql` to a CSV file with a header row; returns the row count."""
    cursor = conn.execute(sql, [run_id])
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([d[0] for d in cursor.description])
        for row in cursor:
            writer.writerow(row)
            n += 1
    return n


def _write_parquet(conn: sqlite3.Connection, sql: str, run_id: str, path: Path) -> int:
    """Write the rows of `sql` to a Parquet file (pyarrow); returns the row count."""
    import pandas as pd

    frame = pd.read_sql_query(sql, conn, params=[run_id])
    frame.to_parquet(path, engine="pyarrow", index=False)
    return len(frame)
