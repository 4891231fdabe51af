"""One root exception; the CLI maps each kind to a message and an exit code."""

from __future__ import annotations

from pathlib import Path


class AuditError(Exception):
    """Root of every error the suite reports to its user (exit code 2 unless said)."""

    exit_code = 2


class UsageError(AuditError):
    """Bad arguments or parameters."""


class OutputExistsError(AuditError):
    """A target file or non-empty folder already exists; nothing is overwritten."""


class SnapshotError(AuditError):
    """A missing, corrupt or foreign snapshot file."""


class ValidationFault(AuditError):
    """One broken rule of the inventory contract."""

    def __init__(
        self,
        file: str,
        column: str | None,
        rule: str,
        first: str | None = None,
        count: int | None = None,
    ) -> None:
        self.file, self.column, self.rule, self.first, self.count = file, column, rule, first, count
        super().__init__(self.describe())

    def describe(self) -> str:
        where = f"{self.file}: column {self.column}" if self.column else self.file
        text = f"{where}: {self.rule}"
        if self.first is not None:
            text += f" (first: {self.first}"
            text += f"; {self.count} row(s))" if self.count is not None else ")"
        return text


class InvalidExportError(AuditError):
    """The export breaks the contract; carries every fault found."""

    def __init__(self, faults: list[ValidationFault]) -> None:
        self.faults = faults
        lines = "\n".join(f"  - {f.describe()}" for f in faults)
        super().__init__(f"export refused: {len(faults)} fault(s)\n{lines}")


class NotFoundError(AuditError):
    """An unknown dispute or customer."""


class NotebookError(AuditError):
    """A notebook failed while executing: which one, in which cell, with what, and where it is kept."""

    exit_code = 1

    def __init__(
        self,
        notebook: str,
        cell: int | None = None,
        ename: str | None = None,
        evalue: str | None = None,
        kept: Path | None = None,
        message: str | None = None,
    ) -> None:
        self.notebook, self.cell, self.ename, self.evalue, self.kept = notebook, cell, ename, evalue, kept
        text = message or f"notebook {notebook} failed in cell {cell}: {ename}: {evalue}"
        if kept is not None:
            text += f"; the failed notebook is kept at {kept}"
        super().__init__(text)
