"""The JSON API, version 1, mounted under ``/api/v1``. Each resource is its own module with its own
router; this package only gathers them."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
