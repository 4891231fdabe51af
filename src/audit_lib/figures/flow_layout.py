"""Layout of the flow diagram: three columns of nodes joined by bands.

Column 0 holds categories, 1 parties, 2 countries; a node's height is the
disclosures through it, and a band's width the disclosures it carries. A
category -> party flow is split into its authorized and unauthorized parts;
a party -> country band says whether the transfer stays in the EEA, is
safeguarded, or is not. The result is two small frames Altair draws as rects
and areas, so the diagram renders to static SVG.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from audit_lib.ingest.schema import ENUMS

if TYPE_CHECKING:
    import polars as pl

NODE_WIDTH = 0.03
GAP = 0.06  # between nodes, as a share of all disclosures
SAMPLES = 16  # points along each band
SAFEGUARDS = tuple(s for s in ENUMS["transfer_safeguard"] if s != "none")


@dataclass
class Node:
    column: int
    key: str
    label: str
    value: int
    y0: float = 0.0
    out_used: float = 0.0
    in_used: float = 0.0

    @property
    def x0(self) -> float:
        return self.column - NODE_WIDTH / 2

    @property
    def x1(self) -> float:
        return self.column + NODE_WIDTH / 2


def layout(flows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`(nodes, bands)` for the flows frame of `analytics.Analytics.flows`."""
    import polars as pl

    rows = flows.to_dicts()
    nodes = _nodes(rows)
    _stack(nodes)
    bands: list[dict[str, object]] = []
    for row in sorted(rows, key=lambda r: (nodes[(1, r["party_id"])].y0, str(r["category"]))):
        source, target = nodes[(0, row["category"])], nodes[(1, row["party_id"])]
        for status, volume in (("authorized", row["authorized"]), ("not authorized", row["unauthorized"])):
            if volume:
                bands += _band(f"{source.key}>{target.key}:{status}", status, source, target, volume)
    parties = {r["party_id"]: r for r in rows}
    for party_id, row in sorted(parties.items(), key=lambda kv: nodes[(1, kv[0])].y0):
        source, target = nodes[(1, party_id)], nodes[(2, row["country"])]
        bands += _band(f"{party_id}>{row['country']}", _transfer(row), source, target, source.value)
    return _node_frame(nodes), pl.DataFrame(bands)


def _nodes(rows: list[dict[str, object]]) -> dict[tuple[int, object], Node]:
    nodes: dict[tuple[int, object], Node] = {}

    def add(column: int, key: object, label: str, volume: int) -> None:
        node = nodes.setdefault((column, key), Node(column, str(key), label, 0))
        node.value += volume

    for row in rows:
        volume = int(row["disclosures"])
        add(0, row["category"], str(row["category"]), volume)
        add(1, row["party_id"], str(row["party"]), volume)
        eea = "EEA" if row["in_eea"] else "outside EEA"
        add(2, row["country"], f"{row['country']} ({eea})", volume)
    return nodes


def _stack(nodes: dict[tuple[int, object], Node]) -> None:
    """Place each column's nodes top-down, largest first, with gaps."""
    total = sum(n.value for n in nodes.values() if n.column == 0)
    for column in (0, 1, 2):
        y = 0.0
        for node in sorted(
            (n for n in nodes.values() if n.column == column), key=lambda n: (-n.value, n.key)
        ):
            node.y0 = y
            y += node.value + GAP * total


def _transfer(row: dict[str, object]) -> str:
    if row["in_eea"]:
        return "within the EEA"
    return "safeguarded" if row["safeguard"] in SAFEGUARDS else "no safeguard"


def _band(band: str, status: str, source: Node, target: Node, volume: int) -> list[dict[str, object]]:
    """Points of a smooth band leaving `source` and entering `target`."""
    ys, yt = source.y0 + source.out_used, target.y0 + target.in_used
    source.out_used += volume
    target.in_used += volume
    points = []
    for i in range(SAMPLES + 1):
        t = i / SAMPLES
        s = t * t * (3 - 2 * t)  # smoothstep: flat at both ends
        top = ys + (yt - ys) * s
        x = source.x1 + (target.x0 - source.x1) * t
        points.append({"band": band, "status": status, "x": x, "y0": top, "y1": top + volume})
    return points


def _node_frame(nodes: dict[tuple[int, object], Node]) -> pl.DataFrame:
    import polars as pl

    rows = []
    for node in nodes.values():
        rows.append(
            {
                "column": node.column,
                "key": node.key,
                "label": f"{node.label} ({node.value:,})",
                "x0": node.x0,
                "x1": node.x1,
                "y0": node.y0,
                "y1": node.y0 + node.value,
                "value": node.value,
            }
        )
    return pl.DataFrame(rows).sort("column", "y0")
