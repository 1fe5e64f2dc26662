"""Round planning in and out (JSON)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

MAX_STOPS = 100  # a day's round; the ordering stays well under a second at this size


class LonLat(BaseModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class DepotIn(LonLat):
    name: str = Field(min_length=1, max_length=200, description="ex. « Centre technique »")


class DepotPublic(LonLat):
    service_id: int
    name: str


class RoundIn(BaseModel):
    """Which open tickets of the service to visit, from where, within how long."""

    signalement_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        min_length=1, max_length=MAX_STOPS
    )
    start: LonLat | None = Field(None, description="départ ; par défaut le dépôt du service")
    budget_minutes: int | None = Field(None, ge=10, le=24 * 60, description="temps disponible")
    speed_kmh: float = Field(15.0, gt=0, le=90, description="vitesse moyenne entre deux arrêts")
    stop_minutes: int = Field(10, ge=0, le=240, description="temps passé à chaque arrêt")


class RoundStop(BaseModel):
    rank: int
    signalement_id: int
    category: str
    address: str | None
    description: str
    location: LonLat
    leg_m: float
    cumulative_m: float
    eta_minutes: float
    distance_to_street_m: float


class SetApartStop(BaseModel):
    signalement_id: int
    reason: Literal["no_street", "unreachable", "over_budget"]
    message: str
    category: str
    address: str | None
    location: LonLat


class LineString(BaseModel):
    type: Literal["LineString"] = "LineString"
    coordinates: list[tuple[float, float]]


class RoundPublic(BaseModel):
    service_id: int
    start: LonLat
    start_name: str
    stops: list[RoundStop]
    set_apart: list[SetApartStop]
    route: LineString
    distance_m: float
    baseline_distance_m: float = Field(description="l'ordre du plus proche voisin, même arrêts")
    duration_minutes: float
    budget_minutes: int | None
