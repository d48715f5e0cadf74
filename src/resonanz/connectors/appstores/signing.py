"""Signed JSON Web Tokens for the app-store APIs: RS256 for a Google service account (exchanged for
an access token), ES256 for an App Store Connect API key. ``cryptography`` is the ``appstores``
extra; without it the connectors say how to install it instead of crashing."""

from __future__ import annotations

import base64
import json
from typing import Any

from resonanz.errors import ConnectorPermanentError


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ConnectorPermanentError(
            "app store replies and Google Play need the cryptography package: pip install 'resonanz[appstores]'"
        ) from exc
    return hashes, serialization, ec, padding, utils


def sign_jwt(claims: dict[str, Any], *, private_key_pem: str, algorithm: str, key_id: str | None = None) -> str:
    """A compact JWT over ``claims``: ``RS256`` (RSA PKCS#1 v1.5 + SHA-256) or ``ES256`` (P-256,
    the signature as raw r || s, 64 bytes, as RFC 7518 3.4 wants it, not DER)."""
    hashes, serialization, ec, padding, utils = _crypto()
    header: dict[str, Any] = {"alg": algorithm, "typ": "JWT"}
    if key_id:
        header["kid"] = key_id
    signing_input = f"{_b64(json.dumps(header, separators=(',', ':')).encode())}." + _b64(
        json.dumps(claims, separators=(",", ":")).encode()
    )
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode("utf-8"), password=None)
    except (ValueError, TypeError) as exc:
        raise ConnectorPermanentError(f"the private key is not a readable PEM key: {exc}") from exc
    data = signing_input.encode("ascii")
    if algorithm == "RS256":
        signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    elif algorithm == "ES256":
        der = key.sign(data, ec.ECDSA(hashes.SHA256()))
        r, s = utils.decode_dss_signature(der)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        raise ValueError(f"unsupported algorithm {algorithm}")
    return f"{signing_input}.{_b64(signature)}"
