"""`carto doctor`: what is wrong with a deployment, and how to fix it, in French.

Each check returns a `Finding`; one failure makes the command exit non-zero, so it can
gate a deployment (`carto doctor && systemctl restart carto`). Checks only read, except
the media one (writes and removes a temp file) and the optional test e-mail.
"""

from __future__ import annotations

import shutil
import smtplib
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg

from carto.errors import CartoError
from carto.roles import GROUPS
from carto.settings import Settings

MIN_POSTGIS = (3, 1)
MIN_FREE_BYTES = 2 * 2**30
STUCK_AFTER_S = 3600
MAX_CLOCK_SKEW_S = 5.0
UNDELIVERED = "('pending', 'sending', 'failed')"


@dataclass
class Finding:
    """One check: `ok`, what was seen, and (on failure) what to do."""

    name: str
    ok: bool
    said: str
    fix: str = ""


@dataclass
class Context:
    settings: Settings
    owner_url: str | None = None
    test_email: str | None = None
    min_free_bytes: int = MIN_FREE_BYTES
    facts: dict[str, Any] = field(default_factory=dict)


def _database(ctx: Context) -> Finding:
    from carto.runtime import database_url, embedded_cluster

    settings = ctx.settings
    try:
        if settings.uses_embedded_cluster and not embedded_cluster(settings).is_running():
            return Finding(
                "base",
                False,
                "le cluster embarqué ne tourne pas",
                f"lancez `carto db start --data-dir {settings.data_dir}`",
            )
        url = database_url(settings)
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except (psycopg.Error, CartoError) as exc:
        return Finding(
            "base",
            False,
            f"connexion impossible ({_short(exc)})",
            "vérifiez CARTO_DATABASE_URL et que PostgreSQL écoute",
        )
    ctx.owner_url = url
    return Finding("base", True, "joignable")


def _migrations(ctx: Context) -> Finding:
    from carto.health import applied_revisions, expected_heads

    with psycopg.connect(_owner(ctx)) as conn:
        found = conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()
        current = (
            frozenset(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))
            if found and found[0]
            else frozenset()
        )
    try:
        missing = expected_heads() - applied_revisions(current)
    except Exception:  # a revision this code does not know: the database is ahead
        return Finding(
            "migrations",
            False,
            f"la base est plus récente que le code ({sorted(current)})",
            "installez la version de Carto qui a migré cette base",
        )
    if missing:
        return Finding(
            "migrations",
            False,
            f"migrations manquantes : {', '.join(sorted(missing))}",
            "lancez `carto db upgrade`",
        )
    return Finding("migrations", True, f"à jour ({len(current)} têtes)")


def _roles(ctx: Context) -> Finding:
    from carto.runtime import role_urls

    urls = role_urls(ctx.settings, _owner(ctx))
    problems = []
    for role, url in (("app", urls.app), ("reader", urls.reader)):
        if url == urls.owner:
            problems.append(f"aucun rôle {role} (CARTO_{role.upper()}_DATABASE_URL)")
            continue
        try:
            with psycopg.connect(url, connect_timeout=5) as conn:
                row = conn.execute(
                    "SELECT rolsuper, pg_has_role(current_user, %s, 'member'), "
                    "current_setting('default_transaction_read_only'), "
                    "current_setting('statement_timeout') FROM pg_roles "
                    "WHERE rolname = current_user",
                    (GROUPS[role],),
                ).fetchone()
        except psycopg.Error as exc:
            problems.append(f"le rôle {role} ne se connecte pas ({_short(exc)})")
            continue
        superuser, member, read_only, timeout = row or (True, False, "off", "0")
        if superuser:
            problems.append(f"le rôle {role} est superutilisateur")
        if not member:
            problems.append(f"le rôle {role} n'est pas membre de {GROUPS[role]}")
        if role == "reader" and (read_only != "on" or timeout in ("0", "")):
            problems.append("le rôle reader doit être en lecture seule avec un statement_timeout")
    if problems:
        return Finding(
            "rôles",
            False,
            " ; ".join(problems),
            "créez les rôles comme dans le README (« Database roles »)",
        )
    return Finding(
        "rôles", True, "app et reader conformes (ni superutilisateur, reader en lecture seule)"
    )


def _postgis(ctx: Context) -> Finding:
    with psycopg.connect(_owner(ctx)) as conn:
        try:
            version = str((conn.execute("SELECT postgis_lib_version()").fetchone() or [""])[0])
        except psycopg.Error:
            return Finding("PostGIS", False, "extension absente", "CREATE EXTENSION postgis")
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    if parts < MIN_POSTGIS:
        return Finding(
            "PostGIS",
            False,
            f"version {version} trop ancienne",
            "installez PostGIS 3.1 ou plus récent",
        )
    return Finding("PostGIS", True, f"version {version}")


def _configuration(ctx: Context) -> Finding:
    settings = ctx.settings
    problems, fixes = [], []
    if not settings.public_url:
        problems.append("CARTO_PUBLIC_URL n'est pas défini")
        fixes.append("définissez CARTO_PUBLIC_URL=https://… (les liens des e-mails)")
    elif not settings.public_url.startswith("https://"):
        problems.append(f"CARTO_PUBLIC_URL n'est pas en https ({settings.public_url})")
        fixes.append("servez Carto en https derrière un proxy")
    if not settings.secret_key and not (Path(settings.data_dir) / "secret_key").is_file():
        problems.append("aucune clé secrète (CARTO_SECRET_KEY ni fichier secret_key)")
        fixes.append("définissez CARTO_SECRET_KEY (48 caractères aléatoires)")
    if problems:
        return Finding("configuration", False, " ; ".join(problems), " ; ".join(fixes))
    return Finding("configuration", True, "adresse publique et clé secrète définies")


def _smtp(ctx: Context) -> Finding:
    s = ctx.settings
    if not s.smtp_host:
        return Finding(
            "SMTP",
            False,
            "CARTO_SMTP_HOST n'est pas défini : les e-mails sont journalisés, jamais envoyés",
            "définissez CARTO_SMTP_HOST et CARTO_SMTP_PORT",
        )
    try:
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=10) as smtp:
            smtp.ehlo()
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user and s.smtp_password:
                smtp.login(s.smtp_user, s.smtp_password)
            if ctx.test_email:
                msg = EmailMessage()
                msg["From"], msg["To"] = s.smtp_from, ctx.test_email
                msg["Subject"] = "Carto : e-mail de test de carto doctor"
                msg.set_content("Si vous lisez ceci, Carto envoie bien ses e-mails.")
                smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        return Finding(
            "SMTP",
            False,
            f"{s.smtp_host}:{s.smtp_port} injoignable ({_short(exc)})",
            "vérifiez CARTO_SMTP_HOST, le port, STARTTLS et les identifiants",
        )
    sent = f", e-mail de test envoyé à {ctx.test_email}" if ctx.test_email else ""
    return Finding("SMTP", True, f"{s.smtp_host}:{s.smtp_port} répond{sent}")


def _media(ctx: Context) -> Finding:
    data_dir = Path(ctx.settings.data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Finding(
            "dossier de données",
            False,
            f"{data_dir} n'est pas inscriptible ({_short(exc)})",
            "donnez ce dossier à l'utilisateur du service (chown, chmod)",
        )
    free = shutil.disk_usage(data_dir).free
    if free < ctx.min_free_bytes:
        return Finding(
            "dossier de données",
            False,
            f"{free / 2**30:.1f} Gio libres dans {data_dir} (minimum "
            f"{ctx.min_free_bytes / 2**30:.1f})",
            "libérez de la place ou agrandissez le disque (photos, base, sauvegardes)",
        )
    return Finding(
        "dossier de données", True, f"{data_dir} inscriptible, {free / 2**30:.1f} Gio libres"
    )


def _replica(ctx: Context) -> Finding:
    s = ctx.settings
    if not s.read_database_url:
        return Finding("réplica", True, "aucun réplica configuré")
    from carto.db import libpq_url

    try:
        with psycopg.connect(libpq_url(s.read_database_url), connect_timeout=5) as conn:
            row = conn.execute(str(_lag_sql())).fetchone()
    except psycopg.Error as exc:
        return Finding(
            "réplica", False, f"injoignable ({_short(exc)})", "vérifiez CARTO_READ_DATABASE_URL"
        )
    lag, standby = row or (None, False)
    if not standby:
        return Finding(
            "réplica",
            False,
            "CARTO_READ_DATABASE_URL n'est pas un réplica",
            "pointez-la vers un serveur en réplication",
        )
    if lag is not None and lag > s.read_max_lag_s:
        return Finding(
            "réplica",
            False,
            f"retard de {lag:.1f} s (> {s.read_max_lag_s} s)",
            "vérifiez la réplication (pg_stat_replication sur le primaire)",
        )
    return Finding("réplica", True, f"retard {lag or 0:.1f} s")


def _outbox(ctx: Context) -> Finding:
    with psycopg.connect(_owner(ctx)) as conn:
        row = conn.execute(
            "SELECT count(*), extract(epoch FROM now() - min(created_at)) "
            f"FROM notification_outbox WHERE status IN {UNDELIVERED}"  # noqa: S608
        ).fetchone()
    waiting, age = row or (0, None)
    if age is not None and age > STUCK_AFTER_S:
        return Finding(
            "notifications",
            False,
            f"{waiting} notification(s) en attente, la plus ancienne depuis {age / 3600:.1f} h",
            "lancez `carto worker` (ou vérifiez ses journaux et le SMTP)",
        )
    return Finding("notifications", True, f"{waiting} en attente, aucune bloquée")


def _time(ctx: Context) -> Finding:
    try:
        ZoneInfo("Europe/Paris")
    except ZoneInfoNotFoundError:
        return Finding("heure", False, "fuseau Europe/Paris introuvable", "installez tzdata")
    with psycopg.connect(_owner(ctx)) as conn:
        row = conn.execute(
            "SELECT now(), current_setting('TimeZone'), now() AT TIME ZONE 'Europe/Paris'"
        ).fetchone()
    assert row is not None
    skew = abs((datetime.now(UTC) - row[0]).total_seconds())
    if skew > MAX_CLOCK_SKEW_S:
        return Finding(
            "heure",
            False,
            f"l'horloge de la base et celle-ci diffèrent de {skew:.0f} s",
            "synchronisez les horloges (NTP, systemd-timesyncd)",
        )
    return Finding("heure", True, f"horloges synchronisées, fuseau de la base {row[1]}")


def _owner(ctx: Context) -> str:
    assert ctx.owner_url is not None
    return ctx.owner_url


def _lag_sql() -> Any:
    from carto.scaling.replica import LAG_SQL

    return LAG_SQL


def _short(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]


NEEDS_DATABASE: list[Callable[[Context], Finding]] = [
    _migrations,
    _roles,
    _postgis,
    _outbox,
    _time,
]
STANDALONE: list[Callable[[Context], Finding]] = [_configuration, _smtp, _media, _replica]


def diagnose(ctx: Context) -> list[Finding]:
    """Every check; those needing the database are skipped (one finding) when it is down."""
    first = _database(ctx)
    found = [first]
    if first.ok:
        for check in NEEDS_DATABASE:
            try:
                found.append(check(ctx))
            except psycopg.Error as exc:
                found.append(
                    Finding(
                        check.__name__.strip("_"),
                        False,
                        _short(exc),
                        "lancez `carto db upgrade` puis relancez `carto doctor`",
                    )
                )
    found.extend(check(ctx) for check in STANDALONE)
    return found
