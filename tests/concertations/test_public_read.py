"""The reader's answers (public views, `public_read`) equal the app role's (the tables)
for an anonymous caller: every demo contribution, its comments, held ones not found."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from carto.concertations import contributions, public_read, reactions
from carto.errors import NotFound

PHOTO = "ab" + "0" * 30
SETUP = (  # a photo, a held reply and a hidden comment on the first commented contribution
    "INSERT INTO media_photo (id, content_type, width, height, data, thumb, thumb_width, "
    f"thumb_height, etag) VALUES ('{PHOTO}', 'image/jpeg', 4, 3, '', '', 4, 3, 'e')",
    f"UPDATE contribution SET photo_id = '{PHOTO}' WHERE id = (SELECT min(id) FROM "
    "contribution WHERE is_demo AND comments > 0 AND visibility = 'published')",
    "INSERT INTO contribution_comment (contribution_id, concertation_id, parent_id, "
    "author_id, body, visibility) SELECT contribution_id, concertation_id, id, author_id, "
    "'Appelez le 06 12 34 56 78', 'held' FROM contribution_comment ORDER BY id LIMIT 1",
    "UPDATE contribution_comment SET visibility = 'hidden', moderation_reason = 'Hors sujet' "
    "WHERE id = (SELECT max(id) FROM contribution_comment WHERE visibility = 'published')",
)


async def test_anonymous_answers_match_the_tables(session):
    for statement in SETUP:
        await session.execute(text(statement))
    rows = (
        await session.execute(
            text(
                "SELECT c.id, c.visibility, c.comments, c.photo_id IS NOT NULL AS photo, "
                "EXISTS (SELECT 1 FROM contribution_answer a WHERE a.contribution_id = c.id) "
                "AS answered FROM contribution c WHERE c.is_demo ORDER BY c.id"
            )
        )
    ).all()
    seen = {"hidden": 0, "held": 0, "photo": 0, "answered": 0, "comments": 0}
    for r in rows:
        if r.visibility == "held":
            seen["held"] += 1
            with pytest.raises(NotFound):
                await public_read.get_contribution(session=session, contribution_id=r.id)
            with pytest.raises(NotFound):
                await contributions.get_contribution(session=session, contribution_id=r.id)
            continue
        public = await public_read.get_contribution(session=session, contribution_id=r.id)
        tables = await contributions.get_contribution(session=session, contribution_id=r.id)
        assert public == tables, r.id
        seen["hidden"] += r.visibility == "hidden"
        seen["photo"] += bool(public.properties.photo_url)
        seen["answered"] += public.properties.answer is not None
        if r.visibility == "published" and r.comments:
            seen["comments"] += 1
            threads = await public_read.list_comments(session=session, contribution_id=r.id)
            expected = await reactions.list_comments(session=session, contribution_id=r.id)
            assert threads == expected and threads, r.id
    assert all(seen.values()), seen  # every kind of row was compared
