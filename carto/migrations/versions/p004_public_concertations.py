"""concertation pages read as the reader: the list, a concertation, its contributions, comments

Revision ID: p004
Revises: p003
Create Date: 2026-12-07

The anonymous reads of concertations move to the reader role, which may read
`public_layers` and nothing else. These views carry what those answers publish and
nothing more: the author's pseudonym or workshop label, never an e-mail, an IP hash,
an account id or a hold reason. Held contributions and comments are left out (the
public never sees them); hidden ones keep their place, their public reason and their
counters, without their text, photo or geometry (what the public sees today). The
signed-in callers who see more (authors, moderators) keep reading as the app role.

No view has a geometry column, on purpose: the OGC API publishes the spatial views
only, so these pages are not map layers. Shapes come as GeoJSON text, and a
contribution's bounding box and point on surface as numbers (the `bbox` filter, the
synthesis's map and hotspots). The synthesis's counts come from aggregate views
(`COUNTS`): how many took part is public, who is not (no account id leaves them).
p001's default privileges grant the views to `carto_reader` (and `carto_app`).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "p004"
down_revision: str | None = "p003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = {
    "concertation_pages": """
        SELECT k.id, k.slug, k.title, k.description, k.kind,
               k.opens_at, k.closes_at, k.archived_at,
               ST_AsGeoJSON(k.perimeter, 6) AS perimeter,
               ST_AsGeoJSON(k.perimeter, 5) AS perimeter_coarse,
               k.allowed_geometry_types, k.allowed_kinds, k.is_demo,
               ARRAY(SELECT a.name FROM public.concertation_authority o
                     JOIN public.authority a ON a.id = o.authority_id
                     WHERE o.concertation_id = k.id) AS authorities,
               (SELECT count(*) FROM public.contribution c
                 WHERE c.concertation_id = k.id AND c.visibility = 'published') AS contributions
        FROM public.concertation k
    """,
    "concertation_themes": """
        SELECT t.id, t.concertation_id, t.slug, t.label, t.color, t.icon, t.description,
               t.sort_order
        FROM public.concertation_theme t
    """,
    "concertation_phases": """
        SELECT p.id, p.concertation_id, p.phase, p.starts_at, p.description
        FROM public.concertation_phase p
    """,
    "contribution_pages": """
        SELECT c.id, c.concertation_id, k.slug AS concertation, c.theme_id,
               t.slug AS theme, t.label AS theme_label, t.color AS theme_color,
               c.kind, c.channel, c.visibility, c.moderation_reason,
               CASE WHEN c.visibility = 'hidden' THEN NULL ELSE c.title END AS title,
               CASE WHEN c.visibility = 'hidden' THEN NULL ELSE c.body END AS body,
               CASE WHEN c.visibility = 'hidden' THEN NULL ELSE c.photo_id END AS photo_id,
               CASE WHEN c.visibility = 'hidden' THEN NULL ELSE p.content_type END
                 AS photo_content_type,
               p.width AS photo_width, p.height AS photo_height,
               u.pseudonym, c.author_label,
               c.commune_insee AS commune, c.phase,
               c.votes_for, c.votes_against, c.supports, c.comments,
               a.status AS answer_status, a.text AS answer_text, a.updated_at AS answered_at,
               au.name AS answer_authority,
               cardinality(c.flags) > 0 AS flagged, c.constraint_notes,
               c.created_at, c.updated_at,
               CASE WHEN c.visibility = 'hidden' THEN NULL ELSE ST_AsGeoJSON(c.geom, 7) END
                 AS geometry,
               CASE WHEN c.visibility = 'hidden' THEN NULL ELSE ST_X(ST_PointOnSurface(c.geom)) END
                 AS lon,
               CASE WHEN c.visibility = 'hidden' THEN NULL ELSE ST_Y(ST_PointOnSurface(c.geom)) END
                 AS lat,
               c.author_id IS NULL AS offline,
               ST_XMin(c.geom) AS xmin, ST_YMin(c.geom) AS ymin,
               ST_XMax(c.geom) AS xmax, ST_YMax(c.geom) AS ymax
        FROM public.contribution c
        JOIN public.concertation k ON k.id = c.concertation_id
        JOIN public.concertation_theme t ON t.id = c.theme_id
        LEFT JOIN public.app_user u ON u.id = c.author_id
        LEFT JOIN public.contribution_answer a ON a.contribution_id = c.id
        LEFT JOIN public.authority au ON au.id = a.authority_id
        LEFT JOIN public.media_photo p ON p.id = c.photo_id
        WHERE c.visibility <> 'held'
    """,
    "contribution_comments": """
        SELECT m.id, m.contribution_id, m.parent_id, u.pseudonym, m.visibility,
               CASE WHEN m.visibility = 'hidden' THEN NULL ELSE m.body END AS body,
               m.moderation_reason, m.created_at
        FROM public.contribution_comment m
        LEFT JOIN public.app_user u ON u.id = m.author_id
        WHERE m.visibility <> 'held'
    """,
}
# The synthesis's counts, per concertation, commune or contribution: how many people
# took part is published, who they are is not (no account id leaves these views).
UNFLAGGED, FLAGGED = "cardinality(c.flags) = 0", "cardinality(c.flags) > 0"
COUNTS = {
    "concertation_visibility": """
        SELECT c.concertation_id, c.visibility, count(*) AS count
        FROM public.contribution c GROUP BY c.concertation_id, c.visibility
    """,
    "concertation_communes": f"""
        SELECT k.id AS concertation_id, m.insee, m.nom, m.population,
               count(c.id) FILTER (WHERE {UNFLAGGED}) AS contributions,
               count(c.id) FILTER (WHERE {FLAGGED}) AS flagged,
               count(DISTINCT c.author_id) FILTER (WHERE {UNFLAGGED}) AS participants
        FROM public.concertation k
        JOIN public.commune m ON ST_Intersects(k.perimeter, ST_PointOnSurface(m.geom))
        LEFT JOIN public.contribution c ON c.commune_insee = m.insee
             AND c.concertation_id = k.id AND c.visibility = 'published'
        GROUP BY k.id, m.insee
    """,
    "contribution_votes": """
        SELECT c.id AS contribution_id, c.concertation_id,
               count(v.id) FILTER (WHERE cardinality(v.flags) = 0 AND v.value = 1) AS votes_for,
               count(v.id) FILTER (WHERE cardinality(v.flags) = 0 AND v.value = -1)
                 AS votes_against,
               count(v.id) FILTER (WHERE cardinality(v.flags) > 0) AS flagged
        FROM public.contribution c
        LEFT JOIN public.contribution_vote v
          ON v.contribution_id = c.id AND v.concertation_id = c.concertation_id
        WHERE c.visibility = 'published'
        GROUP BY c.id
    """,
    "concertation_participation": f"""
        SELECT k.id AS concertation_id,
               (SELECT count(*) FROM public.contribution_support s JOIN public.contribution c
                  ON c.id = s.contribution_id AND c.concertation_id = s.concertation_id
                 WHERE c.concertation_id = k.id AND c.visibility = 'published') AS supports,
               (SELECT count(*) FROM public.contribution_comment m JOIN public.contribution c
                  ON c.id = m.contribution_id AND c.concertation_id = m.concertation_id
                 WHERE c.concertation_id = k.id AND c.visibility = 'published'
                   AND m.visibility = 'published') AS comments,
               (SELECT count(*) FROM public.contribution c WHERE c.concertation_id = k.id
                   AND c.visibility = 'published' AND c.author_id IS NULL AND {UNFLAGGED})
                 AS offline_contributions,
               (SELECT count(DISTINCT u) FROM (
                  SELECT c.author_id AS u FROM public.contribution c
                   WHERE c.concertation_id = k.id AND c.visibility = 'published' AND {UNFLAGGED}
                  UNION ALL SELECT v.user_id FROM public.contribution_vote v
                    JOIN public.contribution c
                      ON c.id = v.contribution_id AND c.concertation_id = v.concertation_id
                   WHERE c.concertation_id = k.id AND cardinality(v.flags) = 0
                  UNION ALL SELECT m.author_id FROM public.contribution_comment m
                    JOIN public.contribution c
                      ON c.id = m.contribution_id AND c.concertation_id = m.concertation_id
                   WHERE c.concertation_id = k.id AND m.visibility = 'published'
                  UNION ALL SELECT s.user_id FROM public.contribution_support s
                    JOIN public.contribution c
                      ON c.id = s.contribution_id AND c.concertation_id = s.concertation_id
                   WHERE c.concertation_id = k.id) p
                 WHERE u IS NOT NULL) AS participants
        FROM public.concertation k
    """,
}
COMMENT = "Page publique (sans géométrie : pas une couche cartographique)."


def upgrade() -> None:
    for name, body in {**VIEWS, **COUNTS}.items():
        op.execute(f"CREATE VIEW public_layers.{name} AS {body}")
        op.execute(f"COMMENT ON VIEW public_layers.{name} IS '{COMMENT}'")


def downgrade() -> None:
    for name in reversed({**VIEWS, **COUNTS}):
        op.execute(f"DROP VIEW IF EXISTS public_layers.{name}")
