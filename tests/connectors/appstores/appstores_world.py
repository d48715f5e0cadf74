"""Fake Google Play and Apple endpoints (httpx.MockTransport) shaped like their public docs, with
keys made per test: the fakes check the JWTs the connectors sign (RS256 service-account grant,
ES256 App Store Connect token) with the public halves, as Google and Apple would."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads"
PACKAGE = "de.radwerk.app"
APP_ID = "1234567890"
TOKEN_URI = "https://oauth2.googleapis.com/token"


def payload(platform: str, name: str) -> Any:
    return json.loads((PAYLOADS / platform / name).read_text(encoding="utf-8"))


def _pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    header, claims, signature = token.split(".")
    return json.loads(_unb64(header)), json.loads(_unb64(claims)), f"{header}.{claims}".encode(), _unb64(signature)


@dataclass
class FakePlay:
    key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    reviews: list[dict[str, Any]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    scripted: list[httpx.Response | Exception] = field(default_factory=list)
    page_size: int = 2

    def service_account(self) -> str:
        return json.dumps({"type": "service_account", "client_email": "resonanz@radwerk.iam.gserviceaccount.com",
                           "private_key_id": "k1", "private_key": _pem(self.key), "token_uri": TOKEN_URI})  # fmt: skip

    def add(self, n: int, *, at: datetime, text: str | None = None) -> dict[str, Any]:
        review = copy.deepcopy(payload("googleplay", "review.json"))
        review["reviewId"] = f"gp:review-{n}"
        review["comments"] = review["comments"][:1]
        review["comments"][0]["userComment"]["text"] = text or f"Bewertung {n}"
        review["comments"][0]["userComment"]["lastModified"] = {"seconds": str(int(at.timestamp())), "nanos": 0}
        self.reviews = [r for r in self.reviews if r["reviewId"] != review["reviewId"]] + [review]
        return review

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if str(request.url) == TOKEN_URI:
            form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
            header, claims, signed, signature = jwt_parts(form["assertion"])
            try:
                self.key.public_key().verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                return httpx.Response(
                    400, json={"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
                )
            assert header["alg"] == "RS256" and claims["aud"] == TOKEN_URI and "androidpublisher" in claims["scope"]
            return httpx.Response(200, json={"access_token": "ya29.test", "expires_in": 3599, "token_type": "Bearer"})
        assert request.headers["authorization"] == "Bearer ya29.test"
        if self.scripted:
            answer = self.scripted.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        base = f"/androidpublisher/v3/applications/{PACKAGE}/reviews"
        path = request.url.path
        if path == base:
            ordered = sorted(
                self.reviews, key=lambda r: -int(r["comments"][0]["userComment"]["lastModified"]["seconds"])
            )
            start = int(request.url.params.get("token") or 0)
            page = ordered[start : start + self.page_size]
            body: dict[str, Any] = {"reviews": copy.deepcopy(page)}
            if start + self.page_size < len(ordered):
                body["tokenPagination"] = {"nextPageToken": str(start + self.page_size)}
            return httpx.Response(200, json=body)
        if path.startswith(base + "/") and path.endswith(":reply"):
            review_id = path[len(base) + 1 : -len(":reply")]
            text = json.loads(request.content)["replyText"]
            for review in self.reviews:
                if review["reviewId"] == review_id:
                    answer = {"developerComment": {"text": text, "lastModified": {"seconds": "1764316800", "nanos": 0}}}
                    review["comments"] = [*review["comments"][:1], answer]
                    return httpx.Response(
                        200, json={"result": {"replyText": text, "lastEdited": {"seconds": "1764316800"}}}
                    )
            return httpx.Response(404, json={"error": {"code": 404, "message": "Review not found"}})
        if path.startswith(base + "/"):
            review_id = path[len(base) + 1 :]
            found = [r for r in self.reviews if r["reviewId"] == review_id]
            return httpx.Response(200, json=found[0]) if found else httpx.Response(404, json={"error": {"code": 404}})
        return httpx.Response(404, json={"error": {"code": 404, "message": "no route"}})


@dataclass
class FakeApple:
    key: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # country -> newest first
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)  # review id -> response resource
    requests: list[httpx.Request] = field(default_factory=list)
    scripted: list[httpx.Response | Exception] = field(default_factory=list)

    def private_key(self) -> str:
        return _pem(self.key)

    def add(self, country: str, n: int, *, at: datetime, text: str | None = None) -> None:
        entry = copy.deepcopy(payload("appstore", "feed_page.json")["feed"]["entry"][0])
        entry["id"] = {"label": str(11887760000 + n)}
        entry["updated"] = {"label": at.isoformat()}
        entry["content"]["label"] = text or f"Rezension {n}"
        found = [e for e in self.entries.get(country, []) if e["id"]["label"] != entry["id"]["label"]]
        self.entries[country] = sorted([*found, entry], key=lambda e: e["updated"]["label"], reverse=True)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def _check_token(self, request: httpx.Request) -> httpx.Response | None:
        header, claims, signed, signature = jwt_parts(request.headers["authorization"].removeprefix("Bearer "))
        der = utils.encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            self.key.public_key().verify(der, signed, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return httpx.Response(401, json={"errors": [{"status": "401", "code": "NOT_AUTHORIZED"}]})
        assert header["alg"] == "ES256" and header["kid"] == "ABC123DEFG" and claims["aud"] == "appstoreconnect-v1"
        assert len(signature) == 64 and claims["exp"] - claims["iat"] <= 1200
        return None

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.scripted:
            answer = self.scripted.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        path = request.url.path
        if request.url.host == "itunes.apple.com":
            country, _, rest = path.strip("/").partition("/")
            page = int(rest.split("page=")[1].split("/")[0])
            chosen = self.entries.get(country, [])[(page - 1) * 50 : page * 50]
            feed = copy.deepcopy(payload("appstore", "feed_page.json"))
            if chosen:
                feed["feed"]["entry"] = chosen[0] if len(chosen) == 1 else chosen
            else:
                del feed["feed"]["entry"]
            return httpx.Response(200, json=feed)
        refused = self._check_token(request)
        if refused is not None:
            return refused
        if path == "/v1/customerReviewResponses":
            body = json.loads(request.content)["data"]
            review_id = body["relationships"]["review"]["data"]["id"]
            if review_id in self.responses:
                return httpx.Response(409, json=payload("appstore", "error_409.json"))
            created = copy.deepcopy(payload("appstore", "response_created.json"))
            created["data"]["attributes"]["responseBody"] = body["attributes"]["responseBody"]
            self.responses[review_id] = created["data"]
            return httpx.Response(201, json=created)
        if path.startswith("/v1/customerReviews/") and path.endswith("/response"):
            review_id = path.split("/")[3]
            if review_id not in self.responses:
                return httpx.Response(404, json={"errors": [{"status": "404", "code": "NOT_FOUND"}]})
            return httpx.Response(200, json={"data": self.responses[review_id]})
        return httpx.Response(404, json={"errors": [{"status": "404"}]})


def hours_ago(base: datetime, hours: float) -> datetime:
    return base - timedelta(hours=hours)
