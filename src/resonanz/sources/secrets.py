"""Where secrets come from: the environment, then the secrets file (``RESONANZ_SECRETS_FILE``).

Secrets never live in the database or the repository; a source's config holds only the *name*
of its secret. The secrets file is a JSON object of names to values (e.g. mounted by Docker or
Kubernetes, mode 0600), read when a secret is needed so a rotated value applies without restart.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from resonanz.config import Settings
from resonanz.errors import ConfigError


def _from_file(settings: Settings, name: str) -> str | None:
    path = settings.secrets_file
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"secrets file {path} does not exist (RESONANZ_SECRETS_FILE)") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"secrets file {path} is not readable JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"secrets file {path} must hold a JSON object of name -> value")
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"secret {name!r} in {path} must be a string")
    return value


def resolve_secret(name: str, *, settings: Settings, environ: Mapping[str, str] | None = None) -> str | None:
    """The secret called ``name``, or None when neither the environment nor the file has it.

    An empty value counts as not set: an empty HMAC key would accept anyone who knows that.
    """
    env = os.environ if environ is None else environ
    value = env.get(name)
    if not value:
        value = _from_file(settings, name)
    return value or None
