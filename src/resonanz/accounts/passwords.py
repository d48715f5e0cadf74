"""Password hashing with argon2id (argon2-cffi).

Why a module of its own: the hasher's parameters live in one place, a stored hash made with older
parameters is upgraded at the next successful sign-in (:func:`needs_rehash`), and tests can swap in
cheap parameters (:func:`set_hasher`) without touching the code that uses them.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from resonanz.accounts.schemas import MIN_PASSWORD_LENGTH
from resonanz.errors import InputError

_hasher = PasswordHasher()
_dummy_hash: str | None = None


def set_hasher(hasher: PasswordHasher | None) -> None:
    """Replace the hasher (tests use cheap parameters); ``None`` restores the defaults."""
    global _hasher, _dummy_hash
    _hasher = hasher or PasswordHasher()
    _dummy_hash = None


def check_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long", location="password")
    if len(password) > 1000:
        raise InputError("the password must be at most 1000 characters long", location="password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def burn_time(password: str) -> None:
    """Verify against a throw-away hash, so that an unknown e-mail takes as long as a wrong password
    (otherwise response times tell which addresses have accounts)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not a real password, only here to spend the same time")
    verify_password(_dummy_hash, password)
