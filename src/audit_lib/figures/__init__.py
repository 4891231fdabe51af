"""The report's figures beyond violations, as DuckDB aggregations.

Every figure is one query under `sql/`, with its parameters bound by name
(`$as_of`, `$start`, `$retention_years`, ...). DuckDB does the aggregation;
Python only receives small polars frames, which `tables` reshapes for
display. Populations follow the controls they illustrate (controls.md,
"Beyond violations").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.periods import Period, iso, narrative

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from audit_lib.findings.ropa import DeclaredRopa
    from audit_lib.ingest.snapshot import SnapshotInfo

SQL_DIR = Path(__file__).parent / "sql"
OPEN_ITEMS_SHOWN = 50
BIN_DAYS = 5


@cache
def query_text(name: str) -> str:
    """`sql/<name>.sql` without comment lines; `{answered}` becomes the DSR/DSP population."""
    lines = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("--"))
    if "{answered}" in text:
        text = text.replace("{answered}", query_text("answered"))
    return text


def run(con: duckdb.DuckDBPyConnection, name: str, values: dict[str, object]) -> pl.DataFrame:
    """Run a named query, binding only the parameters it uses."""
    from audit_lib.controls.registry import query_parameters

    sql = query_text(name)
    names = query_parameters(sql)
    missing = [n for n in names if n not in values]
    if missing:
        raise KeyError(f"{name}.sql needs parameter(s) {', '.join(missing)}")
    return con.sql(sql, params={n: values[n] for n in names}).pl()


@dataclass
class Analytics:
    """The figures of one period of one snapshot (a read-only connection)."""

    con: duckdb.DuckDBPyConnection
    period: Period
    params: dict[str, int]
    info: SnapshotInfo
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def open(cls, snapshot: str | Path, period: str | Period, params: str | dict = "{}") -> Analytics:
        """Open `snapshot` read-only for `period` (a label) and `params` (JSON or dict)."""
        from audit_lib.controls.vocabulary import install_macros
        from audit_lib.ingest.snapshot import open_snapshot, read_info
        from audit_lib.params import parse_json

        chosen = Period.parse(period) if isinstance(period, str) else period
        con = open_snapshot(snapshot)
        install_macros(con)
        return cls(con, chosen, parse_json(params), read_info(con))

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
    def retention_ages(self) -> pl.DataFrame:
        """Items by category, system, system_kind and whole years of age at as_of."""
        return run(self.con, "retention_ages", self.bindings())

    # (b) sharing --------------------------------------------------------------
    def disclosures(self) -> pl.DataFrame:
        """Disclosures by quarter (this one, the previous), purpose and party kind."""
        previous = self.period.previous()
        empty = {"previous_start": self.period.end, "previous_end": self.period.end}
        extra = (
            {"previous_label": previous.label, "previous_start": previous.start, "previous_end": previous.end}
            if previous
            else {"previous_label": self.previous_label, **empty}
        )
        return run(self.con, "disclosures", self.bindings(**extra))

    def compare_disclosures(self, disclosures: pl.DataFrame, by: str) -> pl.DataFrame:
        """Per `by`: the previous quarter, this one, and the change."""
        from audit_lib.figures.tables import compare_quarters

        return compare_quarters(disclosures, by, self.period.label, self.previous_label)

    # (c) sub-processor flows --------------------------------------------------
    def flows(self) -> pl.DataFrame:
        """Category -> party -> country volumes with authorization and safeguard."""
        return run(self.con, "flows", self.bindings())

    # (d) requests and complaints ---------------------------------------------
    def response_times(self) -> pl.DataFrame:
        """Median, 90th percentile (linear interpolation) and maximum days per kind."""
        return run(self.con, "response_times", self.bindings())

    def response_histogram(self, bin_days: int = BIN_DAYS) -> pl.DataFrame:
        """Answered items per kind in bins of `bin_days` days of response time."""
        return run(self.con, "response_histogram", self.bindings(bin_days=bin_days))

    def open_items(self, limit: int = OPEN_ITEMS_SHOWN) -> pl.DataFrame:
        """The most urgent items open at as_of; `total_open` counts them all."""
        return run(self.con, "open_items", self.bindings(limit=limit))

    # (e) record of processing activities (GDPR Art. 30) -----------------------
    def ropa(self) -> pl.DataFrame:
        """The observed RoPA: one row per purpose, Art. 30 element and value (sql/ropa.sql)."""
        return run(self.con, "ropa", self.bindings())

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
