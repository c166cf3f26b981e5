"""The one price csv reader: every cell the market will use, checked with file:line: column.

The loader checks a scenario's csv with `read_price_csv` (`sim.load.universe`) and the
market is built from what it returns (`sim.run.market_data`), so a file the loader accepts is
the file the run reads. Two layouts, told apart by the header (column names
case-insensitive, spaces read as underscores):

- long (the header has `ticker` or `symbol`): `date`, `ticker` (or `symbol`), and
  `close` (or `price`) and/or `adj_close` (`adjusted_close`, `adjclose`); other columns
  are ignored. A ticker with any adj_close value uses adj_close only (a blank cell stays
  missing); a ticker without any uses close.
- wide (otherwise): `date` and one column per ticker.

The content rules (docs/market.md): the file is UTF-8 text with a header; no column
name twice; every date an ISO `YYYY-MM-DD` date from FIRST_DATE to LAST_DATE; no date
(wide) or (date, ticker) (long) twice, reported with both lines; rows in any order
(sorted by date here); a price cell is missing (blank, `NA`, `N/A`, `NaN`, `nan`,
`null`) or a finite number in [MIN_PRICE, MAX_PRICE]; at least one row. The first
problem found is raised as `CsvError`.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import os
import warnings
from pathlib import Path

import attrs
import numpy as np
import pandas as pd

from domain.limits import FIRST_DATE, LAST_DATE, MAX_PRICE, MIN_PRICE
from sim.load.problems import WHOLE_FILE
from sim.load.yaml_nodes import Invalid, parse_date, shown

CLOSE_COLUMNS: tuple[str, ...] = ("close", "price")
ADJ_CLOSE_COLUMNS: tuple[str, ...] = ("adj_close", "adjusted_close", "adjclose")
TICKER_COLUMNS: tuple[str, ...] = ("ticker", "symbol")
#: Cells that mean "no price that day".
MISSING: tuple[str, ...] = ("", "NA", "N/A", "NaN", "nan", "null")

_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


class CsvError(ValueError):
    """A price csv is unusable: the first problem, at a 1-based line and a column."""

    def __init__(self, path: str | os.PathLike[str], line: int, column: str, message: str):
        self.path = os.fspath(path)
        self.line = line
        self.column = column
        self.message = message
        super().__init__(f"{self.path}:{line}: {column}: {message}")

    def __reduce__(self):  # picklable across processes
        return (type(self), (self.path, self.line, self.column, self.message))


@attrs.frozen(eq=False)
class CsvPrices:
    """Closes read from a csv file.

    Attributes:
        dates: ascending, unique.
        tickers: sorted.
        closes: float64 (len(dates), len(tickers)), read-only; NaN where the file has no
            value.
    """

    dates: tuple[dt.date, ...]
    tickers: tuple[str, ...]
    closes: np.ndarray


def normalise(name: str) -> str:
    """A column name as matched: stripped, lower case, spaces as underscores."""
    return str(name).strip().lower().replace(" ", "_")


def read_price_csv(path: str | os.PathLike[str]) -> CsvPrices:
    """Read and check a long or wide price csv (see the module docstring).

    The result is cached per (path, modification time, size), so the loader's check and
    the run read a file once per process.

    Raises:
        CsvError: the first problem, naming the line and the column.
    """
    try:
        stat = Path(path).stat()
    except OSError as exc:
        raise CsvError(path, 1, WHOLE_FILE, f"cannot read the file: {exc.strerror}") from None
    if not Path(path).is_file():
        raise CsvError(path, 1, WHOLE_FILE, "is a directory, not a csv file")
    return _read_cached(os.fspath(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, _mtime_ns: int, _size: int) -> CsvPrices:
    text = _text(path)
    reader = _Reader(path, text)
    frame = reader.long() if reader.is_long else reader.wide()
    frame = frame.sort_index(axis=0, kind="stable").sort_index(axis=1)
    closes = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    closes.setflags(write=False)
    return CsvPrices(
        dates=tuple(d.date() for d in frame.index),
        tickers=tuple(str(c) for c in frame.columns),
        closes=closes,
    )


def _text(path: str) -> str:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CsvError(path, 1, WHOLE_FILE, f"cannot read the file: {exc.strerror}") from None
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise CsvError(path, line, WHOLE_FILE, "binary data (a NUL byte); expected a text csv")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start]
        raise CsvError(path, line, WHOLE_FILE, f"not UTF-8 text (byte 0x{byte:02x})") from None
    if not text.strip():
        raise CsvError(path, 1, WHOLE_FILE, "the file is empty; expected a header line")
    return text


def _record_lines(text: str) -> list[int]:
    """The first line of every record pandas reads (blank lines skipped), header first."""
    reader = csv.reader(io.StringIO(text))
    lines: list[int] = []
    last = 0
    for record in reader:
        if record and not (len(record) == 1 and not record[0].strip()):
            lines.append(last + 1)
        last = reader.line_num
    return lines


class _Reader:
    """One file's header, columns and rows; `fail` raises at a data row's line."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        self._lines: list[int] | None = None
        header = next(csv.reader(io.StringIO(text.lstrip("\r\n"))), [])
        self.header_line = text.count("\n", 0, len(text) - len(text.lstrip("\r\n"))) + 1
        self.raw = header
        self.columns = [c.strip() for c in header]
        #: normalised name -> the column's name as written (pandas' name for it)
        self.names: dict[str, str] = {}
        for i, column in enumerate(self.columns):
            if not column:
                self.fail_header(f"(column {i + 1})", "a column has no name")
            key = normalise(column)
            if key in self.names:
                first = [normalise(c) for c in self.columns].index(key) + 1
                self.fail_header(column, f"duplicate column (columns {first} and {i + 1})")
            self.names[key] = header[i]
        if "date" not in self.names:
            self.fail_header(WHOLE_FILE, f"no 'date' column (columns: {', '.join(self.columns)})")
        self.date = self.names["date"]
        self.ticker = next((self.names[c] for c in TICKER_COLUMNS if c in self.names), None)
        self.is_long = self.ticker is not None

    # --- errors ------------------------------------------------------------------------

    def fail_header(self, column: str, message: str) -> None:
        raise CsvError(self.path, self.header_line, column, message)

    def fail(self, row: int, column: str, message: str) -> None:
        """Raise at data row `row` (0-based, in file order)."""
        raise CsvError(self.path, self.line(row), column.strip(), message)

    def line(self, row: int) -> int:
        """The 1-based line where data row `row` starts (computed once, on a problem)."""
        if self._lines is None:
            self._lines = _record_lines(self.text)
        return self._lines[min(row + 1, len(self._lines) - 1)]

    # --- reading -----------------------------------------------------------------------

    def read(self, usecols: list[str], text_columns: list[str]) -> pd.DataFrame:
        """The data rows of `usecols`: `text_columns` as text, the others as numbers where
        they parse. A row with more fields than the header is refused."""
        with warnings.catch_warnings():
            # pandas warns (and drops data) when the first row has too many fields
            warnings.simplefilter("error", pd.errors.ParserWarning)
            try:
                frame = pd.read_csv(
                    io.StringIO(self.text),
                    index_col=False,
                    dtype={c: str for c in text_columns},
                    keep_default_na=False,
                    na_values={c: list(MISSING) for c in usecols if c not in text_columns},
                )
            except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
                self.fail_ragged(exc)
        if frame.empty:
            self.fail_header(WHOLE_FILE, "no price rows below the header")
        return frame[usecols]

    def fail_ragged(self, exc: Exception) -> None:
        reader = csv.reader(io.StringIO(self.text))
        last = 0
        for record in reader:
            if len(record) > len(self.raw):
                raise CsvError(
                    self.path,
                    last + 1,
                    WHOLE_FILE,
                    f"{len(record)} fields, the header has {len(self.raw)}",
                )
            last = reader.line_num
        raise CsvError(self.path, 1, WHOLE_FILE, f"cannot parse: {exc}")

    def dates(self, values: pd.Series) -> pd.Series:
        """The date column as timestamps; the first bad cell raises."""
        text = values.fillna("").str.strip()
        iso = text.str.fullmatch(_ISO_DATE)
        parsed = pd.to_datetime(text.where(iso), format="%Y-%m-%d", errors="coerce")
        first, last = pd.Timestamp(FIRST_DATE), pd.Timestamp(LAST_DATE)
        bad = ~iso | parsed.isna() | (parsed < first) | (parsed > last)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            try:
                parse_date(text.iloc[row])
            except Invalid as exc:
                self.fail(row, self.date, str(exc))
        return parsed

    def prices(self, values: pd.Series, column: str) -> pd.Series:
        """A price column as float64 (NaN = missing); the first bad cell raises."""
        if values.dtype == object:
            text = values.astype(str).str.strip()
            number = pd.to_numeric(text.where(~text.isin(MISSING)), errors="coerce")
            bad = number.isna() & ~text.isin(MISSING)
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                self.fail(row, column, f"expected a number, got '{shown(text.iloc[row])}'")
            values = number
        numbers = values.astype(np.float64)
        array = numbers.to_numpy()
        present = ~np.isnan(array)
        bad = present & ~((array >= MIN_PRICE) & (array <= MAX_PRICE))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            self.fail(
                row,
                column,
                f"a price must be a finite number in [{MIN_PRICE:g}, {MAX_PRICE:g}],"
                f" got {array[row]:g}",
            )
        return numbers

    def no_duplicates(self, keys: pd.DataFrame) -> None:
        """Raise at the second of two rows with the same `date` (and `ticker`), naming the
        first one's line."""
        repeated = keys.duplicated(keep="first").to_numpy()
        if not repeated.any():
            return
        row = int(np.flatnonzero(repeated)[0])
        first = int(np.flatnonzero((keys == keys.iloc[row]).all(axis=1).to_numpy())[0])
        day = keys["date"].iloc[row].date()
        what = f"row for {keys['ticker'].iloc[row]} on {day}" if "ticker" in keys else f"date {day}"
        self.fail(row, self.date, f"duplicate {what} (first at line {self.line(first)})")

    def long(self) -> pd.DataFrame:
        adj = next((self.names[c] for c in ADJ_CLOSE_COLUMNS if c in self.names), None)
        close = next((self.names[c] for c in CLOSE_COLUMNS if c in self.names), None)
        if adj is None and close is None:
            self.fail_header(WHOLE_FILE, "a long price file needs a close or adj_close column")
        assert self.ticker is not None
        wanted = [self.date, self.ticker] + [c for c in (adj, close) if c is not None]
        raw = self.read(wanted, [self.date, self.ticker])
        dates = self.dates(raw[self.date])
        tickers = raw[self.ticker].fillna("").str.strip()
        empty = (tickers == "").to_numpy()
        if empty.any():
            self.fail(int(np.flatnonzero(empty)[0]), self.ticker, "a ticker is required")
        value = self.prices(raw[adj], adj) if adj is not None else None
        if close is not None:
            plain = self.prices(raw[close], close)
            if value is None:
                value = plain
            else:
                # Per ticker, never per cell: mixing adjusted and raw closes fakes jumps.
                has_adj = value.notna().groupby(tickers).transform("any")
                value = value.where(has_adj, plain)
        table = pd.DataFrame({"date": dates, "ticker": tickers, "value": value})
        self.no_duplicates(table[["date", "ticker"]])
        return table.pivot(index="date", columns="ticker", values="value")

    def wide(self) -> pd.DataFrame:
        tickers = [c for c in self.raw if c != self.date]
        if not tickers:
            self.fail_header(WHOLE_FILE, "a wide price file needs one column per ticker")
        raw = self.read(self.raw, [self.date])
        dates = self.dates(raw[self.date])
        self.no_duplicates(pd.DataFrame({"date": dates}))
        frame = pd.DataFrame(
            {t.strip(): self.prices(raw[t], t.strip()).to_numpy() for t in tickers}
        )
        frame.index = pd.DatetimeIndex(dates)
        return frame
