"""/api/v1/duplicates: files the library holds more than once, most wasted space first."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import P, QueryEx

from stoat.api.routing import ApiRouter
from stoat.api.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    DuplicateGroupOut,
    DuplicateListOut,
    ErrorOut,
)
from stoat.library.duplicates import group_keys, load_groups

router = ApiRouter(tags=["duplicates"])


@router.get(
    "", response={200: DuplicateListOut, 400: ErrorOut, 422: ErrorOut}, summary="List duplicates"
)
def list_duplicates(
    request: HttpRequest,
    limit: QueryEx[int, P(ge=1, le=MAX_LIMIT, description="Groups per page.")] = DEFAULT_LIMIT,
    offset: QueryEx[int, P(ge=0, le=MAX_OFFSET, description="Groups to skip.")] = 0,
) -> DuplicateListOut:
    """Groups of present videos with equal size and fingerprint, by the space their extra
    copies take. `identical` is true only once every byte of every copy was compared."""
    keys = list(group_keys())
    groups = load_groups(keys[offset : offset + limit])
    return DuplicateListOut(
        groups=[
            DuplicateGroupOut(
                size=g.size,
                fingerprint=g.fingerprint,
                videos=[v.pk for v in g.videos],
                wasted=g.wasted,
                identical=g.confirmed,
            )
            for g in groups
        ],
        total=len(keys),
        total_wasted=sum(size * (copies - 1) for size, _, copies in keys),
        limit=limit,
        offset=offset,
    )
