"""Schemathesis against ``/api/v1/openapi.json``, in process (the ASGI app, no server, no network):
for every operation, generated requests from a signed-in admin never get a 500 and every answer
conforms to the spec (status code documented, content type, body schema, headers).

Bounded and deterministic: ``MAX_EXAMPLES`` per operation with a derandomised (fixed-seed) Hypothesis
run, so CI sees the same requests every time and the whole module stays well under a minute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import ignored_auth, negative_data_rejection, positive_data_acceptance
from tests.support.accounts_factory import make_user

from resonanz.accounts.actions import do_create_api_token
from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.api.openapi import build_spec
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.sources.actions import do_create_source
from resonanz.sources.schemas import SourceCreate

MAX_EXAMPLES = 25
#: operation -> the status codes it answered during the run (checked by the last test).
SEEN: dict[str, set[int]] = {}
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fuzz_app(settings: Settings, db: Database) -> tuple[FastAPI, str]:
    """The app over a small workspace (sources, mentions in a thread, colleagues) and an admin token,
    so that generated ids sometimes hit real rows."""
    with db.sessions() as session:
        admin = make_user(session, role=Role.admin)
        make_user(session, role=Role.admin)  # a second admin: demoting one is allowed, not a 409 each time
        for role in (Role.agent, Role.viewer):
            make_user(session, role=role)
        raw, _ = do_create_api_token(session, user_id=admin.id, name="fuzz", actor=None)
        do_create_source(session, data=SourceCreate(name="blog", kind="feed", config={"url": "https://example.org/f"}))
        do_create_source(session, data=SourceCreate(name="hook", kind="webhook", config={}))
        items = [
            MentionIn(
                platform="feed",
                external_id=f"m{i}",
                published_at=T0 + timedelta(minutes=i),
                text=f"Die Bahn war heute {i} Minuten zu spät",
                author=AuthorIn(handle=f"user{i % 2}"),
                parent_external_id="m0" if i else None,
                raw={"i": i},
            )
            for i in range(3)
        ]
        store_batch(session, items, source_id=None, now=T0 + timedelta(hours=1))
        session.commit()
    return create_app(settings, database=db), raw


#: The spec, built from an app that is never started (building it touches no database), so the
#: operations are known when pytest collects; each test then calls the app of its own workspace.
#: (schemathesis.pytest.from_fixture would load it from a fixture, but does not work with pytest 9.)
schema = schemathesis.openapi.from_dict(build_spec(create_app(Settings())))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_spec(case: Any, fuzz_app: tuple[FastAPI, str]) -> None:
    app, admin_token = fuzz_app
    # Not run: checks about what a valid request must get (positive_data_acceptance: a random
    # source config or a made-up e-mail domain may rightly be refused), about bodies the spec cannot
    # describe (negative_data_rejection), and ignored_auth (it replays requests without the token;
    # the route test in tests/accounts proves every route refuses signed-out callers).
    response = case.call_and_validate(
        app=app,
        headers={"Authorization": f"Bearer {admin_token}"},
        excluded_checks=[positive_data_acceptance, negative_data_rejection, ignored_auth],
    )
    operation = f"{case.operation.method.upper()} {case.operation.path}"
    if case.method.upper() == case.operation.method.upper():  # not one of the undeclared-method probes
        SEEN.setdefault(operation, set()).add(response.status_code)


def test_every_operation_was_reached_as_admin() -> None:
    """Guards the run above against passing vacuously: every operation answered at least once with
    something other than a refusal (a broken token would make every answer a conforming 401)."""
    operations = {f"{op.ok().method.upper()} {op.ok().path}" for op in schema.get_all_operations()}
    assert SEEN.keys() == operations
    refused_only = sorted(op for op, statuses in SEEN.items() if statuses <= {401, 403})
    assert not refused_only, f"only refusals from {refused_only}"
