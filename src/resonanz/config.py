"""Settings, read from ``RESONANZ_*`` environment variables and an optional ``.env`` file.

Nothing here touches the disk or the network at import time: :func:`load_settings` is called by
the entry points (CLI, app factory, worker) and the result is passed down explicitly, so tests
can build their own settings without patching globals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "resonanz"

#: Crisis terms for every brand (German and English); ``crisis_terms`` replaces the list.
DEFAULT_CRISIS_TERMS = (
    "Rückruf", "Rückrufaktion", "Datenleck", "Datenpanne", "Datenschutzverstoß", "Shitstorm", "Klage", "Anwalt",
    "Anwälte", "Verbraucherzentrale", "Boykott", "Hackerangriff", "Sicherheitslücke", "Betrug", "Abzocke",
    "Strafanzeige", "Gesundheitsgefahr", "Verletzte", "Unfall", "Totalausfall", "Stiftung Warentest",
    "recall", "lawsuit", "sue", "data breach", "leak", "boycott", "class action", "outage", "hacked",
    "security breach", "scam", "fraud", "injured", "food poisoning", "consumer protection",
)  # fmt: skip


def default_data_dir() -> Path:
    """The per-user data directory (``~/.local/share/resonanz`` on Linux)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class Settings(BaseSettings):
    """Process-wide configuration.

    ``database_url`` defaults to a SQLite file in :attr:`data_dir`, so a new user needs no server.
    """

    model_config = SettingsConfigDict(env_prefix="RESONANZ_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    http_timeout_s: float = Field(default=20.0, gt=0)
    http_max_bytes: int = Field(default=50 * 1024 * 1024, gt=0, description="largest response body read")
    user_agent: str = "Resonanz/0.1 (+https://github.com/resonanz; self-hosted social listening)"
    worker_threads: int = Field(default=2, ge=0, le=64)
    job_lease_s: float = Field(default=60.0, gt=1)
    job_max_attempts: int = Field(default=5, ge=1)
    periodic_jobs: bool = Field(
        default=True,
        description="enqueue periodic jobs (alert evaluation, reports, SLA checks) from this process's scheduler tick",
    )
    secrets_file: Path | None = None
    secret_key: str | None = Field(
        default=None,
        description="RESONANZ_SECRET_KEY: signs cursors and links; set the same value on every web process "
        "(unset: a key made once and kept in <data_dir>/secret.key)",
        repr=False,
    )
    max_item_bytes: int = Field(default=1024 * 1024, gt=0, description="a single item larger than this is quarantined")
    analysis_languages: list[str] = Field(
        default_factory=lambda: ["de", "en", "fr", "es", "it", "nl", "pt", "pl", "tr"],
        description="ISO 639-1 codes the language stage chooses from; anything else comes out as 'und'",
    )
    crisis_terms: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CRISIS_TERMS),
        description="words that raise a mention's risk for every brand (matched folded, inside German compounds)",
    )
    crisis_terms_by_brand: dict[str, list[str]] = Field(
        default_factory=dict, description="brand name -> extra crisis terms that only concern that brand"
    )
    brands: dict[str, list[str]] = Field(
        default_factory=dict,
        description="brand, product or competitor name -> aliases and common misspellings the entity stage finds",
    )
    sentiment_tier: Literal["fast", "accurate", "cascade"] = Field(
        default="cascade", description="fast: linear model only; cascade: re-score low-confidence mentions"
    )
    sentiment_cascade_threshold: float = Field(
        default=0.5, ge=0, le=1, description="the cascade re-scores mentions whose fast sentiment score is below this"
    )
    sentiment_cascade_max_share: float = Field(
        default=0.0005, ge=0, le=1,
        description="at most this share of mentions is re-scored (least confident first); bounds the cascade's cost",
    )  # fmt: skip
    sentiment_cascade_langs: list[str] = Field(
        default_factory=lambda: ["en"],
        description="languages the sentiment cascade re-scores; German's encoder costs ~10x English's per mention",
    )
    sentiment_transformers_model: Path | None = Field(
        default=None,
        description="a local Hugging Face sequence-classification model directory used as the accurate sentiment tier"
        " (extra resonanz[transformers])",
    )
    session_idle_minutes: int = Field(default=12 * 60, ge=1, description="a web session unused this long is signed out")
    session_max_days: float = Field(default=14, gt=0, description="a web session ends this long after sign-in")
    cookie_secure: bool = Field(
        default=False, description="always mark the session cookie Secure (it is whenever the request came over https)"
    )

    # --- notifications (H3): outgoing e-mail over SMTP, links in alert/report mails ---
    smtp_host: str | None = Field(default=None, description="SMTP server for outgoing e-mail; unset disables e-mail")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = Field(default=None, description="RESONANZ_SMTP_PASSWORD, or smtp_password_secret")
    smtp_password_secret: str | None = Field(
        default=None, description="name of the SMTP password in the environment or RESONANZ_SECRETS_FILE"
    )
    smtp_from: str = "Resonanz <resonanz@localhost>"
    smtp_starttls: bool = Field(default=True, description="upgrade a plain connection with STARTTLS")
    smtp_ssl: bool = Field(default=False, description="connect with TLS from the start (port 465)")
    smtp_timeout_s: float = Field(default=20.0, gt=0)
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="where people reach this instance; links in e-mails use it"
    )
    notification_language: Literal["en", "de"] = Field(
        default="en",
        description="language of alert messages to readers without their own setting: extra e-mail addresses and "
        "channels that name none",
    )
    notification_time_zone: str = Field(
        default="UTC", description="IANA zone for times in those messages (a user's own zone wins for them)"
    )

    # --- case intake (H5): which mentions become cases and how they join (docs/inbox.md) ---
    case_intake_enabled: bool = Field(default=True, description="turn analysed mentions into cases")
    case_intake_intents: list[str] = Field(
        default=["question", "complaint"], description="intents that need a response"
    )
    case_intake_influential_followers: int = Field(
        default=10_000, ge=0, description="a negative mention from an author with this many followers needs a response"
    )
    case_intake_query_ids: list[int] = Field(
        default_factory=list, description="listening queries whose matches always need a response"
    )
    case_own_handles: list[str] = Field(
        default_factory=list,
        description="our own accounts ('handle' or 'platform:handle'): replies to them need "
        "a response, their own posts never become cases",
    )
    case_join_window_hours: float = Field(
        default=72.0, gt=0, description="an author's messages on one topic within this window join one case"
    )

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "RESONANZ_DATABASE_URL must start with 'sqlite:///' or 'postgresql://' "
                f"(got {value.split(':', 1)[0]!r})"
            )
        return value

    @property
    def resolved_database_url(self) -> str:
        """The URL to connect to; the embedded SQLite file when none is configured."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                # psycopg 3 is the driver we ship in the ``postgres`` extra.
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{self.data_dir / 'resonanz.db'}"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; ``overrides`` (e.g. CLI flags) win when not ``None``."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
