"""What participants do: contributions, votes, supports, comments; and what staff do about
it: reports, moderation events, official answers, residence declarations.

Authors are user ids (their pseudonym is read from `app_user`); no e-mail and no IP
address is stored here. `ip_hash` is a keyed, daily-salted hash, used only to spot
bursts from one network address. Counters on `contribution` are kept by triggers
(see migration c001) so the public view and the tiles read them without joins.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from carto.concertations.models import CONTRIBUTION_KINDS, _in
from carto.db import Base

CHANNELS = ("online", "workshop", "kiosk", "paper", "assisted")
VISIBILITIES = ("published", "held", "hidden")
ANSWER_STATUSES = ("retenue", "a_l_etude", "non_retenue", "hors_sujet", "hors_competence")
CAMPAIGN_FLAGS = ("burst_account", "burst_network", "outside_perimeter")
MODERATION_ACTIONS = ("hide", "restore", "release", "clear_flags")


class Contribution(Base):
    """A geolocated idea, observation or question in a concertation."""

    __tablename__ = "contribution"
    __table_args__ = (
        CheckConstraint(_in("kind", CONTRIBUTION_KINDS), name="kind_known"),
        CheckConstraint(_in("channel", CHANNELS), name="channel_known"),
        CheckConstraint(_in("visibility", VISIBILITIES), name="visibility_known"),
        UniqueConstraint("concertation_id", "source_ref"),
        Index("ix_contribution_concertation_created", "concertation_id", "created_at"),
        Index("ix_contribution_author_created", "author_id", "created_at"),
        Index("ix_contribution_ip_hash_created", "ip_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    concertation_id: Mapped[int] = mapped_column(
        ForeignKey("concertation.id", ondelete="CASCADE"), index=True
    )
    theme_id: Mapped[int] = mapped_column(ForeignKey("concertation_theme.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    geom: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True))
    geom_3857: Mapped[WKBElement] = mapped_column(
        Geometry("GEOMETRY", srid=3857, spatial_index=True),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )
    commune_insee: Mapped[str | None] = mapped_column(ForeignKey("commune.insee"), index=True)
    phase: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20), default="online")
    photo_id: Mapped[str | None] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    author_label: Mapped[str | None] = mapped_column(
        String(80), doc="shown for workshop, paper... input entered for someone without account"
    )
    entered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )
    source_ref: Mapped[str | None] = mapped_column(String(120), doc="id in an imported file")
    ip_hash: Mapped[str | None] = mapped_column(String(32))
    visibility: Mapped[str] = mapped_column(String(10), default="published")
    hold_reason: Mapped[str | None] = mapped_column(String(200))
    moderation_reason: Mapped[str | None] = mapped_column(Text, doc="public reason of hiding")
    flags: Mapped[list[str]] = mapped_column(ARRAY(String(30)), default=list)
    constraint_notes: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    votes_for: Mapped[int] = mapped_column(Integer, default=0)
    votes_against: Mapped[int] = mapped_column(Integer, default=0)
    supports: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Vote(Base):
    """Agree (+1) or disagree (-1), one per participant and contribution."""

    __tablename__ = "contribution_vote"
    __table_args__ = (
        UniqueConstraint("contribution_id", "user_id"),
        CheckConstraint("value IN (-1, 1)", name="value_known"),
        Index("ix_contribution_vote_user_created", "user_id", "created_at"),
        Index("ix_contribution_vote_ip_hash_created", "ip_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contribution.id", ondelete="CASCADE"), index=True
    )
    concertation_id: Mapped[int] = mapped_column(
        Integer, doc="tenant key: the contribution's concertation (migration x001)"
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    value: Mapped[int] = mapped_column(SmallInteger)
    reason: Mapped[str | None] = mapped_column(String(280))
    ip_hash: Mapped[str | None] = mapped_column(String(32))
    flags: Mapped[list[str]] = mapped_column(ARRAY(String(30)), default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Support(Base):
    """A low-effort "je soutiens", distinct from the argued vote."""

    __tablename__ = "contribution_support"
    __table_args__ = (UniqueConstraint("contribution_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contribution.id", ondelete="CASCADE"), index=True
    )
    concertation_id: Mapped[int] = mapped_column(
        Integer, doc="tenant key: the contribution's concertation (migration x001)"
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Comment(Base):
    """A comment on a contribution, or a reply to another comment (threads)."""

    __tablename__ = "contribution_comment"
    __table_args__ = (CheckConstraint(_in("visibility", VISIBILITIES), name="visibility_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contribution.id", ondelete="CASCADE"), index=True
    )
    concertation_id: Mapped[int] = mapped_column(
        Integer, doc="tenant key: the contribution's concertation (migration x001)"
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("contribution_comment.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    ip_hash: Mapped[str | None] = mapped_column(String(32))
    visibility: Mapped[str] = mapped_column(String(10), default="published")
    hold_reason: Mapped[str | None] = mapped_column(String(200))
    moderation_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Report(Base):
    """A participant's report of a contribution or a comment, for moderators to review."""

    __tablename__ = "moderation_report"
    __table_args__ = (
        CheckConstraint("(contribution_id IS NULL) <> (comment_id IS NULL)", name="one_target"),
        Index(
            "uq_moderation_report_contribution",
            "reporter_id",
            "contribution_id",
            unique=True,
            postgresql_where=sql_text("comment_id IS NULL"),
        ),
        Index(
            "uq_moderation_report_comment",
            "reporter_id",
            "comment_id",
            unique=True,
            postgresql_where=sql_text("contribution_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("contribution.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("contribution_comment.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ModerationEvent(Base):
    """What a moderator did and why (the reason is public): the audit trail."""

    __tablename__ = "moderation_event"
    __table_args__ = (
        CheckConstraint(_in("action", MODERATION_ACTIONS), name="action_known"),
        CheckConstraint("(contribution_id IS NULL) <> (comment_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("contribution.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("contribution_comment.id", ondelete="CASCADE"), index=True
    )
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Answer(Base):
    """The organiser's official answer to one contribution, with its justification."""

    __tablename__ = "contribution_answer"
    __table_args__ = (CheckConstraint(_in("status", ANSWER_STATUSES), name="status_known"),)

    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contribution.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authority.id", ondelete="SET NULL")
    )
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Residence(Base):
    """A participant's declaration of living inside or outside a concertation's perimeter."""

    __tablename__ = "concertation_residence"

    concertation_id: Mapped[int] = mapped_column(
        ForeignKey("concertation.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    resident: Mapped[bool]
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    declared_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
