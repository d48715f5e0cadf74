"""`resonanz source add <platform>` for the channel connectors: guidance on the credentials without
a name, and a stored config (secret names only, never secrets) with one."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.db.database import Database

runner = CliRunner()
CASES = [
    ("email", ["address=support@radwerk.example", "imap_host=imap.radwerk.example"], "app password",
     "password_env"),
    ("twilio", ["account_sid=AC" + "0" * 32, "from_number=+4930123456789"], "X-Twilio-Signature", "auth_token_env"),
    ("googleplay", ["package_name=de.radwerk.app"], "Reply to reviews", "service_account_env"),
    ("appstore", ["app_id=1234567890", "countries=de,at"], "Issuer ID", "private_key_env"),
    ("youtube", ["channel_id=UCK8sQmJBp8GCxrOtXWBpyEA"], "youtube.force-ssl", "api_key_env"),
    ("x", ["queries=radwerk", "user_id=1480000000000000000"], "Bearer Token", "bearer_token_env"),
    ("facebook", ["page_id=104857600000001"], "long-lived Page access token", "page_token_env"),
]  # fmt: skip


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    result = runner.invoke(app, [*base, *args], catch_exceptions=False)
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize(("kind", "sets", "guidance", "secret_field"), CASES, ids=[c[0] for c in CASES])
def test_add_explains_credentials_and_stores_only_secret_names(
    settings: Settings, db: Database, kind: str, sets: list[str], guidance: str, secret_field: str
) -> None:
    code, out = cli(settings, "source", "add", kind)
    assert code == 2 and guidance in out
    args = [a for pair in sets for a in ("--set", pair)]
    code, out = cli(settings, "source", "add", kind, f"my-{kind}", *args)
    assert code == 0, out
    code, out = cli(settings, "source", "list", "--json")
    (listed,) = json.loads(out)
    assert listed["kind"] == kind and listed["config"][secret_field].isupper()  # the variable's name


def test_a_bad_setting_is_refused_with_the_reason(settings: Settings, db: Database) -> None:
    code, out = cli(settings, "source", "add", "twilio", "bad", "--set", "account_sid=nope")
    assert code != 0 and "account_sid" in out
