"""The example app's migrate and seed steps, run as the image runs them, against a real PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.app.conftest import APP_DIR
from tests.app.pg import PgCluster

MIGRATIONS = APP_DIR / "migrations"


def _env(pg: PgCluster) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", **pg.env()}


def _command(*args: str) -> list[str]:
    return [sys.executable, "app.py", *args]


def _run(pg: PgCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(*args), cwd=APP_DIR, env=_env(pg), capture_output=True, text=True, check=False, timeout=60
    )


def _rows(pg: PgCluster, query: str) -> list[tuple[Any, ...]]:
    with pg.connect() as conn:
        return conn.execute(query).fetchall()  # type: ignore[arg-type]


def _snapshot(pg: PgCluster) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a migrate or seed run may change: the tables' columns, indexes and rows."""
    return {
        "columns": _rows(
            pg,
            "SELECT table_name, column_name, data_type, column_default FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY 1, 2",
        ),
        "indexes": _rows(
            pg, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
        ),
        "migrations": _rows(
            pg, "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY 1"
        ),
        "notes": _rows(pg, "SELECT id, slug, author, body, created_at FROM notes ORDER BY id"),
    }


def _files() -> list[Path]:
    return sorted(MIGRATIONS.glob("*.sql"))


def test_a_fresh_database_is_migrated_in_order_then_seeded(pg: PgCluster) -> None:
    migrate = _run(pg, "migrate")
    assert migrate.returncode == 0, migrate.stderr
    assert migrate.stderr.splitlines() == [
        *(f"app migrate: applied {path.name}" for path in _files()),
        f"app migrate: {len(_files())} applied; migrated to 0002 (2 migrations)",
    ]
    recorded = _rows(pg, "SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    assert recorded == [
        (path.name[:4], path.name, hashlib.sha256(path.read_bytes()).hexdigest()) for path in _files()
    ]
    applied_at = [row[0] for row in _rows(pg, "SELECT applied_at FROM schema_migrations ORDER BY version")]
    assert applied_at == sorted(applied_at)  # 0001 before 0002

    seed = _run(pg, "seed")
    assert (seed.returncode, seed.stderr) == (0, "app seed: seed applied\n")
    assert _rows(pg, "SELECT slug, author FROM notes") == [("welcome", "prenv")]


def test_a_second_run_changes_nothing(pg: PgCluster) -> None:
    assert _run(pg, "migrate").returncode == 0
    assert _run(pg, "seed").returncode == 0
    before = _snapshot(pg)

    again = _run(pg, "migrate")
    assert (again.returncode, again.stderr) == (
        0,
        "app migrate: 0 applied; migrated to 0002 (2 migrations)\n",
    )
    assert _run(pg, "seed").returncode == 0
    assert _snapshot(pg) == before


def _waiting_for_the_lock(pg: PgCluster) -> int:
    (row,) = _rows(pg, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    return int(row[0])


def test_two_runs_at_once_apply_each_migration_once(pg: PgCluster, app_module: Any) -> None:
    """Both start while a third session holds the lock, so they really overlap; then both succeed."""
    key = app_module.dbschema.LOCK_KEY
    with pg.connect() as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [key])
        runs = [
            subprocess.Popen(
                _command("migrate"), cwd=APP_DIR, env=_env(pg), stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        try:
            deadline = time.monotonic() + 30
            while _waiting_for_the_lock(pg) < 2:
                assert all(run.poll() is None for run in runs), "a run ended without waiting for the lock"
                assert time.monotonic() < deadline, "the two runs never queued on the lock"
                time.sleep(0.1)
            assert _rows(pg, "SELECT to_regclass('schema_migrations')") == [(None,)]  # nothing ran yet
            holder.execute("SELECT pg_advisory_unlock(%s)", [key])
            outputs = [run.communicate(timeout=60)[1] for run in runs]
        finally:
            for run in runs:
                if run.poll() is None:
                    run.kill()
                    run.communicate()
    assert [run.returncode for run in runs] == [0, 0], outputs
    applied = "".join(outputs).count("app migrate: applied ")
    assert applied == len(_files())  # each file once, by whichever run got the lock first
    assert sorted(output.splitlines()[-1] for output in outputs) == [
        "app migrate: 0 applied; migrated to 0002 (2 migrations)",
        "app migrate: 2 applied; migrated to 0002 (2 migrations)",
    ]
    assert _rows(pg, "SELECT count(*) FROM schema_migrations") == [(len(_files()),)]


def _copy_migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    return folder


def test_a_broken_migration_exits_1_with_its_error_and_applies_nothing_of_itself(
    pg: PgCluster, tmp_path: Path
) -> None:
    folder = _copy_migrations(tmp_path)
    (folder / "0003_widgets.sql").write_text(
        "CREATE TABLE widgets (id int);\nSELECT * FROM no_such_table;\n", encoding="utf-8"
    )
    broken = _run(pg, "migrate", "--migrations", str(folder))
    assert broken.returncode == 1
    assert broken.stderr.splitlines()[-1] == (
        'app migrate: 0003_widgets.sql failed: relation "no_such_table" does not exist'
    )
    assert _rows(pg, "SELECT version FROM schema_migrations ORDER BY 1") == [("0001",), ("0002",)]
    assert _rows(pg, "SELECT to_regclass('widgets')") == [(None,)]  # rolled back with its failure

    (folder / "0003_widgets.sql").write_text("CREATE TABLE widgets (id int);\n", encoding="utf-8")
    fixed = _run(pg, "migrate", "--migrations", str(folder))
    assert fixed.returncode == 0, fixed.stderr
    assert "app migrate: applied 0003_widgets.sql" in fixed.stderr.splitlines()


def test_a_migration_changed_after_it_was_applied_is_refused(pg: PgCluster, tmp_path: Path) -> None:
    folder = _copy_migrations(tmp_path)
    assert _run(pg, "migrate", "--migrations", str(folder)).returncode == 0
    with (folder / "0001_notes.sql").open("a", encoding="utf-8") as file:
        file.write("-- edited\n")
    done = _run(pg, "migrate", "--migrations", str(folder))
    assert (done.returncode, done.stderr) == (
        1,
        "app migrate: 0001_notes.sql changed after it was applied: restore it and add a new migration\n",
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "3_widgets.sql",
            "3_widgets.sql: a migration's file name is NNNN_name.sql (four digits, then lowercase letters, "
            "digits and _)",
        ),
        ("0002_again.sql", "0002_notes_author.sql: version 0002 is also 0002_again.sql"),
    ],
)
def test_misnamed_migrations_are_refused_before_anything_runs(
    pg: PgCluster, tmp_path: Path, name: str, message: str
) -> None:
    folder = _copy_migrations(tmp_path)
    (folder / name).write_text("SELECT 1;\n", encoding="utf-8")
    done = _run(pg, "migrate", "--migrations", str(folder))
    assert (done.returncode, done.stderr) == (1, f"app migrate: {message}\n")
    assert _rows(pg, "SELECT to_regclass('schema_migrations')") == [(None,)]


def test_the_seed_refuses_a_database_that_is_not_migrated(pg: PgCluster) -> None:
    done = _run(pg, "seed")
    assert (done.returncode, done.stderr) == (
        1,
        "app seed: the database is not migrated (0001_notes.sql, 0002_notes_author.sql pending): "
        "run `python app.py migrate` first\n",
    )


def test_a_database_that_does_not_answer_fails_the_step(pg: PgCluster) -> None:
    pg.stop()
    done = _run(pg, "migrate")
    assert done.returncode == 1
    assert done.stderr.startswith("app migrate: the database does not answer: ")
    assert pg.password not in done.stderr
