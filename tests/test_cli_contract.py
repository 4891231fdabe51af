"""The CLI's exit-2 contract, for every command: bad input is one message, exit 2, nothing written.

Each case is data: the command line (with `{snapshot}`, `{export}`, `{tmp}`
filled in), words the message must contain, and the paths that must not
exist afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from audit_lib.cli import app

from builders import make_snapshot


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    says: tuple[str, ...]
    leaves_no: tuple[str, ...] = ("{tmp}/out",)


CASES = [
    # snapshot build
    Case("build: no such folder", ("snapshot", "build", "{tmp}/missing", "--out", "{tmp}/out"), ("not a folder",)),
    Case("build: existing file", ("snapshot", "build", "{export}", "--out", "{snapshot}"), ("already exists",), ()),
    Case("build: bad --taken-at", ("snapshot", "build", "{export}", "--out", "{tmp}/out", "--taken-at", "soon"),
         ("soon",)),
    Case("build: --out under a file", ("snapshot", "build", "{export}", "--out", "{snapshot}/no/out"),
         ("cannot make the folder",), ()),
    # snapshot info
    Case("info: not a snapshot", ("snapshot", "info", "{export}/customers.csv"), ("not a privacy-audit snapshot",)),
    Case("info: missing", ("snapshot", "info", "{tmp}/none.duckdb"), ("no such snapshot",)),
    # run quarterly
    Case("run: no period", ("run", "quarterly", "--snapshot", "{snapshot}", "--out", "{tmp}/out"), ("--period",)),
    Case("run: two periods", ("run", "quarterly", "--snapshot", "{snapshot}", "--period", "2026-Q3",
                              "--as-of", "2026-09-01", "--out", "{tmp}/out"), ("exactly one",)),
    Case("run: bad quarter", ("run", "quarterly", "--snapshot", "{snapshot}", "--period", "2026-Q5",
                              "--out", "{tmp}/out"), ("2026-Q5",)),
    Case("run: unknown parameter", ("run", "quarterly", "--snapshot", "{snapshot}", "--period", "2026-Q3",
                                    "--param", "speed=3", "--out", "{tmp}/out"), ("speed",)),
    Case("run: bad parameter value", ("run", "quarterly", "--snapshot", "{snapshot}", "--period", "2026-Q3",
                                      "--param", "grace_days=-1", "--out", "{tmp}/out"), ("grace_days",)),
    Case("run: not a snapshot", ("run", "quarterly", "--snapshot", "{export}/customers.csv", "--period", "2026-Q3",
                                 "--out", "{tmp}/out"), ("not a privacy-audit snapshot",)),
    Case("run: non-empty --out", ("run", "quarterly", "--snapshot", "{snapshot}", "--period", "2026-Q3",
                                  "--out", "{export}"), ("not an empty folder",), ()),
    Case("run: a parameter given twice", ("run", "quarterly", "--snapshot", "{snapshot}", "--period", "2026-Q3",
                                         "--param", "grace_days=1", "--param", "grace_days=2", "--out", "{tmp}/out"),
         ("given twice",)),
    # investigate
    Case("investigate: neither id", ("investigate", "--snapshot", "{snapshot}", "--out", "{tmp}/out"),
         ("exactly one",)),
    Case("investigate: unknown dispute", ("investigate", "--snapshot", "{snapshot}", "--dispute", "NOPE",
                                          "--out", "{tmp}/out"), ("NOPE",)),
    Case("investigate: unknown customer", ("investigate", "--snapshot", "{snapshot}", "--customer", "NOPE",
                                           "--out", "{tmp}/out"), ("NOPE",)),
    Case("investigate: bad --as-of", ("investigate", "--snapshot", "{snapshot}", "--customer", "C1",
                                      "--as-of", "yesterday", "--out", "{tmp}/out"), ("yesterday",)),
    # sample generate
    Case("sample: bad format", ("sample", "generate", "--out", "{tmp}/out", "--format", "xml"), ("xml",)),
    Case("sample: non-empty --out", ("sample", "generate", "--out", "{export}"), ("not an empty folder",), ()),
]  # fmt: skip


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("contract"), {"customers": [{"customer_id": "C1"}]})


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_exits_2_with_one_message(cli, case: Case, snapshot: Path, tmp_path: Path) -> None:
    places = {"snapshot": str(snapshot), "export": str(snapshot.parent / "export"), "tmp": str(tmp_path)}
    result = cli.invoke(app, [arg.format(**places) for arg in case.args])
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert "Traceback" not in message
    for words in case.says:
        assert words in message, message
    for path in case.leaves_no:
        assert not Path(path.format(**places)).exists()
