"""`carto admin grant-platform EMAIL`: the account then sees the national « à orienter »
queue; idempotent, revocable, and an unknown account is a clear error."""

from __future__ import annotations

import pytest

from carto.accounts.platform_cli import admin_app, set_platform_admin
from carto.cli import app
from carto.errors import NotFound

GRANTED = """SELECT count(*) FROM role_grant g JOIN app_user u ON u.id = g.user_id
JOIN authority a ON a.id = g.authority_id WHERE u.email = %s AND a.kind = 'plateforme'"""


def test_grant_is_idempotent_and_revocable(sync_conn):
    who = "citoyen@demo.local"
    assert sync_conn.execute(GRANTED, (who,)).fetchone() == (0,)
    assert set_platform_admin(sync_conn, " Citoyen@Demo.local ") is True
    assert set_platform_admin(sync_conn, who) is False
    assert sync_conn.execute(GRANTED, (who,)).fetchone() == (1,)
    assert set_platform_admin(sync_conn, who, grant=False) is True
    assert sync_conn.execute(GRANTED, (who,)).fetchone() == (0,)
    with pytest.raises(NotFound, match="Aucun compte"):
        set_platform_admin(sync_conn, "personne@demo.local")


def test_cli_command_is_registered():
    assert "grant-platform" in [c.name for c in admin_app.registered_commands]
    assert ("admin", admin_app) in [(g.name, g.typer_instance) for g in app.registered_groups]
