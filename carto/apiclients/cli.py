"""`carto api-client create|list|revoke`: thin commands over the service (registered in
carto/cli.py). The operator running them is trusted: no role check."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from carto.errors import CartoError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

console = Console(stderr=True)
api_client_app = typer.Typer(help="Clients de l'API Open311 (clés api_key).")
T = TypeVar("T")

DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Dossier du cluster embarqué (défaut ./var).")
]


def _run(data_dir: Path | None, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from carto.db import make_async_engine, make_sessionmaker
    from carto.runtime import database_url, upgrade
    from carto.settings import get_settings

    settings = get_settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})

    async def main() -> T:
        engine = make_async_engine(url, pool_size=1, max_overflow=0)
        try:
            async with make_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        url = database_url(settings, start=True)
        upgrade(url)
        return asyncio.run(main())
    except CartoError as exc:
        console.print(f"[red]Erreur :[/red] {exc.message}")
        raise typer.Exit(code=2) from exc


@api_client_app.command("create")
def create_cmd(
    name: Annotated[str, typer.Argument(help="Nom du client (application, prestataire...)")],
    authority: Annotated[str, typer.Option(help="Collectivité (slug : mel, roubaix...)")],
    services: Annotated[
        list[str] | None,
        typer.Option("--service", help="Service (slug) ; répétable ; aucun = tous"),
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create a key scoped to an authority (or some of its services); prints it once."""
    from sqlalchemy import select

    from carto.apiclients.schemas import ApiClientCreate
    from carto.apiclients.service import create_client
    from carto.errors import InvalidInput
    from carto.routing.models import Service
    from carto.territories.models import Authority

    async def work(session: AsyncSession) -> tuple[str, str]:
        found = await session.scalar(select(Authority).where(Authority.slug == authority))
        if found is None:
            raise InvalidInput(f"Collectivité « {authority} » inconnue.")
        slugs = list(services or [])
        rows = await session.execute(
            select(Service.slug, Service.id).where(
                Service.authority_id == found.id, Service.slug.in_(slugs)
            )
        )
        ids = {row[0]: row[1] for row in rows}
        if missing := [s for s in slugs if s not in ids]:
            raise InvalidInput(f"Service(s) inconnu(s) pour {found.name} : {', '.join(missing)}.")
        data = ApiClientCreate(name=name, authority_id=found.id, service_ids=list(ids.values()))
        public, key = await create_client(
            session=session, data=data, admin_of=None, created_by=None
        )
        scope = ", ".join(s.name for s in public.services) or "tous les services"
        return key, f"Client n° {public.id} « {public.name} » : {public.authority}, {scope}."

    key, summary = _run(data_dir, work)
    console.print(summary)
    console.print("Clé (affichée une seule fois, seule son empreinte est conservée) :")
    print(key)


@api_client_app.command("list")
def list_cmd(data_dir: DataDirOpt = None) -> None:
    """List the clients as JSON lines (never their keys)."""
    from carto.apiclients.service import list_clients

    async def work(session: AsyncSession) -> list[str]:
        return [c.model_dump_json() for c in await list_clients(session=session, admin_of=None)]

    for line in _run(data_dir, work):
        print(line)


@api_client_app.command("revoke")
def revoke_cmd(
    client_id: Annotated[int, typer.Argument(help="Numéro du client")],
    data_dir: DataDirOpt = None,
) -> None:
    """Revoke a client's key at once."""
    from carto.apiclients.service import revoke_client

    async def work(session: AsyncSession) -> str:
        public = await revoke_client(session=session, client_id=client_id, admin_of=None)
        return json.dumps({"id": public.id, "revoked_at": str(public.revoked_at)})

    console.print(f"Clé révoquée : {_run(data_dir, work)}")
