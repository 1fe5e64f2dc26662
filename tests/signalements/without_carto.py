"""A commune outside the demo territories that does not use Carto: its front desk's
e-mail, a national default for `proprete`, and a communauté de communes around it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

POINT = (2.5005, 45.0005)  # lon, lat: inside the square below (Cantal)
MAIRIE = "mairie@testville.example"


@dataclass(frozen=True)
class Testville:
    commune_authority: int
    interco_authority: int
    contact_service: int


async def _one(session: AsyncSession, sql: str, **params: object) -> int:
    return int((await session.execute(text(sql), params)).scalar_one())


async def make_testville(session: AsyncSession) -> Testville:
    commune = await _one(session, "INSERT INTO authority (slug, name, kind, code) VALUES "
                         "('testville', 'Testville', 'commune', '15999') RETURNING id")  # fmt: skip
    interco = await _one(session, "INSERT INTO authority (slug, name, kind, code) VALUES "
                         "('cc-test', 'Communauté de communes Test', 'intercommunalite', "
                         "'200099999') RETURNING id")  # fmt: skip
    await session.execute(text(
        "INSERT INTO commune (insee, nom, departement, authority_id, geom) VALUES ('15999', "
        "'Testville', '15', :a, ST_Multi(ST_MakeEnvelope(2.5, 45.0, 2.501, 45.001, 4326)))"
    ), {"a": commune})  # fmt: skip
    await session.execute(text(
        "INSERT INTO intercommunalite (siren, nom, kind, authority_id, geom) VALUES "
        "('200099999', 'Communauté de communes Test', 'CC', :a, "
        "ST_Multi(ST_MakeEnvelope(2.5, 45.0, 2.501, 45.001, 4326)))"
    ), {"a": interco})  # fmt: skip
    await session.execute(text("INSERT INTO intercommunalite_member (siren, insee) "
                               "VALUES ('200099999', '15999')"))  # fmt: skip
    contact = await _one(session, "INSERT INTO service (authority_id, slug, name, email) VALUES "
                         "(:a, 'contact', 'Mairie (accueil)', :e) RETURNING id",
                         a=commune, e=MAIRIE)  # fmt: skip
    await session.execute(text(
        "INSERT INTO competence_rule (category_code, level, scope_kind, source, legal_basis) "
        "VALUES ('proprete', 'commune', 'everywhere', 'national', 'CGCT L2212-2')"
    ))  # fmt: skip
    return Testville(commune, interco, contact)


async def grant_admin(session: AsyncSession, email: str, authority_id: int) -> None:
    await session.execute(text(
        "INSERT INTO role_grant (user_id, role, authority_id) "
        "SELECT id, 'admin', :a FROM app_user WHERE email = :e"
    ), {"a": authority_id, "e": email})  # fmt: skip
    session.expire_all()
