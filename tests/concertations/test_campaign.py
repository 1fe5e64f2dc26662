"""Campaign detection: bursts from one account or one address, declared outside residents."""

from __future__ import annotations

from sqlalchemy import text

from carto.concertations.campaign import CONTRIBUTION_BURSTS, VOTE_BURSTS, network_hash
from tests.concertations.conftest import LILLE, count, feature
from tests.conftest import login


async def _post(client, k, headers, n=0):
    resp = await client.post(
        f"/api/v1/concertations/{k.id}/contributions",
        json=feature(LILLE[0] + n * 1e-4, LILLE[1], title=f"Proposition numéro {n}"),
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


async def _flags(session, table, ids):
    rows = await session.execute(
        text(f"SELECT id, flags FROM {table} WHERE id = ANY(:ids) ORDER BY id"), {"ids": ids}
    )
    return {r.id: sorted(r.flags) for r in rows}


async def test_account_burst_flags_the_whole_burst(client, session, make_concertation):
    k = await make_concertation()
    threshold = CONTRIBUTION_BURSTS["burst_account"].count
    headers = await login(client, "participant.05@demo.local")
    ids = [await _post(client, k, headers, n) for n in range(threshold - 1)]
    assert all(f == [] for f in (await _flags(session, "contribution", ids)).values())
    ids.append(await _post(client, k, headers, threshold))
    flags = await _flags(session, "contribution", ids)
    assert all(f == ["burst_account"] for f in flags.values()), flags
    detail = (await client.get(f"/api/v1/contributions/{ids[0]}")).json()
    assert detail["properties"]["flagged"] is True  # still visible, marked
    view = await count(
        session,
        "SELECT count(*) FROM public_layers.contributions WHERE id = ANY(:ids) AND flagged",
        ids=ids,
    )
    assert view == threshold
    moderator = await login(client, "moderateur@demo.local")
    queue = (
        await client.get(f"/api/v1/moderation/queue?concertation_id={k.id}", headers=moderator)
    ).json()
    assert {i["id"] for i in queue["flagged"]} == set(ids)
    assert queue["flagged"][0]["flag_labels"] == [
        "Rafale de contributions ou de votes d'un même compte"
    ]
    cleared = await client.post(
        f"/api/v1/contributions/{ids[0]}/moderation",
        json={"action": "clear_flags", "reason": "Atelier en ligne organisé par la mairie"},
        headers=moderator,
    )
    assert cleared.status_code == 200 and cleared.json()["flags"] == []


async def test_network_burst_across_accounts(client, session, make_concertation):
    k = await make_concertation()
    threshold = CONTRIBUTION_BURSTS["burst_network"].count
    ids = []
    for n in range(1, threshold + 1):
        headers = await login(client, f"participant.{n:02d}@demo.local")
        ids.append(await _post(client, k, headers, n))
    flags = await _flags(session, "contribution", ids)
    assert all(f == ["burst_network"] for f in flags.values()), flags
    stored = await session.scalar(
        text("SELECT ip_hash FROM contribution WHERE id = :i"), {"i": ids[0]}
    )
    assert len(stored) == 32 and "127.0.0.1" not in stored
    columns = await session.execute(
        text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public_layers' AND table_name = 'contributions'"
        )
    )
    assert "ip_hash" not in set(columns.scalars())


def test_network_hash_is_keyed_and_daily():
    from datetime import date

    a = network_hash("203.0.113.7", "key", date(2026, 3, 1))
    assert a == network_hash("203.0.113.7", "key", date(2026, 3, 1))
    assert a != network_hash("203.0.113.7", "key", date(2026, 3, 2))
    assert a != network_hash("203.0.113.7", "other", date(2026, 3, 1))
    assert network_hash(None, "key", date(2026, 3, 1)) is None


async def test_declared_outside_residents_are_flagged_and_unflagged(
    client, session, make_concertation
):
    k = await make_concertation()
    other = await make_concertation(slug="t-other")
    headers = await login(client, "participant.07@demo.local")
    mine = await _post(client, k, headers)
    elsewhere = await _post(client, other, headers)
    theirs = await _post(client, k, await login(client, "participant.06@demo.local"))
    vote = await client.post(  # on another's contribution: nobody votes for their own
        f"/api/v1/contributions/{theirs}/votes", json={"value": 1}, headers=headers
    )
    assert vote.status_code == 201
    url = f"/api/v1/concertations/{k.id}/residence"
    boulogne = await client.put(url, json={"commune": "92012"}, headers=headers)
    assert boulogne.status_code == 200
    assert boulogne.json()["resident"] is False and boulogne.json()["flagged_items"] == 2
    assert (await _flags(session, "contribution", [mine, elsewhere])) == {
        mine: ["outside_perimeter"],
        elsewhere: [],
    }
    later = await _post(client, k, headers, 3)
    assert (await _flags(session, "contribution", [later]))[later] == ["outside_perimeter"]
    lille = await client.put(url, json={"commune": "59350"}, headers=headers)
    assert lille.json()["resident"] is True
    assert all(f == [] for f in (await _flags(session, "contribution", [mine, later])).values())
    unknown = await client.put(url, json={"commune": "75056"}, headers=headers)
    assert unknown.status_code == 422 and "Commune inconnue" in unknown.json()["message"]
    empty = await client.put(url, json={}, headers=headers)
    assert empty.status_code == 422


async def test_vote_burst_is_flagged(client, session):
    plu = next(
        c
        for c in (await client.get("/api/v1/concertations")).json()
        if c["slug"] == "plu-de-la-mel"
    )
    threshold = VOTE_BURSTS["burst_account"].count
    listed = await client.get(f"/api/v1/concertations/{plu['id']}/contributions?limit=100")
    headers = await login(client, "participant.30@demo.local")
    own = (await client.get(f"/api/v1/concertations/{plu['id']}/mine", headers=headers)).json()
    targets = [f["id"] for f in listed.json()["features"] if f["id"] not in own["contributions"]][
        :threshold
    ]
    for cid in targets:
        resp = await client.post(
            f"/api/v1/contributions/{cid}/votes", json={"value": 1}, headers=headers
        )
        assert resp.status_code in (200, 201)
    flagged = await count(
        session,
        "SELECT count(*) FROM contribution_vote v JOIN app_user u ON u.id = v.user_id "
        "WHERE u.email = 'participant.30@demo.local' AND 'burst_account' = ANY(v.flags)",
    )
    assert flagged == threshold
