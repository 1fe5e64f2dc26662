"""A posteriori moderation, the personal-data hold, and official answers."""

from __future__ import annotations

from tests.concertations.conftest import LILLE, count, feature
from tests.conftest import login


async def _contribute(client, k, headers, **props):
    resp = await client.post(
        f"/api/v1/concertations/{k.id}/contributions",
        json=feature(*LILLE, **props),
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _in_view(session, cid) -> int:
    return await count(
        session, "SELECT count(*) FROM public_layers.contributions WHERE id = :i", i=cid
    )


async def test_report_hide_restore_with_public_reason(client, session, make_concertation):
    k = await make_concertation()
    author = await login(client, "citoyen@demo.local")
    made = await _contribute(client, k, author, title="Des bancs rue Solférino")
    reporter = await login(client, "participant.01@demo.local")
    url = f"/api/v1/contributions/{made['id']}"
    first = await client.post(
        f"{url}/reports", json={"reason": "Propos blessants"}, headers=reporter
    )
    assert first.status_code == 201 and first.json()["already_reported"] is False
    twice = await client.post(f"{url}/reports", json={"reason": "Encore"}, headers=reporter)
    assert twice.json()["already_reported"] is True
    moderator = await login(client, "moderateur@demo.local")
    queue = (await client.get("/api/v1/moderation/queue", headers=moderator)).json()
    item = next(i for i in queue["reported"] if i["id"] == made["id"])
    assert item["reports"] == 1 and item["report_reasons"] == ["Propos blessants"]
    assert item["author"] == "Camille (démo)" and "@" not in str(item)

    no_reason = await client.post(f"{url}/moderation", json={"action": "hide"}, headers=moderator)
    assert no_reason.status_code == 422 and "motif public" in no_reason.json()["message"]
    citizen_try = await client.post(
        f"{url}/moderation", json={"action": "hide", "reason": "Parce que"}, headers=reporter
    )
    assert citizen_try.status_code == 403
    hidden = await client.post(
        f"{url}/moderation",
        json={"action": "hide", "reason": "Attaque personnelle (charte)"},
        headers=moderator,
    )
    assert hidden.status_code == 200 and hidden.json()["reports_resolved"] == 1
    tombstone = (await client.get(url)).json()
    assert tombstone["properties"]["visibility"] == "hidden"
    assert tombstone["properties"]["moderation_reason"] == "Attaque personnelle (charte)"
    assert tombstone["properties"]["title"] is None and tombstone["geometry"] is None
    assert await _in_view(session, made["id"]) == 0
    listed = (await client.get(f"/api/v1/concertations/{k.id}/contributions")).json()
    assert made["id"] not in [f["id"] for f in listed["features"]]
    again = await client.post(
        f"{url}/moderation", json={"action": "hide", "reason": "x y z"}, headers=moderator
    )
    assert again.status_code == 409

    restored = await client.post(f"{url}/moderation", json={"action": "restore"}, headers=moderator)
    assert restored.status_code == 200 and restored.json()["visibility"] == "published"
    assert await _in_view(session, made["id"]) == 1
    events = await count(
        session, "SELECT count(*) FROM moderation_event WHERE contribution_id = :i", i=made["id"]
    )
    assert events == 2


async def test_personal_data_is_held_until_a_moderator_looks(client, session, make_concertation):
    k = await make_concertation()
    author = await login(client, "citoyen@demo.local")
    made = await _contribute(
        client,
        k,
        author,
        title="Horaires de la piscine",
        body="Rappelez-moi au 06 12 34 56 78 s'il vous plaît.",
    )
    assert made["properties"]["visibility"] == "held"
    assert await _in_view(session, made["id"]) == 0
    url = f"/api/v1/contributions/{made['id']}"
    assert (await client.get(url)).status_code == 404  # anonymous: not published
    assert (await client.get(url, headers=author)).status_code == 200  # the author sees it
    moderator = await login(client, "moderateur@demo.local")
    queue = (
        await client.get(f"/api/v1/moderation/queue?concertation_id={k.id}", headers=moderator)
    ).json()
    held = next(i for i in queue["held"] if i["id"] == made["id"])
    assert held["hold_reason"] == "Données personnelles possibles : numéro de téléphone"
    released = await client.post(f"{url}/moderation", json={"action": "release"}, headers=moderator)
    assert released.status_code == 200
    assert await _in_view(session, made["id"]) == 1

    comment = await client.post(
        f"{url}/comments", json={"body": "Écrivez à jean.d@exemple.fr"}, headers=author
    )
    assert comment.status_code == 201 and comment.json()["visibility"] == "held"
    public = (await client.get(f"{url}/comments")).json()
    assert public == []
    mine = (await client.get(f"{url}/comments", headers=author)).json()
    assert [c["visibility"] for c in mine] == ["held"]


async def test_threaded_comments_and_comment_moderation(client, make_concertation):
    k = await make_concertation()
    author = await login(client, "citoyen@demo.local")
    other = await login(client, "participant.02@demo.local")
    made = await _contribute(client, k, author)
    url = f"/api/v1/contributions/{made['id']}/comments"
    root = (await client.post(url, json={"body": "Bonne idée"}, headers=other)).json()
    reply = await client.post(
        url, json={"body": "Merci !", "parent_id": root["id"]}, headers=author
    )
    assert reply.status_code == 201
    stray = await client.post(url, json={"body": "?", "parent_id": 999999}, headers=author)
    assert stray.status_code == 422
    moderator = await login(client, "moderateur@demo.local")
    hide = await client.post(
        f"/api/v1/comments/{root['id']}/moderation",
        json={"action": "hide", "reason": "Hors charte"},
        headers=moderator,
    )
    assert hide.status_code == 200
    threads = (await client.get(url)).json()
    assert len(threads) == 1 and threads[0]["body"] is None
    assert threads[0]["moderation_reason"] == "Hors charte"
    assert [r["body"] for r in threads[0]["replies"]] == ["Merci !"]
    detail = (await client.get(f"/api/v1/contributions/{made['id']}")).json()
    assert detail["properties"]["comments"] == 1  # hidden comments are not counted


async def test_official_answer_by_organiser_admin_only(client, session, make_concertation):
    k = await make_concertation()
    author = await login(client, "citoyen@demo.local")
    made = await _contribute(client, k, author)
    url = f"/api/v1/contributions/{made['id']}/answer"
    body = {"status": "a_l_etude", "text": "Les services étudient le tracé avec la MEL."}
    assert (await client.put(url, json=body)).status_code == 401
    for email in (
        "citoyen@demo.local",
        "moderateur@demo.local",
        "agent.voirie.mel@demo.local",
        "agent.eclairage.gpso@demo.local",
    ):
        refused = await client.put(url, json=body, headers=await login(client, email))
        assert refused.status_code == 403, email
    admin = await login(client, "admin@demo.local")
    short = await client.put(url, json={"status": "retenue", "text": "Oui"}, headers=admin)
    assert short.status_code == 422
    answered = await client.put(url, json=body, headers=admin)
    assert answered.status_code == 200
    assert answered.json()["label"] == "À l'étude" and answered.json()["authority"] == "Lille"
    revised = await client.put(
        url, json={"status": "retenue", "text": "Le tracé est retenu."}, headers=admin
    )
    assert revised.json()["label"] == "Retenue"
    props = (await client.get(f"/api/v1/contributions/{made['id']}")).json()["properties"]
    assert (
        props["answer"]["status"] == "retenue" and props["answer"]["text"] == "Le tracé est retenu."
    )
    row = (
        await session.execute(
            __import__("sqlalchemy").text(
                "SELECT answer, answer_status, answer_text FROM public_layers.contributions "
                "WHERE id = :i"
            ),
            {"i": made["id"]},
        )
    ).one()
    assert tuple(row) == ("Retenue", "retenue", "Le tracé est retenu.")


async def test_archived_concertation_stays_readable(client, make_concertation):
    k = await make_concertation()
    author = await login(client, "citoyen@demo.local")
    made = await _contribute(client, k, author)
    admin = await login(client, "admin@demo.local")
    citizen_try = await client.post(f"/api/v1/concertations/{k.id}/archive", headers=author)
    assert citizen_try.status_code == 403
    archived = await client.post(f"/api/v1/concertations/{k.id}/archive", headers=admin)
    assert archived.status_code == 200 and archived.json()["status"] == "archivee"
    listed = (await client.get(f"/api/v1/concertations/{k.id}/contributions")).json()
    assert [f["id"] for f in listed["features"]] == [made["id"]]
    vote = await client.post(
        f"/api/v1/contributions/{made['id']}/votes", json={"value": 1}, headers=author
    )
    assert vote.status_code == 422 and vote.json()["error"] == "concertation_closed"
    answer = await client.put(
        f"/api/v1/contributions/{made['id']}/answer",
        json={"status": "retenue", "text": "Trop tard pour répondre."},
        headers=admin,
    )
    assert answer.status_code == 409
