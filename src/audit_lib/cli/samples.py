"""`sample generate`: synthetic exports with planted violations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audit_lib.cli import sample_app
from audit_lib.cli.common import examples, reported


@sample_app.command(
    "generate",
    epilog=examples(
        "privacy-audit sample generate --out export",
        "privacy-audit sample generate --out big --customers 870000 --format parquet",
    ),
)
@reported
def sample_generate(
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Export folder to create (must be new or empty).")
    ],
    customers: Annotated[
        int,
        typer.Option(
            "--customers", metavar="N", min=10, help="Background customers (planted ones come on top)."
        ),
    ] = 2000,
    seed: Annotated[
        int, typer.Option("--seed", metavar="N", help="Random seed (same seed, same files).")
    ] = 7,
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="csv or parquet.")] = "csv",
) -> None:
    """Write a synthetic export with known planted violations (listed in planted.json)."""
    from audit_lib.errors import UsageError
    from audit_lib.sample import generate_sample

    if fmt not in ("csv", "parquet"):
        raise UsageError(f"--format must be csv or parquet, not {fmt!r}")
    manifest = generate_sample(out, customers=customers, seed=seed, fmt=fmt)
    total = manifest["rows"]["customers"]
    typer.echo(
        f"sample export written to {out}: {total} customers ({customers} background + {total - customers} "
        f"planted), {sum(manifest['rows'].values())} rows, seed {seed}, {fmt}"
    )
