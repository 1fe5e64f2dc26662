"""concertations: concertations, contributions, votes, comments, moderation, answers

Also the counter triggers that keep `contribution.votes_for/against/supports/comments`
exact (increments under the row lock, so concurrent votes never lose one), and the
public views read by OGC, tiles and exports: `public_layers.concertations`,
`public_layers.contributions` (no author, no e-mail, no IP hash; hidden and held
contributions excluded), `public_layers.reference_layers` and
`public_layers.reference_features`.

Revision ID: c001
Revises: 0001
Create Date: 2026-11-22 00:35:13.598909
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "c001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("concertations",)
depends_on: str | Sequence[str] | None = "l001"

TRIGGERS = [
    ("contribution_vote", "contribution_vote_counts"),
    ("contribution_support", "contribution_support_counts"),
    ("contribution_comment", "contribution_comment_counts"),
]

COUNTERS = [
    """
    CREATE FUNCTION contribution_vote_counts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE contribution SET votes_for = votes_for - (OLD.value = 1)::int,
                                votes_against = votes_against - (OLD.value = -1)::int
         WHERE id = OLD.contribution_id;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE contribution SET votes_for = votes_for + (NEW.value = 1)::int,
                                votes_against = votes_against + (NEW.value = -1)::int
         WHERE id = NEW.contribution_id;
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER contribution_vote_counts
    AFTER INSERT OR DELETE OR UPDATE OF value, contribution_id ON contribution_vote
    FOR EACH ROW EXECUTE FUNCTION contribution_vote_counts()
    """,
    """
    CREATE FUNCTION contribution_support_counts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        UPDATE contribution SET supports = supports - 1 WHERE id = OLD.contribution_id;
      ELSE
        UPDATE contribution SET supports = supports + 1 WHERE id = NEW.contribution_id;
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER contribution_support_counts
    AFTER INSERT OR DELETE ON contribution_support
    FOR EACH ROW EXECUTE FUNCTION contribution_support_counts()
    """,
    """
    CREATE FUNCTION contribution_comment_counts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.visibility = 'published' THEN
        UPDATE contribution SET comments = comments - 1 WHERE id = OLD.contribution_id;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.visibility = 'published' THEN
        UPDATE contribution SET comments = comments + 1 WHERE id = NEW.contribution_id;
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER contribution_comment_counts
    AFTER INSERT OR DELETE OR UPDATE OF visibility, contribution_id ON contribution_comment
    FOR EACH ROW EXECUTE FUNCTION contribution_comment_counts()
    """,
]

STATUS_SQL = """CASE WHEN k.archived_at IS NOT NULL THEN 'archivee'
            WHEN now() < k.opens_at THEN 'a_venir'
            WHEN now() >= k.closes_at THEN 'close'
            ELSE 'ouverte' END"""

ANSWER_LABEL_SQL = """CASE a.status WHEN 'retenue' THEN 'Retenue'
            WHEN 'a_l_etude' THEN 'À l''étude'
            WHEN 'non_retenue' THEN 'Non retenue'
            WHEN 'hors_sujet' THEN 'Hors sujet'
            WHEN 'hors_competence' THEN 'Pas de notre compétence' END"""

VIEWS = [
    f"""
    CREATE VIEW public_layers.concertations AS
    SELECT k.id, k.slug, k.title, k.description, k.kind,
           {STATUS_SQL} AS status,
           k.opens_at, k.closes_at, k.archived_at,
           (SELECT count(*) FROM public.contribution c
             WHERE c.concertation_id = k.id AND c.visibility = 'published') AS contributions,
           k.perimeter AS geom
    FROM public.concertation k
    """,
    f"""
    CREATE VIEW public_layers.contributions AS
    SELECT c.id, k.slug AS concertation, c.concertation_id,
           t.slug AS theme, t.label AS theme_label, t.color AS theme_color,
           c.kind, c.title, c.body, c.channel,
           c.votes_for, c.votes_against, c.supports, c.comments,
           {ANSWER_LABEL_SQL} AS answer,
           a.status AS answer_status, a.text AS answer_text, a.updated_at AS answered_at,
           cardinality(c.flags) > 0 AS flagged,
           c.commune_insee AS commune, c.phase, c.photo_id,
           c.created_at, c.updated_at, c.geom, c.geom_3857
    FROM public.contribution c
    JOIN public.concertation k ON k.id = c.concertation_id
    JOIN public.concertation_theme t ON t.id = c.theme_id
    LEFT JOIN public.contribution_answer a ON a.contribution_id = c.id
    WHERE c.visibility = 'published'
    """,
    """
    CREATE VIEW public_layers.reference_layers AS
    SELECT l.id, l.slug, k.slug AS concertation, l.concertation_id, l.title, l.description,
           l.role, l.rule, l.distance_m, l.action, l.message, l.color, l.source,
           (SELECT count(*) FROM public.reference_feature f WHERE f.layer_id = l.id) AS features,
           l.created_at
    FROM public.reference_layer l JOIN public.concertation k ON k.id = l.concertation_id
    """,
    """
    CREATE VIEW public_layers.reference_features AS
    SELECT f.id, f.layer_id, l.slug AS layer, l.title AS layer_title, l.role AS layer_role,
           l.color AS layer_color, k.slug AS concertation, l.concertation_id,
           f.properties, f.geom
    FROM public.reference_feature f
    JOIN public.reference_layer l ON l.id = f.layer_id
    JOIN public.concertation k ON k.id = l.concertation_id
    """,
]


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_geospatial_table(
        "concertation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column(
            "perimeter",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("allowed_geometry_types", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("allowed_kinds", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('plu', 'plantation', 'autre')", name=op.f("ck_concertation_kind_known")
        ),
        sa.CheckConstraint("closes_at > opens_at", name=op.f("ck_concertation_dates_ordered")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concertation")),
        sa.UniqueConstraint("slug", name=op.f("uq_concertation_slug")),
    )
    op.create_geospatial_index(
        "idx_concertation_perimeter",
        "concertation",
        ["perimeter"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "concertation_authority",
        sa.Column("concertation_id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_concertation_authority_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["concertation_id"],
            ["concertation.id"],
            name=op.f("fk_concertation_authority_concertation_id_concertation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "concertation_id", "authority_id", name=op.f("pk_concertation_authority")
        ),
    )
    op.create_index(
        op.f("ix_concertation_authority_authority_id"),
        "concertation_authority",
        ["authority_id"],
        unique=False,
    )
    op.create_table(
        "concertation_phase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concertation_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "phase IN ('information', 'contribution', 'analyse', 'restitution')",
            name=op.f("ck_concertation_phase_phase_known"),
        ),
        sa.ForeignKeyConstraint(
            ["concertation_id"],
            ["concertation.id"],
            name=op.f("fk_concertation_phase_concertation_id_concertation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concertation_phase")),
        sa.UniqueConstraint(
            "concertation_id", "phase", name=op.f("uq_concertation_phase_concertation_id")
        ),
    )
    op.create_index(
        op.f("ix_concertation_phase_concertation_id"),
        "concertation_phase",
        ["concertation_id"],
        unique=False,
    )
    op.create_table(
        "concertation_residence",
        sa.Column("concertation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("resident", sa.Boolean(), nullable=False),
        sa.Column("commune_insee", sa.String(length=5), nullable=True),
        sa.Column(
            "declared_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["concertation_id"],
            ["concertation.id"],
            name=op.f("fk_concertation_residence_concertation_id_concertation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_concertation_residence_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "concertation_id", "user_id", name=op.f("pk_concertation_residence")
        ),
    )
    op.create_table(
        "concertation_theme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concertation_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("icon", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "color ~ '^#[0-9a-fA-F]{6}$'", name=op.f("ck_concertation_theme_color_hex")
        ),
        sa.ForeignKeyConstraint(
            ["concertation_id"],
            ["concertation.id"],
            name=op.f("fk_concertation_theme_concertation_id_concertation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concertation_theme")),
        sa.UniqueConstraint(
            "concertation_id", "slug", name=op.f("uq_concertation_theme_concertation_id")
        ),
    )
    op.create_index(
        op.f("ix_concertation_theme_concertation_id"),
        "concertation_theme",
        ["concertation_id"],
        unique=False,
    )
    op.create_table(
        "reference_layer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concertation_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "action IN ('reject', 'flag')", name=op.f("ck_reference_layer_action_known")
        ),
        sa.CheckConstraint(
            "role <> 'constraint' OR rule IS NOT NULL",
            name=op.f("ck_reference_layer_constraint_has_rule"),
        ),
        sa.CheckConstraint(
            "role IN ('reference', 'constraint')", name=op.f("ck_reference_layer_role_known")
        ),
        sa.CheckConstraint(
            "rule IS DISTINCT FROM 'min_distance' OR distance_m > 0",
            name=op.f("ck_reference_layer_distance_set"),
        ),
        sa.CheckConstraint(
            "rule IS NULL OR rule IN ('no_overlap', 'min_distance', 'inside')",
            name=op.f("ck_reference_layer_rule_known"),
        ),
        sa.ForeignKeyConstraint(
            ["concertation_id"],
            ["concertation.id"],
            name=op.f("fk_reference_layer_concertation_id_concertation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_layer")),
        sa.UniqueConstraint(
            "concertation_id", "slug", name=op.f("uq_reference_layer_concertation_id")
        ),
    )
    op.create_index(
        op.f("ix_reference_layer_concertation_id"),
        "reference_layer",
        ["concertation_id"],
        unique=False,
    )
    op.create_geospatial_table(
        "contribution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concertation_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "geom_3857",
            Geometry(
                srid=3857,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            sa.Computed("ST_Transform(geom, 3857)", persisted=True),
            nullable=False,
        ),
        sa.Column("commune_insee", sa.String(length=5), nullable=True),
        sa.Column("phase", sa.String(length=20), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("photo_id", sa.String(length=64), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_label", sa.String(length=80), nullable=True),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("source_ref", sa.String(length=120), nullable=True),
        sa.Column("ip_hash", sa.String(length=32), nullable=True),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("hold_reason", sa.String(length=200), nullable=True),
        sa.Column("moderation_reason", sa.Text(), nullable=True),
        sa.Column("flags", postgresql.ARRAY(sa.String(length=30)), nullable=False),
        sa.Column("constraint_notes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("votes_for", sa.Integer(), nullable=False),
        sa.Column("votes_against", sa.Integer(), nullable=False),
        sa.Column("supports", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "channel IN ('online', 'workshop', 'kiosk', 'paper', 'assisted')",
            name=op.f("ck_contribution_channel_known"),
        ),
        sa.CheckConstraint(
            "kind IN ('proposition', 'constat', 'question')",
            name=op.f("ck_contribution_kind_known"),
        ),
        sa.CheckConstraint(
            "visibility IN ('published', 'held', 'hidden')",
            name=op.f("ck_contribution_visibility_known"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["app_user.id"],
            name=op.f("fk_contribution_author_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["commune_insee"], ["commune.insee"], name=op.f("fk_contribution_commune_insee_commune")
        ),
        sa.ForeignKeyConstraint(
            ["concertation_id"],
            ["concertation.id"],
            name=op.f("fk_contribution_concertation_id_concertation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["app_user.id"],
            name=op.f("fk_contribution_entered_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["concertation_theme.id"],
            name=op.f("fk_contribution_theme_id_concertation_theme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contribution")),
        sa.UniqueConstraint(
            "concertation_id", "source_ref", name=op.f("uq_contribution_concertation_id")
        ),
    )
    op.create_geospatial_index(
        "idx_contribution_geom",
        "contribution",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "idx_contribution_geom_3857",
        "contribution",
        ["geom_3857"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_contribution_author_created", "contribution", ["author_id", "created_at"], unique=False
    )
    op.create_index(
        op.f("ix_contribution_commune_insee"), "contribution", ["commune_insee"], unique=False
    )
    op.create_index(
        "ix_contribution_concertation_created",
        "contribution",
        ["concertation_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_contribution_concertation_id"), "contribution", ["concertation_id"], unique=False
    )
    op.create_index(
        "ix_contribution_ip_hash_created", "contribution", ["ip_hash", "created_at"], unique=False
    )
    op.create_index(op.f("ix_contribution_theme_id"), "contribution", ["theme_id"], unique=False)
    op.create_geospatial_table(
        "reference_feature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("properties", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["layer_id"],
            ["reference_layer.id"],
            name=op.f("fk_reference_feature_layer_id_reference_layer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_feature")),
    )
    op.create_geospatial_index(
        "idx_reference_feature_geom",
        "reference_feature",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_reference_feature_layer_id"), "reference_feature", ["layer_id"], unique=False
    )
    op.create_table(
        "contribution_answer",
        sa.Column("contribution_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('retenue', 'a_l_etude', 'non_retenue', 'hors_sujet', 'hors_competence')",
            name=op.f("ck_contribution_answer_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["app_user.id"],
            name=op.f("fk_contribution_answer_answered_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_contribution_answer_authority_id_authority"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contribution.id"],
            name=op.f("fk_contribution_answer_contribution_id_contribution"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contribution_id", name=op.f("pk_contribution_answer")),
    )
    op.create_table(
        "contribution_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("ip_hash", sa.String(length=32), nullable=True),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("hold_reason", sa.String(length=200), nullable=True),
        sa.Column("moderation_reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "visibility IN ('published', 'held', 'hidden')",
            name=op.f("ck_contribution_comment_visibility_known"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["app_user.id"],
            name=op.f("fk_contribution_comment_author_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contribution.id"],
            name=op.f("fk_contribution_comment_contribution_id_contribution"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["contribution_comment.id"],
            name=op.f("fk_contribution_comment_parent_id_contribution_comment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contribution_comment")),
    )
    op.create_index(
        op.f("ix_contribution_comment_contribution_id"),
        "contribution_comment",
        ["contribution_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_contribution_comment_parent_id"),
        "contribution_comment",
        ["parent_id"],
        unique=False,
    )
    op.create_table(
        "contribution_support",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contribution.id"],
            name=op.f("fk_contribution_support_contribution_id_contribution"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_contribution_support_user_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contribution_support")),
        sa.UniqueConstraint(
            "contribution_id", "user_id", name=op.f("uq_contribution_support_contribution_id")
        ),
    )
    op.create_index(
        op.f("ix_contribution_support_contribution_id"),
        "contribution_support",
        ["contribution_id"],
        unique=False,
    )
    op.create_table(
        "contribution_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("reason", sa.String(length=280), nullable=True),
        sa.Column("ip_hash", sa.String(length=32), nullable=True),
        sa.Column("flags", postgresql.ARRAY(sa.String(length=30)), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("value IN (-1, 1)", name=op.f("ck_contribution_vote_value_known")),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contribution.id"],
            name=op.f("fk_contribution_vote_contribution_id_contribution"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_contribution_vote_user_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contribution_vote")),
        sa.UniqueConstraint(
            "contribution_id", "user_id", name=op.f("uq_contribution_vote_contribution_id")
        ),
    )
    op.create_index(
        op.f("ix_contribution_vote_contribution_id"),
        "contribution_vote",
        ["contribution_id"],
        unique=False,
    )
    op.create_index(
        "ix_contribution_vote_ip_hash_created",
        "contribution_vote",
        ["ip_hash", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_contribution_vote_user_created",
        "contribution_vote",
        ["user_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "moderation_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "action IN ('hide', 'restore', 'release', 'clear_flags')",
            name=op.f("ck_moderation_event_action_known"),
        ),
        sa.CheckConstraint(
            "(contribution_id IS NULL) <> (comment_id IS NULL)",
            name=op.f("ck_moderation_event_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["contribution_comment.id"],
            name=op.f("fk_moderation_event_comment_id_contribution_comment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contribution.id"],
            name=op.f("fk_moderation_event_contribution_id_contribution"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["app_user.id"],
            name=op.f("fk_moderation_event_moderator_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_event")),
    )
    op.create_index(
        op.f("ix_moderation_event_comment_id"), "moderation_event", ["comment_id"], unique=False
    )
    op.create_index(
        op.f("ix_moderation_event_contribution_id"),
        "moderation_event",
        ["contribution_id"],
        unique=False,
    )
    op.create_table(
        "moderation_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(contribution_id IS NULL) <> (comment_id IS NULL)",
            name=op.f("ck_moderation_report_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["contribution_comment.id"],
            name=op.f("fk_moderation_report_comment_id_contribution_comment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contribution.id"],
            name=op.f("fk_moderation_report_contribution_id_contribution"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["app_user.id"],
            name=op.f("fk_moderation_report_reporter_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_report")),
    )
    op.create_index(
        op.f("ix_moderation_report_comment_id"), "moderation_report", ["comment_id"], unique=False
    )
    op.create_index(
        op.f("ix_moderation_report_contribution_id"),
        "moderation_report",
        ["contribution_id"],
        unique=False,
    )
    op.create_index(
        "uq_moderation_report_comment",
        "moderation_report",
        ["reporter_id", "comment_id"],
        unique=True,
        postgresql_where=sa.text("contribution_id IS NULL"),
    )
    op.create_index(
        "uq_moderation_report_contribution",
        "moderation_report",
        ["reporter_id", "contribution_id"],
        unique=True,
        postgresql_where=sa.text("comment_id IS NULL"),
    )
    # ### end Alembic commands ###
    op.execute(
        "CREATE INDEX ix_reference_feature_geog ON reference_feature USING gist ((geom::geography))"
    )
    for statement in COUNTERS + VIEWS:
        op.execute(statement)


def downgrade() -> None:
    for view in ("reference_features", "reference_layers", "contributions", "concertations"):
        op.execute(f"DROP VIEW IF EXISTS public_layers.{view}")
    for table, function in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {function} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.execute("DROP INDEX IF EXISTS ix_reference_feature_geog")
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_index(
        "uq_moderation_report_contribution",
        table_name="moderation_report",
        postgresql_where=sa.text("comment_id IS NULL"),
    )
    op.drop_index(
        "uq_moderation_report_comment",
        table_name="moderation_report",
        postgresql_where=sa.text("contribution_id IS NULL"),
    )
    op.drop_index(op.f("ix_moderation_report_contribution_id"), table_name="moderation_report")
    op.drop_index(op.f("ix_moderation_report_comment_id"), table_name="moderation_report")
    op.drop_table("moderation_report")
    op.drop_index(op.f("ix_moderation_event_contribution_id"), table_name="moderation_event")
    op.drop_index(op.f("ix_moderation_event_comment_id"), table_name="moderation_event")
    op.drop_table("moderation_event")
    op.drop_index("ix_contribution_vote_user_created", table_name="contribution_vote")
    op.drop_index("ix_contribution_vote_ip_hash_created", table_name="contribution_vote")
    op.drop_index(op.f("ix_contribution_vote_contribution_id"), table_name="contribution_vote")
    op.drop_table("contribution_vote")
    op.drop_index(
        op.f("ix_contribution_support_contribution_id"), table_name="contribution_support"
    )
    op.drop_table("contribution_support")
    op.drop_index(op.f("ix_contribution_comment_parent_id"), table_name="contribution_comment")
    op.drop_index(
        op.f("ix_contribution_comment_contribution_id"), table_name="contribution_comment"
    )
    op.drop_table("contribution_comment")
    op.drop_table("contribution_answer")
    op.drop_index(op.f("ix_reference_feature_layer_id"), table_name="reference_feature")
    op.drop_geospatial_index(
        "idx_reference_feature_geom",
        table_name="reference_feature",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("reference_feature")
    op.drop_index(op.f("ix_contribution_theme_id"), table_name="contribution")
    op.drop_index("ix_contribution_ip_hash_created", table_name="contribution")
    op.drop_index(op.f("ix_contribution_concertation_id"), table_name="contribution")
    op.drop_index("ix_contribution_concertation_created", table_name="contribution")
    op.drop_index(op.f("ix_contribution_commune_insee"), table_name="contribution")
    op.drop_index("ix_contribution_author_created", table_name="contribution")
    op.drop_geospatial_index(
        "idx_contribution_geom_3857",
        table_name="contribution",
        postgresql_using="gist",
        column_name="geom_3857",
    )
    op.drop_geospatial_index(
        "idx_contribution_geom",
        table_name="contribution",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("contribution")
    op.drop_index(op.f("ix_reference_layer_concertation_id"), table_name="reference_layer")
    op.drop_table("reference_layer")
    op.drop_index(op.f("ix_concertation_theme_concertation_id"), table_name="concertation_theme")
    op.drop_table("concertation_theme")
    op.drop_table("concertation_residence")
    op.drop_index(op.f("ix_concertation_phase_concertation_id"), table_name="concertation_phase")
    op.drop_table("concertation_phase")
    op.drop_index(
        op.f("ix_concertation_authority_authority_id"), table_name="concertation_authority"
    )
    op.drop_table("concertation_authority")
    op.drop_geospatial_index(
        "idx_concertation_perimeter",
        table_name="concertation",
        postgresql_using="gist",
        column_name="perimeter",
    )
    op.drop_geospatial_table("concertation")
    # ### end Alembic commands ###
