"""`carto db backup`, `carto db restore`, `carto doctor`: thin, over carto.ops."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from carto.errors import CartoError

if TYPE_CHECKING:
    from carto.settings import Settings

console = Console(stderr=True)
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Dossier du cluster embarqué (défaut ./var).")
]


def _settings(data_dir: Path | None) -> Settings:
    from carto.settings import get_settings

    base = get_settings()
    return base.model_copy(update={"data_dir": data_dir}) if data_dir is not None else base


def _fail(exc: CartoError) -> None:
    console.print(f"[red]Erreur :[/red] {exc.message}")
    raise typer.Exit(code=2)


def backup_cmd(
    file: Annotated[Path, typer.Argument(help="Fichier de sauvegarde à écrire")],
    data_dir: DataDirOpt = None,
) -> None:
    """Back up the database (photos included) and the data dir's secret key to one file."""
    from carto.ops.backup import backup
    from carto.runtime import database_url

    settings = _settings(data_dir)
    key_file = None if settings.secret_key else Path(settings.data_dir) / "secret_key"
    try:
        manifest = backup(database_url(settings, start=True), file, secret_key_file=key_file)
    except CartoError as exc:
        _fail(exc)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    console.print(
        f"{file} : {len(manifest['tables'])} tables, {rows} lignes, {manifest['photos']} "
        f"photo(s), {manifest['dump_bytes'] / 2**20:.1f} Mio en {manifest['seconds']} s."
    )


def restore_cmd(
    file: Annotated[Path, typer.Argument(help="Fichier écrit par `carto db backup`")],
    data_dir: DataDirOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Remplacer une base qui contient déjà des données.")
    ] = False,
) -> None:
    """Restore a backup into an empty database (the embedded cluster or CARTO_DATABASE_URL)."""
    from carto.ops.restore import restore, secret_key_of
    from carto.runtime import database_url

    settings = _settings(data_dir)
    try:
        result = restore(database_url(settings, start=True), file, force=force)
    except CartoError as exc:
        _fail(exc)
    key = secret_key_of(file)
    target = Path(settings.data_dir) / "secret_key"
    if key and not settings.secret_key and (force or not target.exists()):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(key)
        target.chmod(0o600)
    elif key and target.exists() and target.read_bytes() != key:
        console.print(f"[yellow]Attention :[/yellow] {target} diffère de la clé sauvegardée.")
    console.print(
        f"Restauré : {len(result['tables'])} tables vérifiées, {result['photos']} photo(s), "
        f"{result['restore_seconds']} s (+ {result['migrate_seconds']} s de migrations, "
        f"{result['vacuum_seconds']} s de VACUUM ANALYZE)."
    )


def doctor_cmd(
    data_dir: DataDirOpt = None,
    test_email: Annotated[
        str | None, typer.Option("--test-email", help="Envoyer un e-mail de test à cette adresse.")
    ] = None,
) -> None:
    """Check the deployment and say what to fix; exit 1 on any failure."""
    from carto.ops.doctor import Context, diagnose

    findings = diagnose(Context(_settings(data_dir), test_email=test_email))
    out = Console()
    for f in findings:
        mark = "[green]✔[/green]" if f.ok else "[red]✘[/red]"
        out.print(f"{mark} {f.name} : {f.said}" + ("" if f.ok else f"\n    → {f.fix}"))
    failed = sum(not f.ok for f in findings)
    out.print("Tout est en ordre." if not failed else f"{failed} problème(s) à corriger.")
    if failed:
        raise typer.Exit(code=1)
