"""The tile layers, as data: which public view, which properties, which filters.

Every layer reads a view of the `public_layers` schema (the privacy boundary) and
never a base table. Point layers are mirrored in `tiles.point_layer` (the heat
grid's triggers read the same view with the same dims); polygon layers in
`tiles.polygon_layer` (simplified copies per zoom band). Those rows, and the
triggers on each layer's `table`, are generated from this module when the tile SQL
is applied (carto/tiles/schema.py, carto/tiles/sql/layers.sql).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from carto.errors import NotFound
from carto.registry import Registry

Kind = Literal["point", "polygon"]


@dataclass(frozen=True)
class Filter:
    """A query parameter mapped to a view column; `dim` says which heat dimension it is."""

    param: str
    column: str
    dim: Literal["a", "b"] | None = None


@dataclass(frozen=True)
class TileLayer:
    name: str
    kind: Kind
    source: str
    title: str
    description: str
    properties: dict[str, str]  # MVT property -> TileJSON field type
    filters: tuple[Filter, ...] = ()
    date_column: str | None = None
    weights: dict[str, str] = field(default_factory=dict)  # ?weight= value -> column
    minzoom: int = 0
    maxzoom: int = 18
    cluster_below: int = 12  # point layers: clusters of heat cells under this zoom
    heat_maxzoom: int = 16
    # Points only, every property in tiles.heat_point (id, the two dims, the weight) and
    # never NULL: dense tiles are read from there and encoded by carto/tiles/stored.py.
    stored_points: bool = False
    # The table whose writes change the layer (its triggers keep the tiles current) and
    # that table's key, the view's `id`. None: a layer kept by hand (tests, benchmarks).
    table: str | None = None
    table_key: str = "id"

    @property
    def dims(self) -> dict[str, Filter]:
        return {f.dim: f for f in self.filters if f.dim}

    def filter_for(self, param: str) -> Filter | None:
        return next((f for f in self.filters if f.param == param), None)


NO_DIM = "-"  # what tiles.heat_point holds for an empty or NULL dimension


def stored_columns(layer: TileLayer) -> dict[str, str]:
    """Which `tiles.heat_point` column holds each MVT property of the layer."""
    dims = {f.column: f"dim_{d}" for d, f in layer.dims.items()}
    weights = set(layer.weights.values())
    columns: dict[str, str] = {}
    for prop in layer.properties:
        if prop == "count":
            continue  # clusters only
        if prop == "id":
            columns[prop] = "id"
        elif prop in dims:
            columns[prop] = dims[prop]
        elif prop in weights and len(weights) == 1:
            columns[prop] = "w"
        else:
            raise ValueError(f"layer {layer.name}: property {prop} is not in tiles.heat_point")
    return columns


POINT_LAYERS: tuple[TileLayer, ...] = (
    TileLayer(
        name="signalements",
        kind="point",
        source="public_layers.signalements",
        title="Signalements",
        description="Signalements publics (sans données personnelles), regroupés aux petits zooms.",
        properties={
            "id": "Number",
            "service_code": "String",
            "state": "String",
            "supports": "Number",
            "count": "Number",
        },
        filters=(
            Filter("service_code", "service_code", "a"),
            Filter("state", "state", "b"),
        ),
        date_column="created_at",
        weights={"supports": "supports"},
        stored_points=True,
        table="public.signalement",
    ),
    TileLayer(
        name="contributions",
        kind="point",
        source="public_layers.contributions",
        title="Contributions aux concertations",
        description="Contributions publiées des concertations, regroupées aux petits zooms.",
        properties={
            "id": "Number",
            "concertation": "String",
            "theme": "String",
            "kind": "String",
            "votes_for": "Number",
            "votes_against": "Number",
            "count": "Number",
        },
        filters=(
            Filter("concertation", "concertation", "a"),
            Filter("theme", "theme", "b"),
        ),
        date_column="created_at",
        weights={"votes": "votes_for"},
        table="public.contribution",
    ),
)

POLYGON_LAYERS: tuple[TileLayer, ...] = (
    TileLayer(
        name="communes",
        kind="polygon",
        source="public_layers.communes",
        title="Communes",
        description="Limites communales, simplifiées par tranche de zoom.",
        properties={"id": "String", "nom": "String", "population": "Number"},
        table="public.commune",
        table_key="insee",
    ),
    TileLayer(
        name="intercommunalites",
        kind="polygon",
        source="public_layers.intercommunalites",
        title="Intercommunalités",
        description="Intercommunalités (EPCI, EPT), simplifiées par tranche de zoom.",
        properties={"id": "String", "nom": "String", "nature": "String"},
        table="public.intercommunalite",
        table_key="siren",
    ),
    TileLayer(
        name="arrondissements",
        kind="polygon",
        source="public_layers.arrondissements",
        title="Arrondissements municipaux",
        description="Arrondissements (couche de référence).",
        properties={"id": "String", "nom": "String", "commune_insee": "String"},
        table="public.arrondissement",
        table_key="insee",
    ),
    TileLayer(
        name="reference_features",
        kind="polygon",
        source="public_layers.reference_features",
        title="Couches de référence des concertations",
        description="Zonages, périmètres et objets de référence importés pour une concertation.",
        properties={
            "id": "Number",
            "layer": "String",
            "concertation": "String",
            "layer_role": "String",
            "layer_color": "String",
        },
        filters=(Filter("concertation", "concertation"), Filter("layer", "layer")),
        table="public.reference_feature",
    ),
)

TILE_LAYERS: Registry[TileLayer] = Registry(
    "couche de tuiles", ((layer.name, layer) for layer in (*POINT_LAYERS, *POLYGON_LAYERS))
)
"""Every layer served as tiles: the built-in ones above (which the tile SQL's migrations
also read), plus any registered at run time (tests, benchmarks)."""


def get_layer(name: str, *, kind: Kind | None = None) -> TileLayer:
    """The layer called `name`, or NotFound (with the list of known layers)."""
    layer = TILE_LAYERS.get(name)
    if layer is None or (kind is not None and layer.kind != kind):
        known = ", ".join(sorted(n for n, lay in TILE_LAYERS.items() if kind in (None, lay.kind)))
        raise NotFound(f"Couche inconnue : « {name} ». Couches disponibles : {known}.")
    return layer
