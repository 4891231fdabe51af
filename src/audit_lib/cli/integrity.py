"""Report integrity: `verify`, `keygen`, `sign`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audit_lib.cli import app
from audit_lib.cli.common import examples, reported


@app.command(
    "verify",
    epilog=examples(
        "privacy-audit verify reports/2026-Q3_2026-10-09_51c0e2a4d7f1",
        "privacy-audit verify REPORT_DIR --key audit-key.pub",
    ),
)
@reported
def verify_report(
    report_dir: Annotated[
        Path, typer.Argument(metavar="REPORT_DIR", help="A report or investigation folder.")
    ],
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            metavar="FILE",
            help="A public key (keygen's KEY.pub): check manifest.sig too; default: hashes only.",
        ),
    ] = None,
) -> None:
    """Re-check a report folder against its manifest.json (every file, nothing more) and its signature."""
    from audit_lib.errors import AuditError
    from audit_lib.findings.manifest import SIGNATURE, check_manifest

    problems = check_manifest(report_dir)
    if key is not None:
        from audit_lib.findings.signature import check_signature, fingerprint, public_key_of

        signer = fingerprint(public_key_of(key))
        problems += check_signature(report_dir, key)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise AuditError(f"{report_dir}: not intact, {len(problems)} problem(s)\n{lines}")
    if key is not None:
        typer.echo(f"{report_dir}: intact (every file matches manifest.json, signed by {signer})")
        return
    typer.echo(f"{report_dir}: intact (every file matches manifest.json)")
    if (Path(report_dir) / SIGNATURE).exists():
        typer.echo(f"note: {SIGNATURE} present but not checked (give --key PUBLIC_KEY)")


@app.command(
    "keygen",
    epilog=examples(
        "privacy-audit keygen --out audit-key",
    ),
)
@reported
def keygen_command(
    out: Annotated[
        Path,
        typer.Option("--out", metavar="FILE", help="The private key file to create (KEY.pub beside it)."),
    ],
) -> None:
    """Create an Ed25519 key pair for signing reports (never overwrites)."""
    from audit_lib.findings.signature import fingerprint, keygen, public_key_of

    private, public = keygen(out)
    typer.echo(f"private key {private} (mode 0600; keep it secret), public key {public}")
    typer.echo(f"key {fingerprint(public_key_of(public))}")


@app.command(
    "sign",
    epilog=examples(
        "privacy-audit sign REPORT_DIR --key audit-key",
    ),
)
@reported
def sign_command(
    report_dir: Annotated[
        Path, typer.Argument(metavar="REPORT_DIR", help="An intact report or investigation folder.")
    ],
    key: Annotated[Path, typer.Option("--key", metavar="FILE", help="The private key file (from keygen).")],
) -> None:
    """Sign a report folder: a detached Ed25519 signature over manifest.json, as manifest.sig."""
    from audit_lib.findings.signature import fingerprint, public_key_of, sign

    target = sign(report_dir, key)
    typer.echo(f"signed: {target} (key {fingerprint(public_key_of(key))})")
