"""The report's figures beyond violations, as DuckDB aggregations.

Every figure is one query under `sql/`, with its parameters bound by name
(`$as_of`, `$start`, `$retention_years`, ...). DuckDB does the aggregation;
Python only receives small polars frames, which `tables` reshapes for
display. Populations follow the controls they illustrate (controls.md,
"Beyond violations").

A `FrameStore` holds figures computed elsewhere: `run quarterly --engine spark`
computes every `@figure` method of `Analytics` on Spark before the notebooks
run (engines.figures) and hands them the store's folder (their `figures`
parameter). `run` looks a query up there by its name and bound values first,
and queries DuckDB on a miss (other arguments, another snapshot) or without
a store (`figures = ""`, or a folder that is gone: a saved notebook re-run).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from audit_lib.periods import Period, iso, narrative

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from audit_lib.findings.ropa import DeclaredRopa
    from audit_lib.ingest.snapshot import SnapshotInfo

SQL_DIR = Path(__file__).parent / "sql"
OPEN_ITEMS_SHOWN = 50
BIN_DAYS = 5
#: Response times in days keep 9 decimals (a tenth of a millisecond: the data is exact to the second).
#: Below that, an interpolated quantile's last bit depends on the engine's order of operations
#: (DuckDB: fma(lo, 1 - d, hi * d) where the build contracts it; Spark: (c - rn) * lo + (rn - f) * hi).
DAY_DECIMALS = 9


@cache
def query_text(name: str) -> str:
    """`sql/<name>.sql` without comment lines; `{answered}` becomes the DSR/DSP population."""
    lines = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("--"))
    if "{answered}" in text:
        text = text.replace("{answered}", query_text("answered"))
    return text


def bound(name: str, values: dict[str, object]) -> dict[str, object]:
    """The values `sql/<name>.sql` uses, by parameter name."""
    from audit_lib.controls.registry import query_parameters

    names = query_parameters(query_text(name))
    missing = [n for n in names if n not in values]
    if missing:
        raise KeyError(f"{name}.sql needs parameter(s) {', '.join(missing)}")
    return {n: values[n] for n in names}


class Frames(Protocol):
    """Where `run` looks a figure up before DuckDB: a frame, or None to query DuckDB."""

    def get(self, name: str, values: dict[str, object]) -> pl.DataFrame | None: ...


def run(
    con: duckdb.DuckDBPyConnection, name: str, values: dict[str, object], store: Frames | None = None
) -> pl.DataFrame:
    """Run a named query, binding only the parameters it uses; from `store` when it has it."""
    params = bound(name, values)
    if store is not None and (frame := store.get(name, params)) is not None:
        return frame
    return con.sql(query_text(name), params=params).pl()


# Precomputed figures ------------------------------------------------------------
STORE_FORMAT = "privacy-audit figures 1"
STORE_INDEX = "index.json"
#: One JSON line per lookup of a notebook (query, key, hit), appended by every kernel.
STORE_LOOKUPS = "lookups.jsonl"


def _canonical(value: object) -> object:
    """A bound value as the key writes it: equal instants alike, types never confused."""
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return {"timestamp": value.isoformat()}
        return {"timestamptz": iso(value)}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    raise TypeError(f"no figure key for a bound value of type {type(value).__name__}: {value!r}")


def figure_key(name: str, values: dict[str, object]) -> tuple[str, dict[str, object]]:
    """A query's key in a store (sha256 of its name and bound values), and those values as JSON."""
    canonical = {n: _canonical(values[n]) for n in sorted(values)}
    text = json.dumps({"query": name, "values": canonical}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest(), canonical


class FrameStore:
    """A folder of figures of one snapshot: `<key>.arrow` (Arrow IPC) per query and bound values,
    listed in index.json; every lookup is appended to lookups.jsonl (`lookups()`)."""

    def __init__(self, folder: Path, document: dict[str, object]) -> None:
        self.folder, self.document = folder, document

    @classmethod
    def create(cls, folder: Path, snapshot_id: str) -> FrameStore:
        """An empty store in the existing folder `folder`, of the snapshot `snapshot_id`."""
        store = cls(Path(folder), {"format": STORE_FORMAT, "snapshot_id": snapshot_id, "frames": {}})
        store._write_index()
        return store

    @classmethod
    def open(cls, folder: str | Path, snapshot_id: str) -> FrameStore | None:
        """The store in `folder`; None (query DuckDB) for "", a folder that is gone, or a store
        of another snapshot."""
        if not folder:
            return None
        folder = Path(folder)
        try:
            document = json.loads((folder / STORE_INDEX).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        if document.get("format") != STORE_FORMAT:
            raise ValueError(f"{folder}: not a store of precomputed figures")
        return cls(folder, document) if document["snapshot_id"] == snapshot_id else None

    @property
    def frames(self) -> dict[str, dict[str, object]]:
        return self.document["frames"]  # type: ignore[return-value]

    def put(self, name: str, values: dict[str, object], frame: pl.DataFrame) -> None:
        key, canonical = figure_key(name, values)
        frame.write_ipc(self.folder / f"{key}.arrow", compression="uncompressed")
        self.frames[key] = {"query": name, "values": canonical, "file": f"{key}.arrow", "rows": frame.height}
        self._write_index()

    def get(self, name: str, values: dict[str, object]) -> pl.DataFrame | None:
        import polars as pl

        key, _ = figure_key(name, values)
        entry = self.frames.get(key)
        with open(self.folder / STORE_LOOKUPS, "a", encoding="utf-8") as log:  # one short append
            log.write(json.dumps({"query": name, "key": key, "hit": entry is not None}) + "\n")
        if entry is None:
            return None
        return pl.read_ipc((self.folder / str(entry["file"])).read_bytes())  # not mapped: it is removed

    def lookups(self) -> list[dict[str, object]]:
        with contextlib.suppress(FileNotFoundError):
            text = (self.folder / STORE_LOOKUPS).read_text(encoding="utf-8")
            return [json.loads(line) for line in text.splitlines() if line]
        return []

    def _write_index(self) -> None:
        partial = self.folder / f".{STORE_INDEX}.partial"
        partial.write_text(json.dumps(self.document, indent=1), encoding="utf-8")
        os.replace(partial, self.folder / STORE_INDEX)


def figure(method: Callable[..., pl.DataFrame]) -> Callable[..., pl.DataFrame]:
    """Mark an `Analytics` method as a figure a quarterly notebook shows, called with its
    defaults: `run quarterly --engine spark` computes it on Spark before the notebooks run.
    tests/test_spark_figures.py checks the notebooks ask for these and nothing else."""
    method.figure = True  # type: ignore[attr-defined]
    return method


@dataclass
class Analytics:
    """The figures of one period of one snapshot (a read-only connection)."""

    con: duckdb.DuckDBPyConnection
    period: Period
    params: dict[str, int]
    info: SnapshotInfo
    #: Frames computed elsewhere, looked up before DuckDB is queried (None: query DuckDB).
    store: Frames | None = None
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def open(
        cls, snapshot: str | Path, period: str | Period, params: str | dict = "{}", figures: str | Path = ""
    ) -> Analytics:
        """Open `snapshot` read-only for `period` (a label) and `params` (JSON or dict), with the
        store of precomputed figures in `figures` when there is one of this snapshot."""
        from audit_lib.ingest.snapshot import open_snapshot, read_info
        from audit_lib.params import parse_json

        chosen = Period.parse(period) if isinstance(period, str) else period
        con = open_snapshot(snapshot)
        info = read_info(con)
        return cls.on(con, chosen, parse_json(params), info, FrameStore.open(figures, info.id))

    @classmethod
    def on(
        cls,
        con: duckdb.DuckDBPyConnection,
        period: Period,
        params: dict[str, int],
        info: SnapshotInfo,
        store: Frames | None = None,
    ) -> Analytics:
        """The figures over a snapshot connection open already (the caller's to close)."""
        from audit_lib.controls.vocabulary import install_macros

        install_macros(con)
        return cls(con, period, params, info, store)

    @classmethod
    def figures(cls) -> list[str]:
        """The names of the `@figure` methods, in the order of the class."""
        return [name for name, member in vars(cls).items() if getattr(member, "figure", False)]

    def run(self, name: str, values: dict[str, object]) -> pl.DataFrame:
        return run(self.con, name, values, self.store)

    def close(self) -> None:
        if not self._closed:
            self.con.close()
            self._closed = True

    def __enter__(self) -> Analytics:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def bindings(self, **extra: object) -> dict[str, object]:
        return {**self.period.bind(), **self.params, "label": self.period.label, **extra}

    @property
    def previous_label(self) -> str:
        """The label of the quarter before (a placeholder for other periods)."""
        previous = self.period.previous()
        return previous.label if previous else "no previous quarter"

    def context(self) -> dict[str, object]:
        """Values for narrative text: period, bounds, as_of, snapshot identity."""
        return narrative(self.period, self.info.id, iso(self.info.taken_at), self.params)

    # (a) retention ------------------------------------------------------------
    @figure
    def retention_ages(self) -> pl.DataFrame:
        """Items by category, system, system_kind and whole years of age at as_of."""
        return self.run("retention_ages", self.bindings())

    # (b) sharing --------------------------------------------------------------
    @figure
    def disclosures(self) -> pl.DataFrame:
        """Disclosures by quarter (this one, the previous), purpose and party kind."""
        previous = self.period.previous()
        empty = {"previous_start": self.period.end, "previous_end": self.period.end}
        extra = (
            {"previous_label": previous.label, "previous_start": previous.start, "previous_end": previous.end}
            if previous
            else {"previous_label": self.previous_label, **empty}
        )
        return self.run("disclosures", self.bindings(**extra))

    def compare_disclosures(self, disclosures: pl.DataFrame, by: str) -> pl.DataFrame:
        """Per `by`: the previous quarter, this one, and the change."""
        from audit_lib.figures.tables import compare_quarters

        return compare_quarters(disclosures, by, self.period.label, self.previous_label)

    # (c) sub-processor flows --------------------------------------------------
    @figure
    def flows(self) -> pl.DataFrame:
        """Category -> party -> country volumes with authorization and safeguard."""
        return self.run("flows", self.bindings())

    # (d) requests and complaints ---------------------------------------------
    @figure
    def response_times(self) -> pl.DataFrame:
        """Median, 90th percentile (linear interpolation) and maximum days per kind, to DAY_DECIMALS."""
        import polars as pl

        times = self.run("response_times", self.bindings())
        days = ("median_days", "p90_days", "max_days")
        return times.with_columns(pl.col(c).round(DAY_DECIMALS) for c in days)

    @figure
    def response_histogram(self, bin_days: int = BIN_DAYS) -> pl.DataFrame:
        """Answered items per kind in bins of `bin_days` days of response time."""
        return self.run("response_histogram", self.bindings(bin_days=bin_days))

    @figure
    def open_items(self, limit: int = OPEN_ITEMS_SHOWN) -> pl.DataFrame:
        """The most urgent items open at as_of; `total_open` counts them all."""
        return self.run("open_items", self.bindings(limit=limit))

    # (e) record of processing activities (GDPR Art. 30) -----------------------
    def ropa(self) -> pl.DataFrame:
        """The observed RoPA: one row per purpose, Art. 30 element and value (sql/ropa.sql)."""
        return self.run("ropa", self.bindings())

    def reconcile(self, declared: DeclaredRopa, observed: pl.DataFrame | None = None) -> tuple[list, dict]:
        """The ROPA-NN controls judged on the declared RoPA against the observed one.

        Returns `(results, details)`: a ControlResult per ROPA control (in file order) and,
        per control id, its breaking records with their detail columns.
        """
        from audit_lib.controls.details import detail_frame
        from audit_lib.controls.evaluate import judge
        from audit_lib.controls.registry import ROPA_DIR, load_controls
        from audit_lib.findings.ropa import DECLARED_COLUMNS

        self.con.register("observed_ropa", self.ropa() if observed is None else observed)
        for name, rows in declared.tables().items():
            columns = ", ".join(f"{c} {t}" for c, t in DECLARED_COLUMNS[name])
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({columns})")
            if rows:
                marks = ", ".join("?" for _ in DECLARED_COLUMNS[name])
                self.con.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
        bindings = self.bindings()
        results, details = [], {}
        for control in load_controls(ROPA_DIR):
            results.append(judge(self.con, control, bindings))
            details[control.id] = detail_frame(self.con, control, bindings)
        return results, details
