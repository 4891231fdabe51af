"""The command as its users expect it: a config file, help that reads well, messages that point to the fix."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from audit_lib.cli import app
from audit_lib.controls.registry import load_controls

from builders import complete_tables, make_snapshot, write_export

COMMANDS = [
    ["snapshot", "build"], ["snapshot", "info"], ["snapshot", "verify"], ["run", "quarterly"], ["investigate"],
    ["disputes"], ["requests"], ["diff"], ["verify"], ["keygen"], ["sign"], ["sample", "generate"], [],
]  # fmt: skip


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("surface"), {"customers": [{"customer_id": "C1"}]})


def run(cli, *args: object):
    return cli.invoke(app, [str(a) for a in args])


# --- the config file ---------------------------------------------------------------


def test_config_file_command_line_over_config_over_default(cli, snapshot: Path, tmp_path: Path) -> None:
    config = tmp_path / "audit.toml"
    config.write_text(
        '[run]\nreports = "out"\nnotebooks = false\n[parameters]\ngrace_days = 100\nmin_age = 16\n'
    )
    result = run(cli, "run", "quarterly", "--snapshot", snapshot, "--period", "2026-Q3", "--config", config,
                 "--param", "min_age=14")  # fmt: skip
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "out").iterdir()  # `reports` from the config, relative to it
    assert result.stdout.strip() == f"report folder: {folder}"
    findings = json.loads((folder / "findings.json").read_text())
    assert findings["parameters"]["grace_days"] == 100 and findings["parameters"]["min_age"] == 14
    settings = findings["settings"]
    assert settings["config"] == str(config.resolve())
    assert settings["parameters"] == {
        "retention_years": "default", "grace_days": "config", "response_days": "default",
        "notice_days": "default", "min_age": "command line",
    }  # fmt: skip
    assert settings["options"]["notebooks"] == {"value": False, "source": "config"}
    assert settings["options"]["reveal"] == {"value": False, "source": "default"}


def test_fail_on_from_the_config_file(cli, snapshot: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[run]\nfail_on = "violations"\nnotebooks = false\n')
    rows = {"customers": [{"customer_id": "C1"}], "personal_data": [{"item_id": "I1", "customer_id": "C1",
            "received_at": "2001-01-01T00:00:00Z"}]}  # fmt: skip
    failing = make_snapshot(tmp_path / "failing", rows)
    result = run(cli, "run", "quarterly", "--snapshot", failing, "--period", "2026-Q3", "--config", config,
                 "--out", tmp_path / "r")  # fmt: skip
    assert result.exit_code == 3, result.output
    assert json.loads((tmp_path / "r" / "findings.json").read_text())["settings"]["options"]["fail_on"] == {
        "value": ["violations"], "source": "config",
    }  # fmt: skip


def test_config_in_the_working_directory(cli, snapshot: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "privacy-audit.toml").write_text("[parameters]\ngrace_days = 7\n")
    result = run(cli, "run", "quarterly", "--snapshot", snapshot, "--period", "2026-Q3", "--out", "r",
                 "--no-notebooks")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r" / "findings.json").read_text())["parameters"]["grace_days"] == 7


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[run]\nspeed = 3\n", "unknown key(s) speed"),
        ("[parameters]\nhorizon = 3\n", "unknown key(s) horizon"),
        ("[colours]\n", "unknown key(s) colours"),
        ("[parameters]\ngrace_days = -1\n", "parameters.grace_days"),
        ("[parameters]\ngrace_days = 'ten'\n", "parameters.grace_days"),
        ("[run]\nfail_on = 'sometimes'\n", "run.fail_on"),
        ("[run\n", "not TOML"),
    ],
)
def test_a_bad_config_file_is_refused_naming_the_key(
    cli, snapshot: Path, tmp_path: Path, text: str, says: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(text)
    result = run(cli, "run", "quarterly", "--snapshot", snapshot, "--period", "2026-Q3", "--config", config,
                 "--out", tmp_path / "r")  # fmt: skip
    assert result.exit_code == 2 and says in result.stderr, result.output
    assert not (tmp_path / "r").exists()


def test_a_parameter_given_twice_is_refused(cli, snapshot: Path, tmp_path: Path) -> None:
    result = run(cli, "run", "quarterly", "--snapshot", snapshot, "--period", "2026-Q3", "--param", "min_age=1",
                 "--param", "min_age=2", "--out", tmp_path / "r")  # fmt: skip
    assert result.exit_code == 2 and "given twice" in result.stderr


# --- help and version -------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "privacy-audit")
def test_help_reads_without_type_placeholders(cli, command: list[str]) -> None:
    result = run(cli, *command, "--help")
    assert result.exit_code == 0
    page = result.stdout.replace("<table>", "").replace("<period>_<run date>_<snapshot id>", "")
    page = page.replace("<id>_<date>", "")
    assert not re.search(r"<[a-z\[\] ]+>|\{[a-z_]+\}", page), page
    for line in page.splitlines():  # every option with a value says its default or that it is required
        if re.match(r"\s+--[a-z-]+ [A-Z]", line) and "--help" not in line:
            block = " ".join(page[page.index(line) :].split("\n  --", 1)[0].split())
            assert any(word in block for word in ("default", "required", "one of")), block


@pytest.mark.parametrize("command", [c for c in COMMANDS if c], ids=" ".join)
def test_help_ends_with_examples(cli, command: list[str]) -> None:
    page = run(cli, *command, "--help").stdout
    assert "Examples:" in page and f"privacy-audit {' '.join(command)} " in page.split("Examples:")[1]


def test_version(cli) -> None:
    import duckdb

    from audit_lib import __version__

    result = run(cli, "--version")
    assert (
        result.exit_code == 0
        and result.stdout.strip() == f"privacy-audit {__version__} (duckdb {duckdb.__version__})"
    )


# --- messages that point to the fix ----------------------------------------------------------


def test_an_export_given_as_snapshot(cli, snapshot: Path) -> None:
    export = snapshot.parent / "export"
    for given in (export, export / "customers.csv"):
        result = run(cli, "run", "quarterly", "--snapshot", given, "--period", "2026-Q3", "--no-notebooks")
        assert result.exit_code == 2
        assert (
            "not a privacy-audit snapshot" in result.stderr
            and f"privacy-audit snapshot build {export}" in result.stderr
        )


def test_a_table_file_named_in_another_case(cli, valid_export: Path, tmp_path: Path) -> None:
    (valid_export / "parties.csv").rename(valid_export / "Parties.CSV")
    result = run(cli, "snapshot", "build", valid_export, "--out", tmp_path / "s.duckdb")
    assert result.exit_code == 2 and "found Parties.CSV" in result.stderr


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_csv_that_is_not_comma_separated(cli, valid_export: Path, tmp_path: Path, separator: str) -> None:
    lines = (valid_export / "parties.csv").read_text().splitlines()
    (valid_export / "parties.csv").write_text(
        "\n".join(line.replace(",", separator) for line in lines) + "\n"
    )
    result = run(cli, "snapshot", "build", valid_export, "--out", tmp_path / "s.duckdb")
    assert result.exit_code == 2 and "not comma-separated" in result.stderr


def test_a_csv_date_fault_never_mentions_parquet(cli, tmp_path: Path) -> None:
    export = write_export(complete_tables({"customers": [{"customer_id": "C1", "birth_date": "01/02/1980"}]}),
                          tmp_path / "export")  # fmt: skip
    result = run(cli, "snapshot", "build", export, "--out", tmp_path / "s.duckdb")
    assert result.exit_code == 2 and "birth_date" in result.stderr
    assert "Parquet" not in result.stderr and "'01/02/1980'" in result.stderr  # as written in the file


def test_a_quarter_in_lower_case(cli, snapshot: Path, tmp_path: Path) -> None:
    result = run(cli, "run", "quarterly", "--snapshot", snapshot, "--period", "2026-q3", "--out", tmp_path / "r",
                 "--no-notebooks")  # fmt: skip
    assert result.exit_code == 0
    assert json.loads((tmp_path / "r" / "findings.json").read_text())["period"]["label"] == "2026-Q3"


def test_snapshot_build_makes_a_missing_folder_as_run_quarterly_does(
    cli, valid_export: Path, tmp_path: Path
) -> None:
    result = run(cli, "snapshot", "build", valid_export, "--out", tmp_path / "new" / "deeper" / "s.duckdb")
    assert result.exit_code == 0 and (tmp_path / "new" / "deeper" / "s.duckdb").is_file()
    broken = valid_export.parent / "broken"
    shutil.copytree(valid_export, broken)
    (broken / "parties.csv").unlink()
    result = run(cli, "snapshot", "build", broken, "--out", tmp_path / "gone" / "s.duckdb")
    assert result.exit_code == 2 and not (tmp_path / "gone").exists()  # made for the build, removed with it


def test_sample_into_a_folder_it_cannot_write(cli, tmp_path: Path, monkeypatch) -> None:
    import audit_lib.sample as sample

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sample, "write_table", full)
    result = run(cli, "sample", "generate", "--out", tmp_path / "x", "--customers", "20")
    assert result.exit_code == 2 and "cannot write" in result.stderr and "No space left" in result.stderr
    assert not (tmp_path / "x").exists()


def test_sample_says_what_it_wrote(cli, tmp_path: Path) -> None:
    result = run(cli, "sample", "generate", "--out", tmp_path / "x", "--customers", "50")
    assert result.exit_code == 0
    rows = sum(1 for _ in (tmp_path / "x" / "customers.csv").open()) - 1
    assert f"{rows} customers (50 background + {rows - 50} planted)" in result.stdout


def test_no_notebooks_prints_the_folder(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = run(
        cli, "run", "quarterly", "--snapshot", snapshot, "--period", "2026-Q3", "--out", out, "--no-notebooks"
    )
    assert result.stdout.strip() == f"report folder: {out}"
    assert len(list((out / "evidence").glob("*.csv"))) == 2 * len(load_controls())
