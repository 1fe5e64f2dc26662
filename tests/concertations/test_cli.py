"""`carto import contributions`, `carto import layer`, `carto report concertation`.

The CLI commits, so these tests work on a concertation of their own and delete it after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from carto.cli import app
from carto.settings import get_settings

SLUG = "t-cli-atelier"


@pytest.fixture
def cli_env(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CARTO_DATABASE_URL", demo_db)
    get_settings.cache_clear()
    with psycopg.connect(demo_db) as conn:
        k = conn.execute(
            """INSERT INTO concertation (slug, title, description, kind, perimeter, opens_at,
                   closes_at, allowed_geometry_types, allowed_kinds, is_demo)
               SELECT %s, 'Atelier test', '', 'autre', geom, now() - interval '1 day',
                      now() + interval '1 day', '{Point}', '{proposition,constat}', false
               FROM commune WHERE insee = '59350' RETURNING id""",
            (SLUG,),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO concertation_theme (concertation_id, slug, label, color, icon, "
            "description, sort_order) VALUES (%s, 'velo', 'Vélo', '#123456', '', '', 0)",
            (k,),
        )
    try:
        yield demo_db
    finally:
        with psycopg.connect(demo_db) as conn:
            conn.execute("DELETE FROM concertation WHERE slug = %s", (SLUG,))
        get_settings.cache_clear()


def flat(output: str) -> str:
    """Rich wraps long lines on a narrow terminal."""
    return " ".join(output.split())


def _rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, (SLUG,)).fetchall()


def test_import_contributions_checks_every_row_and_is_idempotent(cli_env, tmp_path: Path):
    csv = tmp_path / "atelier.csv"
    csv.write_text(
        "id;titre;texte;theme;type;auteur;longitude;latitude\n"
        "a1;Piste rue Nationale;Relier la gare;velo;proposition;Atelier Wazemmes;3.0632;50.6369\n"
        "a2;Hors périmètre;À Roubaix;velo;proposition;;3.1746;50.6903\n"
        "a3;Thème inconnu;;bus;proposition;;3.0632;50.6369\n"
        "a4;Rappel;Mon numéro : 06 12 34 56 78;velo;constat;;3,0640;50,6370\n"
        "a5;Sans position;;velo;proposition;;;\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    first = runner.invoke(app, ["import", "contributions", SLUG, str(csv), "--channel", "workshop"])
    assert first.exit_code == 0, first.output
    said = flat(first.output)
    assert (
        "5 lignes, 2 importées (1 retenues pour modération), 0 déjà présentes, 3 refusées" in said
    )
    assert "ligne 2 : hors du périmètre" in said and "ligne 3 : thème inconnu « bus »" in said
    rows = _rows(
        cli_env,
        "SELECT c.source_ref, c.channel, c.author_label, c.visibility, "
        "c.commune_insee FROM contribution c JOIN concertation k "
        "ON k.id = c.concertation_id WHERE k.slug = %s ORDER BY 1",
    )
    assert rows == [
        ("a1", "workshop", "Atelier Wazemmes", "published", "59350"),
        ("a4", "workshop", "Atelier", "held", "59350"),
    ]
    second = runner.invoke(app, ["import", "contributions", SLUG, str(csv)])
    assert "0 importées" in flat(second.output) and "2 déjà présentes" in flat(second.output)


def test_import_layer_then_report(cli_env, tmp_path: Path):
    layer = tmp_path / "zones.geojson"
    layer.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"nom": "Zone A"},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [
                                    [3.05, 50.62],
                                    [3.08, 50.62],
                                    [3.08, 50.65],
                                    [3.05, 50.65],
                                    [3.05, 50.62],
                                ]
                            ],
                        },
                    }
                ],
            }
        )
    )
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "import",
            "layer",
            SLUG,
            str(layer),
            "--title",
            "Zones plantables",
            "--role",
            "constraint",
            "--rule",
            "inside",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "couche « zones-plantables », 1 entités" in flat(result.output)
    stored = _rows(
        cli_env,
        "SELECT l.rule, count(f.id) FROM reference_layer l JOIN concertation k "
        "ON k.id = l.concertation_id JOIN reference_feature f "
        "ON f.layer_id = l.id WHERE k.slug = %s GROUP BY l.rule",
    )
    assert stored == [("inside", 1)]
    out = tmp_path / "plu.html"
    report = runner.invoke(app, ["report", "concertation", "plu-de-la-mel", str(out)])
    assert report.exit_code == 0, report.output
    page = out.read_text(encoding="utf-8")
    assert "PLU de la MEL" in page and "<script src=" not in page
    missing = runner.invoke(app, ["report", "concertation", "nulle-part", str(out)])
    assert missing.exit_code == 2 and "Concertation inconnue" in flat(missing.output)
