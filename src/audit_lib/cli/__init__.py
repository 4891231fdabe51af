"""The `privacy-audit` command: thin wrappers over audit_lib, errors as exit codes.

One module per group of commands; `common` holds what they share (errors as
exit codes, interruptions, option types).
"""

from __future__ import annotations

from typing import Annotated

import typer


def _plain_help() -> None:
    """Help without typer's `<path>`, `<bool>` and `{name}` placeholders: the metavars say it."""
    from typer import core

    argument = getattr(core, "TyperArgument", None)
    if argument is not None and hasattr(argument, "_usage_display_name"):
        argument.display_type_rich = lambda self, ctx: None
        argument._usage_display_name = lambda self: (
            self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        )


_plain_help()

app = typer.Typer(
    help="Audit a personal-data inventory against its privacy policy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
snapshot_app = typer.Typer(
    help="Build, inspect and verify snapshots of an export or a database.", no_args_is_help=True,
    rich_markup_mode=None,
)  # fmt: skip
run_app = typer.Typer(help="Run audits over a snapshot.", no_args_is_help=True, rich_markup_mode=None)
sample_app = typer.Typer(
    help="Synthetic exports for demos, tests and benchmarks.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(snapshot_app, name="snapshot")
app.add_typer(run_app, name="run")
app.add_typer(sample_app, name="sample")


def _version(value: bool) -> None:
    if value:
        import duckdb

        from audit_lib import __version__

        typer.echo(f"privacy-audit {__version__} (duckdb {duckdb.__version__})")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_version, help="Print the suite and DuckDB versions."
        ),
    ] = False,
) -> None:
    """Audit a personal-data inventory against its privacy policy."""


from audit_lib.cli import audits, integrity, samples, snapshots, staff  # noqa: E402  (commands register)

__all__ = ["app", "audits", "integrity", "main", "samples", "snapshots", "staff"]


def main() -> None:  # pragma: no cover - entry point for `python -m audit_lib`
    import sys

    sys.exit(app())
