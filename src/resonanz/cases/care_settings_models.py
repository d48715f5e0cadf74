"""Tables of the care admin settings that do not fit the key/value ``care_setting`` table.

* ``team_care_setting`` - per team overrides of global switches (today: whether a CSAT link is sent
  when a case of the team is resolved; ``None`` follows the global switch);
* ``profanity_term`` - words an installation adds to the offensive-language check (the classifier
  does not know every local insult or brand-specific slur);
* ``csat_dispatch`` - one row per case resolution that was considered for a CSAT link: sent
  (queued to the outbox) or skipped with the reason. Unique per (case, resolution time), which is
  what makes the send happen once per resolution even when the job runs twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime


class TeamCareSetting(Base):
    """Per team overrides of the global care switches, audited when changed."""

    __tablename__ = "team_care_setting"

    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), primary_key=True)
    #: send a CSAT link on resolve: True/False, or None to follow the global switch
    csat_enabled: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class ProfanityTerm(Base):
    """A word the reply check treats as offensive, whatever the classifier says."""

    __tablename__ = "profanity_term"

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class CsatDispatch(Base):
    """What happened to the CSAT link of one resolution (``status``: queued | skipped)."""

    __tablename__ = "csat_dispatch"
    __table_args__ = (UniqueConstraint("case_id", "resolved_at", name="uq_csat_dispatch_resolution"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id", ondelete="CASCADE"), index=True)
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(300))
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("csat_survey.id", ondelete="SET NULL"))
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("case_reply.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
