"""Staff routes: run a concertation (create, edit, archive, attach layers), moderate,
answer officially. Who may do what is checked by the services (organiser admins,
moderators), so a wrong role gets a 403 with a French reason.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import ValidationError

from carto.accounts.deps import CurrentPrincipal
from carto.concertations import moderation, reference_layers, service
from carto.concertations.schemas import (
    AnswerInput,
    AnswerPublic,
    ConcertationCreate,
    ConcertationDetail,
    ConcertationUpdate,
    ModerationInput,
    ModerationQueue,
    ModerationResult,
    ReferenceLayerPublic,
)
from carto.deps import BBoxDep, SessionDep
from carto.errors import InvalidInput, TooLarge
from carto.ratelimit import rate_limited
from carto.vector_files import SUPPORTED_SUFFIXES

router = APIRouter()
FRENCH = {
    "string_too_short": "trop court",
    "string_too_long": "trop long",
    "string_pattern_mismatch": "format invalide",
    "literal_error": "valeur non reconnue",
    "greater_than": "doit être positif",
    "less_than_equal": "trop grand",
}


def french_errors(exc: ValidationError) -> str:
    """Pydantic's errors as short French phrases, naming the field."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error.get("loc", ()))
        if error["type"] == "value_error":
            parts.append(str(error["msg"]).removeprefix("Value error, "))
        else:
            parts.append(f"{field} : {FRENCH.get(error['type'], 'valeur invalide')}")
    return "; ".join(parts)


MAX_UPLOAD_BYTES = 50 * 1024 * 1024
CHUNK = 1024 * 1024


@router.post(
    "/concertations",
    response_model=ConcertationDetail,
    status_code=201,
    dependencies=[Depends(rate_limited("write"))],
)
async def create_concertation(
    data: ConcertationCreate, principal: CurrentPrincipal, session: SessionDep
) -> ConcertationDetail:
    """Open a concertation on territories the caller's authorities administer."""
    return await service.create_concertation(session=session, data=data, principal=principal)


@router.patch(
    "/concertations/{ref}",
    response_model=ConcertationDetail,
    dependencies=[Depends(rate_limited("write"))],
)
async def update_concertation(
    ref: str, data: ConcertationUpdate, principal: CurrentPrincipal, session: SessionDep
) -> ConcertationDetail:
    return await service.update_concertation(
        session=session, ref=ref, data=data, principal=principal
    )


@router.post(
    "/concertations/{ref}/archive",
    response_model=ConcertationDetail,
    dependencies=[Depends(rate_limited("write"))],
)
async def archive_concertation(
    ref: str, principal: CurrentPrincipal, session: SessionDep
) -> ConcertationDetail:
    """Archive: everything stays readable and exportable, nothing can be added."""
    return await service.archive_concertation(session=session, ref=ref, principal=principal)


@router.get("/concertations/{ref}/reference-layers", response_model=list[ReferenceLayerPublic])
async def list_layers(ref: str, session: SessionDep) -> list[dict[str, Any]]:
    return await reference_layers.list_layers(session=session, ref=ref)


async def _save_upload(upload: UploadFile, folder: Path) -> Path:
    """The upload on disk under a safe name, its size checked while reading."""
    name = PurePosixPath((upload.filename or "couche").replace("\\", "/")).name
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InvalidInput(
            f"Format non reconnu ({suffix or 'sans extension'}) ; attendu : "
            f"{', '.join(sorted(SUPPORTED_SUFFIXES))}."
        )
    path = folder / f"layer{suffix}"
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise TooLarge(f"Fichier trop volumineux (au plus {MAX_UPLOAD_BYTES // 2**20} Mo).")
            out.write(chunk)
    return path


@router.post(
    "/concertations/{ref}/reference-layers",
    status_code=201,
    dependencies=[Depends(rate_limited("upload"))],
)
async def upload_layer(
    ref: str, principal: CurrentPrincipal, session: SessionDep,
    file: Annotated[UploadFile, File(description="GeoJSON, GeoPackage, Shapefile (zip)...")],
    title: Annotated[str, Form(max_length=200)],
    slug: Annotated[str | None, Form(max_length=80)] = None,
    description: Annotated[str, Form(max_length=5000)] = "",
    role: Annotated[str, Form(max_length=20)] = "reference",
    rule: Annotated[str | None, Form(max_length=20)] = None,
    distance_m: Annotated[float | None, Form()] = None,
    action: Annotated[str, Form(max_length=10)] = "reject",
    message: Annotated[str, Form(max_length=500)] = "",
    color: Annotated[str, Form(max_length=7)] = "#666666",
) -> dict[str, Any]:  # fmt: skip
    """Attach a layer from a file; a constraint layer then checks new contributions."""
    await reference_layers.check_can_attach(session=session, ref=ref, principal=principal)
    try:
        meta = reference_layers.ReferenceLayerInput(
            title=title, slug=slug or None, description=description, role=role,  # type: ignore[arg-type]
            rule=rule or None, distance_m=distance_m, action=action,  # type: ignore[arg-type]
            message=message, color=color,
        )  # fmt: skip
    except ValidationError as exc:
        raise InvalidInput(f"Description de couche invalide : {french_errors(exc)}.") from None
    with tempfile.TemporaryDirectory(prefix="carto-layer-") as folder:
        path = await _save_upload(file, Path(folder))
        result = await reference_layers.import_reference_layer(
            session=session, ref=ref, path=path, meta=meta, principal=principal,
            source=PurePosixPath((file.filename or "").replace("\\", "/")).name,
        )  # fmt: skip
    return {"id": result.layer_id, "slug": result.slug, "features": result.features,
            "repaired": result.repaired, "skipped": result.skipped}  # fmt: skip


@router.get("/reference-layers/{layer_id}/features")
async def layer_features(
    layer_id: int, session: SessionDep, bbox: BBoxDep,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 10_000,
) -> dict[str, Any]:  # fmt: skip
    """A reference layer's features as GeoJSON, for the map."""
    return await reference_layers.layer_features(
        session=session, layer_id=layer_id, bbox=bbox, limit=limit
    )


@router.get("/moderation/queue", response_model=ModerationQueue)
async def moderation_queue(
    principal: CurrentPrincipal, session: SessionDep,
    concertation_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> ModerationQueue:  # fmt: skip
    """Held texts, reported items and campaign flags, oldest first."""
    return await moderation.queue(
        session=session, principal=principal, concertation_id=concertation_id
    )


@router.post(
    "/contributions/{contribution_id}/moderation",
    response_model=ModerationResult,
    dependencies=[Depends(rate_limited("write"))],
)
async def moderate_contribution(
    contribution_id: int, data: ModerationInput, principal: CurrentPrincipal, session: SessionDep
) -> ModerationResult:
    """Hide (public reason required), restore, release a held text, or clear flags."""
    return await moderation.moderate(
        session=session, principal=principal, target="contribution", target_id=contribution_id,
        data=data,
    )  # fmt: skip


@router.post(
    "/comments/{comment_id}/moderation",
    response_model=ModerationResult,
    dependencies=[Depends(rate_limited("write"))],
)
async def moderate_comment(
    comment_id: int, data: ModerationInput, principal: CurrentPrincipal, session: SessionDep
) -> ModerationResult:
    return await moderation.moderate(
        session=session, principal=principal, target="comment", target_id=comment_id, data=data
    )


@router.put(
    "/contributions/{contribution_id}/answer",
    response_model=AnswerPublic,
    dependencies=[Depends(rate_limited("write"))],
)
async def answer(
    contribution_id: int, data: AnswerInput, principal: CurrentPrincipal, session: SessionDep
) -> AnswerPublic:
    """The organiser's official answer (retenue, à l'étude, non retenue, hors sujet, pas de
    notre compétence) with its justification."""
    return await moderation.set_answer(
        session=session, contribution_id=contribution_id, data=data, principal=principal
    )
