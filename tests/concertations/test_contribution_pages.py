"""The contribution list's search, sort and filters (hostile text included), the caller's
own reactions, no vote on one's own contribution, and comment reports and moderation."""

from __future__ import annotations

from tests.concertations.conftest import LILLE, count, feature
from tests.conftest import login

LIST = "/api/v1/concertations/plu-de-la-mel/contributions"


async def _create(client, headers, **props):
    resp = await client.post(
        "/api/v1/concertations/plu-de-la-mel/contributions",
        json=feature(*LILLE, theme="mobilites", **props),
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


async def test_search_sort_and_filters(client):
    headers = await login(client, "citoyen@demo.local")
    found = await _create(client, headers, title="Zébu 50%_off rue", kind="question")
    hit = (await client.get(LIST, params={"q": "50%_OFF"})).json()
    assert [f["id"] for f in hit["features"]] == [found] and hit["number_matched"] == 1
    # `%` and `_` are literal characters, not patterns: "5%" matches nothing else
    assert (await client.get(LIST, params={"q": "z%bu"})).json()["number_matched"] == 0
    assert (await client.get(LIST, params={"q": "zébu", "kind": "constat"})).json()[
        "number_matched"
    ] == 0
    themed = (await client.get(LIST, params={"q": "zébu", "theme": "mobilites"})).json()
    assert themed["number_matched"] == 1

    newest = (await client.get(LIST, params={"sort": "newest", "limit": 1})).json()
    assert newest["features"][0]["id"] == found
    ranked = (await client.get(LIST, params={"sort": "supported", "limit": 1000})).json()
    scores = [
        f["properties"]["supports"] + f["properties"]["votes_for"] for f in ranked["features"]
    ]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
    answered = (await client.get(LIST, params={"sort": "answered", "limit": 1000})).json()
    flags = [f["properties"]["answer"] is not None for f in answered["features"]]
    assert flags == sorted(flags, reverse=True) and flags[0] and not flags[-1]
    only = (await client.get(LIST, params={"answered": "true", "limit": 1000})).json()
    assert only["number_matched"] == sum(flags)


async def test_hostile_list_input_is_refused_in_french_never_500(client):
    for params in (
        {"q": "x" * 10_000},
        {"q": "a\x00b"},
        {"sort": "id; DROP TABLE contribution"},
        {"theme": "%"},
        {"kind": "_"},
    ):
        resp = await client.get(LIST, params=params)
        assert resp.status_code in (400, 422), (params, resp.status_code)
        assert "requête" in resp.json()["message"].lower() or "caract" in resp.json()["message"]
    for q in ("%", "_", "\\", "'", "é" * 200):
        resp = await client.get(LIST, params={"q": q})
        assert resp.status_code == 200, q


async def test_no_vote_on_ones_own_contribution_and_mine_after_reload(client, session):
    author = await login(client, "citoyen@demo.local")
    own = await _create(client, author, title="Ma propre idée")
    # The contract takes the author's vote (one per participant); it is never counted.
    kept = await client.post(
        f"/api/v1/contributions/{own}/votes", json={"value": 1}, headers=author
    )
    assert kept.status_code in (200, 201), kept.text
    assert kept.json()["counted"] is False and kept.json()["votes_for"] == 0
    flags = await count(
        session,
        "SELECT count(*) FROM contribution_vote WHERE contribution_id = :i AND 'own' = ANY(flags)",
        i=own,
    )
    assert flags == 1
    counted = await count(session, "SELECT votes_for FROM contribution WHERE id = :i", i=own)
    assert counted == 0

    other = await login(client, "participant.01@demo.local")
    voted = await client.post(
        f"/api/v1/contributions/{own}/votes", json={"value": -1}, headers=other
    )
    assert voted.status_code == 201, voted.text
    mine = (await client.get("/api/v1/concertations/plu-de-la-mel/mine", headers=other)).json()
    assert mine["votes"][str(own)] == -1 and own not in mine["contributions"]
    assert (
        own
        in (await client.get("/api/v1/concertations/plu-de-la-mel/mine", headers=author)).json()[
            "contributions"
        ]
    )
    assert (await client.get("/api/v1/concertations/plu-de-la-mel/mine")).status_code == 401


async def test_comment_report_and_hidden_reason_is_public(client, session):
    author = await login(client, "citoyen@demo.local")
    target = await _create(client, author, title="À commenter")
    posted = await client.post(
        f"/api/v1/contributions/{target}/comments",
        json={"body": "Un avis argumenté."},
        headers=author,
    )
    assert posted.status_code == 201, posted.text
    comment_id = posted.json()["id"]
    reporter = await login(client, "participant.01@demo.local")
    report = await client.post(
        f"/api/v1/comments/{comment_id}/reports",
        json={"reason": "Propos insultants"},
        headers=reporter,
    )
    assert report.status_code == 201 and report.json()["id"] > 0
    citizen_hide = await client.post(
        f"/api/v1/comments/{comment_id}/moderation", json={"action": "hide", "reason": "Insulte"},
        headers=reporter,
    )  # fmt: skip
    assert citizen_hide.status_code == 403

    moderator = await login(client, "moderateur@demo.local")
    hidden = await client.post(
        f"/api/v1/comments/{comment_id}/moderation",
        json={"action": "hide", "reason": "Propos injurieux"}, headers=moderator,
    )  # fmt: skip
    assert hidden.status_code == 200 and hidden.json()["reports_resolved"] == 1
    (shown,) = (await client.get(f"/api/v1/contributions/{target}/comments")).json()
    assert shown["visibility"] == "hidden" and shown["body"] is None
    assert shown["moderation_reason"] == "Propos injurieux"


async def test_constraint_layers_explain_their_rule(client):
    plu = (await client.get("/api/v1/concertations/plu-de-la-mel")).json()
    trees = (await client.get("/api/v1/concertations/planter-un-arbre-a-lyon")).json()
    by_slug = {lay["slug"]: lay for lay in plu["reference_layers"] + trees["reference_layers"]}
    assert by_slug["arbres-existants"]["explanation"] == (
        "Votre contribution doit être à au moins 5 m de tout élément de la couche "
        "« Arbres existants (démo) » (sinon elle est refusée)."
    )
    assert "en dehors des éléments" in by_slug["batiments"]["explanation"]
    assert by_slug["secteurs-de-projet"]["explanation"] == ""  # a reference layer
