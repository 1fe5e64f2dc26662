"""`carto admin grant-platform EMAIL [--revoke]`: make an account an administrator of the
platform (the `plateforme` authority of migration y001), who sees the national « à
orienter » queue. The operator running it is trusted; idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from carto.errors import CartoError, NotFound

if TYPE_CHECKING:
    import psycopg

console = Console(stderr=True)
admin_app = typer.Typer(help="Rôles d'administration de la plateforme.")
PLATFORM_KIND = "plateforme"


def set_platform_admin(conn: psycopg.Connection, email: str, *, grant: bool = True) -> bool:
    """Grant (or revoke) the platform administrator role; whether anything changed."""
    user = conn.execute(
        "SELECT id FROM app_user WHERE lower(email) = lower(%s)", (email.strip(),)
    ).fetchone()
    if user is None:
        raise NotFound(f"Aucun compte pour « {email.strip()[:80]} » : créez-le d'abord.")
    platform = conn.execute(
        "SELECT id FROM authority WHERE kind = %s ORDER BY id LIMIT 1", (PLATFORM_KIND,)
    ).fetchone()
    if platform is None:
        raise NotFound("L'autorité « plateforme » n'existe pas : lancez `carto db upgrade`.")
    if not grant:
        return bool(
            conn.execute(
                "DELETE FROM role_grant WHERE user_id = %s AND role = 'admin' "
                "AND authority_id = %s",
                (user[0], platform[0]),
            ).rowcount
        )
    return bool(
        conn.execute(
            """INSERT INTO role_grant (user_id, role, authority_id)
               SELECT %(u)s, 'admin', %(a)s WHERE NOT EXISTS (SELECT 1 FROM role_grant
                   WHERE user_id = %(u)s AND role = 'admin' AND authority_id = %(a)s)""",
            {"u": user[0], "a": platform[0]},
        ).rowcount
    )


@admin_app.command("grant-platform")
def grant_platform_cmd(
    email: Annotated[str, typer.Argument(help="Adresse e-mail du compte")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Retirer le rôle")] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir")] = None,
) -> None:
    """Administrator of the platform: the national « à orienter » queue."""
    import psycopg

    from carto.runtime import database_url, upgrade
    from carto.settings import get_settings

    settings = get_settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    try:
        url = database_url(settings, start=True)
        upgrade(url)
        with psycopg.connect(url) as conn:
            changed = set_platform_admin(conn, email, grant=not revoke)
            conn.commit()
    except CartoError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    verb = "retiré" if revoke else "accordé"
    state = verb if changed else f"déjà {verb}"
    console.print(f"Rôle d'administrateur de la plateforme {state} : {email.strip()}")
