"""The rule editor offers the département level, with the vocabulary's label, to a
département's administrator; the rule it saves hands route départementale reports to it."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from playwright.sync_api import Page, expect

from carto.credentials import hash_password
from tests.web.conftest import sign_in
from tests.web.helpers import get_json, token

EMAIL, PASSWORD = "routes@hauts-de-seine.test", "secret-pw-92"
SLUG = "departement-des-hauts-de-seine-web"


@pytest.fixture
def hauts_de_seine(demo_db: str, live_server: str) -> Iterator[int]:
    """The département of the GPSO communes and an administrator of it (committed: the
    live server reads them), removed afterwards with the rules it made."""
    with psycopg.connect(demo_db) as pg:
        authority = pg.execute(
            "INSERT INTO authority (slug, name, kind, code) VALUES (%s, "
            "'Département des Hauts-de-Seine', 'departement', '92') RETURNING id", (SLUG,),
        ).fetchone()[0]  # fmt: skip
        pg.execute(
            "INSERT INTO departement (code, nom, region_code, siren, authority_id, geom) "
            "SELECT '92', 'Hauts-de-Seine', '11', '229200506', %s, ST_Multi(ST_Union(geom)) "
            "FROM commune WHERE departement = '92'", (authority,),
        )  # fmt: skip
        user = pg.execute(
            "INSERT INTO app_user (email, pseudonym, password_hash, is_active, email_verified) "
            "VALUES (%s, 'Routes 92', %s, true, true) RETURNING id",
            (EMAIL, hash_password(PASSWORD)),
        ).fetchone()[0]
        pg.execute("INSERT INTO role_grant (user_id, role, authority_id) VALUES (%s, 'admin', %s)",
                   (user, authority))  # fmt: skip
        pg.commit()
    try:
        yield authority
    finally:
        with psycopg.connect(demo_db) as pg:
            pg.execute("DELETE FROM competence_rule WHERE scope_kind = 'departement' "
                       "AND scope_code = '92' AND source = 'admin'")  # fmt: skip
            pg.execute("DELETE FROM role_grant WHERE user_id = %s", (user,))
            pg.execute("DELETE FROM app_user WHERE id = %s", (user,))
            pg.execute("DELETE FROM departement WHERE code = '92'")
            pg.execute("DELETE FROM authority WHERE id = %s", (authority,))
            pg.commit()


def test_departement_admin_picks_the_departement_level(
    page: Page, live_server: str, hauts_de_seine: int
) -> None:
    sign_in(page, EMAIL, PASSWORD)
    page.goto("/admin/competences")
    form = page.locator("form", has=page.get_by_role("heading", name="Nouvelle règle"))
    level = form.get_by_label("Niveau compétent")
    expect(level.locator("option[value='departement']")).to_have_text("Le département du lieu")
    expect(level.locator("option[value='etat']")).to_have_count(0)  # national defaults only
    form.get_by_label("Catégorie").select_option("voirie")
    form.get_by_label("Portée").select_option("departement")
    form.get_by_label("Code du territoire").fill("92")
    level.select_option("departement")
    form.get_by_label("Classe de voie").fill("departementale")
    form.get_by_role("button", name="Ajouter la règle").click()
    expect(page.get_by_text("ajoutée.")).to_be_visible()
    bearer = token(live_server, EMAIL, PASSWORD)
    (rule,) = get_json(live_server, "/api/v1/admin/competences", bearer)
    assert (rule["level"], rule["scope_code"], rule["road_class"]) == (
        "departement", "92", "departementale")  # fmt: skip
    row = page.locator(f"tr[data-rule='{rule['id']}']")
    expect(row).to_contain_text("Le département du lieu")
    expect(row).to_contain_text("Département 92")
