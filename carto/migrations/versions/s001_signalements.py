"""signalements: tickets, reporters (personal data, apart), events, supports, photos,
and the public view public_layers.signalements

Revision ID: s001
Revises: r001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "s001"
down_revision: str | None = "r001"
branch_labels: str | Sequence[str] | None = ("signalements",)
depends_on: str | Sequence[str] | None = ("l001", "m001")

STATES = "'submitted', 'routed', 'acknowledged', 'in_progress', 'resolved', 'rejected', 'reopened', 'duplicate'"
CLOSED = "'duplicate', 'rejected', 'resolved'"


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=f"fk_{table}_{column}_{ref_table}", ondelete=ondelete
    )


def _signalement() -> None:
    op.create_table(
        "signalement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address_string", sa.String(length=300), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column(
            "status",
            sa.String(length=6),
            sa.Computed(
                f"CASE WHEN state IN ({CLOSED}) THEN 'closed' ELSE 'open' END", persisted=True
            ),
            nullable=False,
        ),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column(
            "geom_3857",
            Geometry(geometry_type="POINT", srid=3857, spatial_index=False),
            sa.Computed("ST_Transform(geom, 3857)", persisted=True),
            nullable=False,
        ),
        sa.Column("commune_insee", sa.String(length=5), nullable=False),
        sa.Column("arrondissement_insee", sa.String(length=5), nullable=True),
        sa.Column("intercommunalite_siren", sa.String(length=9), nullable=True),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("street_name", sa.String(length=300), nullable=True),
        sa.Column("road_class", sa.String(length=40), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supports", sa.Integer(), server_default="0", nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("media_url", sa.String(length=500), nullable=True),
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
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"state IN ({STATES})", name="ck_signalement_state_known"),
        sa.CheckConstraint(
            "source IN ('web', 'open311', 'demo', 'import')", name="ck_signalement_source_known"
        ),
        _fk("signalement", "category_code", "category.code"),
        _fk("signalement", "duplicate_of_id", "signalement.id", "SET NULL"),
        _fk("signalement", "authority_id", "authority.id"),
        _fk("signalement", "service_id", "service.id"),
        _fk("signalement", "rule_id", "competence_rule.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_signalement"),
    )
    op.create_index("idx_signalement_geom", "signalement", ["geom"], postgresql_using="gist")
    op.create_index(
        "idx_signalement_geom_3857", "signalement", ["geom_3857"], postgresql_using="gist"
    )
    op.create_index(
        "ix_signalement_geog",
        "signalement",
        [sa.text("(geom::geography)")],
        postgresql_using="gist",
    )
    op.create_index("ix_signalement_queue", "signalement", ["service_id", "status", "created_at"])
    op.create_index(
        "ix_signalement_authority_created", "signalement", ["authority_id", "created_at"]
    )
    op.create_index("ix_signalement_authority_id", "signalement", ["authority_id"])
    op.create_index("ix_signalement_category_code", "signalement", ["category_code"])
    op.create_index("ix_signalement_commune_insee", "signalement", ["commune_insee"])
    op.create_index("ix_signalement_created_at", "signalement", ["created_at"])


def _satellites() -> None:
    op.create_table(
        "signalement_reporter",
        sa.Column("signalement_id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        _fk("signalement_reporter", "signalement_id", "signalement.id", "CASCADE"),
        _fk("signalement_reporter", "authority_id", "authority.id"),
        _fk("signalement_reporter", "user_id", "app_user.id", "SET NULL"),
        sa.PrimaryKeyConstraint("signalement_id", name="pk_signalement_reporter"),
    )
    op.create_index(
        "ix_signalement_reporter_authority_id", "signalement_reporter", ["authority_id"]
    )
    op.create_index("ix_signalement_reporter_user_id", "signalement_reporter", ["user_id"])
    op.create_table(
        "signalement_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("signalement_id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("from_service_id", sa.Integer(), nullable=True),
        sa.Column("to_service_id", sa.Integer(), nullable=True),
        sa.Column("related_id", sa.Integer(), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("public_note", sa.Text(), nullable=True),
        sa.Column("internal_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('state', 'transfer', 'merge')", name="ck_signalement_event_kind_known"
        ),
        _fk("signalement_event", "signalement_id", "signalement.id", "CASCADE"),
        _fk("signalement_event", "authority_id", "authority.id"),
        _fk("signalement_event", "from_service_id", "service.id"),
        _fk("signalement_event", "to_service_id", "service.id"),
        _fk("signalement_event", "related_id", "signalement.id", "SET NULL"),
        _fk("signalement_event", "actor_user_id", "app_user.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_signalement_event"),
    )
    op.create_index(
        "ix_signalement_event_ticket", "signalement_event", ["signalement_id", "at", "id"]
    )
    op.create_index("ix_signalement_event_authority_id", "signalement_event", ["authority_id"])
    op.create_table(
        "signalement_support",
        sa.Column("signalement_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        _fk("signalement_support", "signalement_id", "signalement.id", "CASCADE"),
        _fk("signalement_support", "user_id", "app_user.id", "CASCADE"),
        _fk("signalement_support", "authority_id", "authority.id"),
        sa.PrimaryKeyConstraint("signalement_id", "user_id", name="pk_signalement_support"),
    )
    op.create_index("ix_signalement_support_user_id", "signalement_support", ["user_id"])
    op.create_index("ix_signalement_support_authority_id", "signalement_support", ["authority_id"])
    op.create_table(
        "signalement_photo",
        sa.Column("signalement_id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.String(length=32), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _fk("signalement_photo", "signalement_id", "signalement.id", "CASCADE"),
        _fk("signalement_photo", "photo_id", "media_photo.id", "CASCADE"),
        _fk("signalement_photo", "authority_id", "authority.id"),
        sa.PrimaryKeyConstraint("signalement_id", "photo_id", name="pk_signalement_photo"),
    )
    op.create_index("ix_signalement_photo_authority_id", "signalement_photo", ["authority_id"])


PUBLIC_VIEW = """
CREATE VIEW public_layers.signalements AS
SELECT s.id, s.category_code AS service_code, c.label AS category, s.state, s.status,
       a.name AS authority, s.authority_id, sv.name AS service,
       s.commune_insee AS commune, co.nom AS commune_nom,
       s.arrondissement_insee AS arrondissement,
       s.created_at, s.updated_at, s.supports, s.geom, s.geom_3857
FROM public.signalement s
JOIN public.category c ON c.code = s.category_code
JOIN public.authority a ON a.id = s.authority_id
JOIN public.service sv ON sv.id = s.service_id
LEFT JOIN public.commune co ON co.insee = s.commune_insee
"""
VIEW_COMMENT = (
    "Signalements\n"
    "Signalements des citoyens : catégorie, état, collectivité et service compétents, commune. "
    "Sans description ni donnée personnelle."
)


def upgrade() -> None:
    _signalement()
    _satellites()
    op.execute(PUBLIC_VIEW)
    quoted = VIEW_COMMENT.replace("'", "''")
    op.execute(f"COMMENT ON VIEW public_layers.signalements IS '{quoted}'")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS public_layers.signalements")
    for table in (
        "signalement_photo",
        "signalement_support",
        "signalement_event",
        "signalement_reporter",
    ):
        op.drop_table(table)
    op.drop_table("signalement")
