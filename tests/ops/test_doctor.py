"""`carto doctor`: exit 0 on a healthy deployment, non-zero with a French message otherwise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from carto.cli import app
from carto.embedded import free_port
from carto.ops.doctor import Context, Finding, diagnose
from carto.settings import Settings, get_settings

MIB = 2**20


@pytest.fixture
def healthy(
    demo_db: str, smtp: tuple[object, int], outbox: AsyncEngine, tmp_path: Path
) -> Settings:
    """The demo database, its roles (the test cluster's logins), an SMTP sink, a data dir."""
    return Settings(
        database_url=demo_db, data_dir=tmp_path, secret_key="s" * 48,
        public_url="https://carto.exemple.fr", smtp_host="127.0.0.1", smtp_port=smtp[1],
        smtp_starttls=False, notifications_worker=False,
    )  # fmt: skip


def failures(settings: Settings, min_free_bytes: int = MIB) -> list[Finding]:
    found = diagnose(Context(settings, min_free_bytes=min_free_bytes))
    return [f for f in found if not f.ok]


def test_healthy_demo_passes_every_check(healthy: Settings, smtp: tuple[Any, int]) -> None:
    found = diagnose(Context(healthy, min_free_bytes=MIB, test_email="dsi@exemple.fr"))
    assert [f for f in found if not f.ok] == []
    [mail] = smtp[0].messages
    assert mail["To"] == "dsi@exemple.fr" and "carto doctor" in mail["Subject"]
    names = {f.name for f in found}
    assert {"base", "migrations", "rôles", "PostGIS", "SMTP", "notifications", "heure"} <= names


def test_cli_exit_codes(healthy: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"CARTO_DATABASE_URL": healthy.database_url, "CARTO_SECRET_KEY": "s" * 48,
           "CARTO_PUBLIC_URL": "https://carto.exemple.fr", "CARTO_SMTP_HOST": "127.0.0.1",
           "CARTO_SMTP_PORT": str(healthy.smtp_port), "CARTO_SMTP_STARTTLS": "false"}  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    get_settings.cache_clear()
    try:
        ok = CliRunner().invoke(app, ["doctor", "--data-dir", str(healthy.data_dir)])
        assert ok.exit_code == 0, ok.output
        assert "Tout est en ordre" in ok.output
        monkeypatch.delenv("CARTO_PUBLIC_URL")
        get_settings.cache_clear()
        bad = CliRunner().invoke(app, ["doctor", "--data-dir", str(healthy.data_dir)])
        assert bad.exit_code == 1
        assert "CARTO_PUBLIC_URL n'est pas défini" in bad.output and "1 problème" in bad.output
    finally:
        get_settings.cache_clear()


def _break_owner(settings: Settings, server_url: str) -> Settings:
    return settings.model_copy(
        update={"database_url": server_url.rsplit(":", 1)[0] + f":{free_port()}/carto"}
    )


@pytest.fixture
def empty_database(server_url: str) -> Iterator[str]:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute('CREATE DATABASE "carto_doctor_empty"')
    try:
        yield server_url.rsplit("/", 1)[0] + "/carto_doctor_empty"
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute('DROP DATABASE "carto_doctor_empty" WITH (FORCE)')


def _app_login(settings: Settings) -> str:
    from carto.runtime import role_urls

    return role_urls(settings, str(settings.database_url)).app


CASES: dict[str, tuple[Callable[[Settings], dict[str, object]], str, str]] = {
    "no public URL": (
        lambda s: {"public_url": None},
        "configuration",
        "CARTO_PUBLIC_URL n'est pas défini",
    ),
    "http public URL": (
        lambda s: {"public_url": "http://carto.exemple.fr"},
        "configuration",
        "pas en https",
    ),
    "no secret key": (lambda s: {"secret_key": None}, "configuration", "aucune clé secrète"),
    "no SMTP": (lambda s: {"smtp_host": None}, "SMTP", "jamais envoyés"),
    "SMTP down": (lambda s: {"smtp_port": free_port()}, "SMTP", "injoignable"),
    "data dir not writable": (
        lambda s: {"data_dir": Path(s.data_dir) / "fichier" / "sous"},
        "dossier de données",
        "n'est pas inscriptible",
    ),
    "reader not read-only": (
        lambda s: {"reader_database_url": _app_login(s)},
        "rôles",
        "lecture seule",
    ),
    "replica is a primary": (
        lambda s: {"read_database_url": s.database_url},
        "réplica",
        "n'est pas un réplica",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_broken_setting_is_named_with_its_fix(healthy: Settings, case: str) -> None:
    change, name, words = CASES[case]
    (Path(healthy.data_dir) / "fichier").write_text("un fichier, pas un dossier")
    [found] = failures(healthy.model_copy(update=change(healthy)))
    assert found.name == name and words in found.said, found
    assert found.fix


def test_low_disk_space(healthy: Settings) -> None:
    [found] = failures(healthy, min_free_bytes=2**60)
    assert found.name == "dossier de données" and "Gio libres" in found.said


def test_database_down_and_not_migrated(
    healthy: Settings, server_url: str, empty_database: str
) -> None:
    [down, *_] = failures(_break_owner(healthy, server_url))
    assert down.name == "base" and "connexion impossible" in down.said
    found = failures(healthy.model_copy(update={"database_url": empty_database}))
    migrations = next(f for f in found if f.name == "migrations")
    assert "migrations manquantes" in migrations.said and "carto db upgrade" in migrations.fix


async def test_stuck_outbox(healthy: Settings, outbox: AsyncEngine) -> None:
    async with outbox.begin() as conn:
        await conn.execute(text(
            "INSERT INTO notification_outbox (channel, recipient, payload, event_key, status, "
            "created_at) VALUES ('email', 'a@exemple.fr', '{}', 'doctor:stuck', 'failed', "
            "now() - interval '3 hours')"))  # fmt: skip
    [found] = failures(healthy)
    assert found.name == "notifications" and "depuis 3.0 h" in found.said
    assert "carto worker" in found.fix
