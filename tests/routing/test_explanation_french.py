"""The explanation reads as French: « de » elides before a vowel and contracts with
« le » / « les » (« commune d'Ajaccio », « membre de l'Eurométropole de Strasbourg »,
« membre d'Est Ensemble »), as the citizen reads it outside the demo territories."""

from __future__ import annotations

import pytest

from carto.routing.decision import Candidate, CategoryInfo, Place, explain, of, with_article


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Toulouse", "de Toulouse"),
        ("Ajaccio", "d'Ajaccio"),
        ("Évry-Courcouronnes", "d'Évry-Courcouronnes"),
        ("Est Ensemble", "d'Est Ensemble"),
        ("Eurométropole de Strasbourg", "de l'Eurométropole de Strasbourg"),
        ("Métropole d'Aix-Marseille-Provence", "de la Métropole d'Aix-Marseille-Provence"),
        ("Département du Cantal", "du Département du Cantal"),
        ("Le Havre", "du Havre"),
        ("Les Abymes", "des Abymes"),
        ("La Rochelle", "de La Rochelle"),
        ("Toulouse Métropole", "de Toulouse Métropole"),
    ],
)
def test_of_writes_de_as_french_does(name: str, expected: str) -> None:
    assert of(name) == expected


def test_explanation_and_notice_elide() -> None:
    assert with_article("Eurométropole de Strasbourg") == "l'Eurométropole de Strasbourg"
    chosen = Candidate(
        rule_id=1, level="commune", road_class=None, valid_from=None, interco_siren="2",
        interco_nom="Eurométropole de Strasbourg", authority_id=3, authority_name="Illkirch",
        service_id=4, service_name="Mairie (accueil)", service_slug="contact",
        national=True, via_contact=True, legal_basis="CGCT L2212-2",
        service_email="mairie@illkirch.example",
    )  # fmt: skip
    text = explain(
        place=Place(commune_insee="67218", commune_nom="Illkirch-Graffenstaden"),
        category=CategoryInfo(code="proprete", label="Propreté"),
        chosen=chosen,
    )
    assert text.startswith(
        "Point dans la commune d'Illkirch-Graffenstaden, membre de l'Eurométropole de Strasbourg ;"
    )
    assert text.endswith("La commune d'Illkirch n'utilise pas encore Carto : "
                         "votre signalement lui est transmis par e-mail.")  # fmt: skip
