"""``GET /health``: liveness, no authentication."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()


@router.get("/health", tags=["server"])
def health() -> dict[str, str]:
    """Liveness: no authentication."""
    return {"status": "ok"}
