"""Placeholder for the inbound webhook router (POST /hooks/{source})."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
