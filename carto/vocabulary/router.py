"""GET /api/v1/vocabulary: every code the API returns, with its French label (public).

The web app loads it once at start and shows these labels, so that a state or a label
added on the server needs no second copy in TypeScript. Categories are rows (each
deployment has its own), the other domains are code (`terms.py`).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import select

from carto.db import SessionDep
from carto.routing.models import Category
from carto.vocabulary.terms import DOMAINS, OPEN_CODES

router = APIRouter(tags=["vocabulaire"])
CACHE_CONTROL = "public, max-age=300"


class Term(BaseModel):
    """One code and its French label."""

    code: str
    label: str


class VocabularyPublic(BaseModel):
    """Each domain's terms in display order, and which codes of a domain are "open"."""

    domains: dict[str, list[Term]]
    open: dict[str, list[str]]


@router.get("/vocabulary", response_model=VocabularyPublic)
async def vocabulary(session: SessionDep, response: Response) -> VocabularyPublic:
    """States, statuses, kinds, answers and categories with their labels (cacheable)."""
    categories = await session.execute(
        select(Category.code, Category.label).order_by(Category.sort_order, Category.code)
    )
    domains = {
        "category": [Term(code=code, label=label) for code, label in categories],
        **{
            domain: [Term(code=code, label=label) for code, label in terms.items()]
            for domain, terms in DOMAINS.items()
        },
    }
    response.headers["Cache-Control"] = CACHE_CONTROL
    return VocabularyPublic(
        domains=domains,
        open={domain: sorted(codes) for domain, codes in OPEN_CODES.items()},
    )
