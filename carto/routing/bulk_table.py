"""The bulk path's caches: every place as one indexed list, and the decisions made there.

A decision depends only on the place (commune, or arrondissement of Paris, Lyon or
Marseille), the category, the road class given, which rules are in force (constant
between two of the rules' start or end dates) and the routing data (one version
stamp, changed by any write to it: migrations r002, r003). So the decisions are kept
per (version, streets loaded, category, road class, period), in an array indexed by
place, filled lazily by the very code the single path runs (`candidates_for` and
`decide`) the first time a batch meets a place. A batch of a million points then
locates them, takes their decisions by index and builds its frame from codes.
Where the street around each point decides (an extract is loaded and no road class
is given), nothing is cached: those points are decided one by one.
"""

from __future__ import annotations

import bisect
import threading
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import shapely

from carto.errors import CartoError
from carto.routing.decision import Place, RoutingDecision, UnknownCategory, decide
from carto.routing.locator import PointLocator
from carto.routing.ruleset import RuleSet, candidates_for

INVALID, OUTSIDE = -2, -1  # a point's outcome: not a point; outside every commune
UNKNOWN, STREET = -1, -3  # a place's slot: not decided yet; decided per point by its street
CACHED_TABLES = 4  # about 70 MiB each once every commune of France is met
ARR_CELL = 0.0005  # arrondissements are small: 97 % of points settled by the grid
Outcome = RoutingDecision | CartoError
Key = tuple[str | None, str | None, str, str | None]  # commune, arrondissement, category, road


@dataclass
class Places:
    """Every commune (INSEE order), then every arrondissement (INSEE order): place index."""

    version: str
    codes: np.ndarray  # commune INSEE codes, sorted as the locator sorts them
    communes: list[dict[str, Any]]  # insee, nom, departement, authority_id
    arr_codes: np.ndarray
    arr_parent: np.ndarray  # place index of each arrondissement's commune
    arr_names: list[str]
    arr_locator: PointLocator | None
    postcodes: dict[str, str]  # INSEE code -> its only postcode
    is_parent: np.ndarray = field(init=False)  # per commune index (and -1): has arrondissements

    def __post_init__(self) -> None:
        self.is_parent = np.zeros(len(self.codes) + 1, dtype=bool)
        self.is_parent[self.arr_parent] = True

    def key(self, place: int, category: str, road: str | None) -> Key:
        n = len(self.codes)
        if place < n:
            return (str(self.codes[place]), None, category, road)
        return (self.communes[int(self.arr_parent[place - n])]["insee"],
                str(self.arr_codes[place - n]), category, road)  # fmt: skip

    def place(self, idx: int) -> tuple[dict[str, Any], Place]:
        n = len(self.codes)
        arr = idx - n if idx >= n else None
        commune = self.communes[int(self.arr_parent[arr]) if arr is not None else idx]
        arr_code = str(self.arr_codes[arr]) if arr is not None else None
        return commune, Place(
            commune_insee=commune["insee"], commune_nom=commune["nom"],
            arrondissement_insee=arr_code,
            arrondissement_nom=self.arr_names[arr] if arr is not None else None,
            postcode=self.postcodes.get(arr_code or commune["insee"]),
        )  # fmt: skip

    def refine(self, commune_idx: np.ndarray, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """Place index per located point: its arrondissement's where one of its own
        commune covers it (lowest code on a shared edge), else its commune's."""
        out = commune_idx.copy()
        if self.arr_locator is None:
            return out
        sel = np.flatnonzero(self.is_parent[commune_idx])  # -1 (none): the last, False
        if sel.size:
            found = self.arr_locator.locate(lons[sel], lats[sel])
            own = found >= 0
            own[own] = self.arr_parent[found[own]] == commune_idx[sel[own]]
            out[sel[own]] = len(self.codes) + found[own]
        return out


def load_places(conn: psycopg.Connection, version: str) -> Places:
    rows = conn.execute(
        "SELECT insee, nom, departement, authority_id FROM commune"
    ).fetchall()  # fmt: skip
    codes = np.array([r[0] for r in rows], dtype=object)
    order = np.argsort(codes, kind="stable")
    communes = [
        {"insee": r[0], "nom": r[1], "departement": r[2], "authority_id": r[3]}
        for r in (rows[i] for i in order.tolist())
    ]
    codes = codes[order]
    arr = conn.execute(
        "SELECT insee, nom, commune_insee, ST_AsBinary(geom) FROM arrondissement"
    ).fetchall()
    arr.sort(key=lambda r: r[0])
    parent = np.searchsorted(codes, np.array([r[2] for r in arr], dtype=object))
    known = [i for i, r in enumerate(arr) if parent[i] < len(codes) and codes[parent[i]] == r[2]]
    arr = [arr[i] for i in known]
    arr_codes = np.array([r[0] for r in arr], dtype=object)
    locator = (
        PointLocator.build(arr_codes, shapely.from_wkb([bytes(r[3]) for r in arr]), ARR_CELL)
        if arr
        else None
    )
    postcodes: dict[str, str] = dict(
        conn.execute(
            """SELECT insee, min(postcode) FROM geocode_postcode
               GROUP BY insee HAVING count(*) = 1"""
        ).fetchall()
    )
    return Places(version, codes, communes, arr_codes, parent[known].astype(np.int64),
                  [r[1] for r in arr], locator, postcodes)  # fmt: skip


@dataclass
class Block:
    """Outcomes in the order they were made, with each output column as codes into its
    distinct values (kept as they grow): a frame is then built by integer takes."""

    outcomes: list[Outcome] = field(default_factory=list)
    codes: dict[str, array[int]] = field(default_factory=dict)
    values: dict[str, list[Any]] = field(default_factory=dict)
    _index: dict[str, dict[Any, int]] = field(default_factory=dict)
    _arrays: dict[str, np.ndarray] = field(default_factory=dict)
    # Per column: the blocks (with sizes) last merged starting with this one, and the
    # result (bulk_frame): a repeated batch over the same tables merges nothing.
    merged: dict[str, tuple[tuple[tuple[int, int], ...], Any]] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> int:
        for name, value in row(outcome).items():
            index = self._index.setdefault(name, {})
            code = index.get(value)
            if code is None:
                code = index[value] = len(index)
                self.values.setdefault(name, []).append(value)
            self.codes.setdefault(name, array("q")).append(code)
        self.outcomes.append(outcome)
        return len(self.outcomes) - 1

    def index_of(self, name: str, value: Any, limit: int) -> int | None:
        """The code of `value` in column `name` if below `limit` (values added since a
        caller's snapshot do not count)."""
        code = self._index.get(name, {}).get(value)
        return code if code is not None and code < limit else None

    def code_array(self, name: str, size: int) -> np.ndarray:
        """The first `size` codes of column `name` as an array (kept until it grows)."""
        found = self._arrays.get(name)
        if found is None or len(found) < size:
            found = self._arrays[name] = np.array(self.codes[name], dtype=np.int64)
        return found[:size]


COLUMNS = ("status", "message", "arrondissement_insee", "intercommunalite_siren", "rule_id",
           "authority_id", "authority", "service_id", "service", "informed_service_ids",
           "explanation", "rule_kind", "legal_basis")  # fmt: skip


def row(result: Outcome) -> dict[str, Any]:
    """One outcome's output columns (hashable values: informed services as a tuple)."""
    if isinstance(result, CartoError):
        out: dict[str, Any] = dict.fromkeys(COLUMNS)
        out.update(status=result.code, message=result.message)
        return out
    return {
        "status": "routed",
        "message": None,
        "arrondissement_insee": result.arrondissement_insee,
        "intercommunalite_siren": result.intercommunalite_siren,
        "rule_id": result.rule_id,
        "authority_id": result.authority_id,
        "authority": result.authority_name,
        "service_id": result.service_id,
        "service": result.service_name,
        "informed_service_ids": tuple(i.service_id for i in result.informed),
        "explanation": result.explanation,
        "rule_kind": result.rule_kind,
        "legal_basis": result.legal_basis,
    }


@dataclass
class DecisionTable:
    """The outcome at each place for one (version, streets, category, road, period)."""

    slots: np.ndarray  # per place: index into block.outcomes, UNKNOWN or STREET
    block: Block = field(default_factory=Block)
    lock: threading.Lock = field(default_factory=threading.Lock)
    street: bool = False  # some place's outcome depends on the street of each point


def decide_at(
    conn: psycopg.Connection, places: Places, ruleset: RuleSet, has_streets: bool,
    idx: int, category: str, road: str | None, at: datetime, lon: float, lat: float,
    street: Any,
) -> tuple[Outcome, bool]:  # fmt: skip
    """The outcome at one point of place `idx`, and whether it holds for the whole
    place (not when the street around this very point decided). `street(lon, lat,
    road)` looks the street up, as the single path does."""
    needs_street = False
    try:
        info = ruleset.categories.get(category)
        if info is None:
            raise UnknownCategory(f"Catégorie inconnue : « {category} ».")
        commune, place = places.place(idx)
        candidates = candidates_for(ruleset, commune, category, at)
        needs_street = bool(has_streets and candidates and not road)
        near = street(conn, lon, lat, road) if road or needs_street else None
        return decide(lon=lon, lat=lat, at=at, place=place, category=info,
                      candidates=candidates, street=near), not needs_street  # fmt: skip
    except CartoError as exc:  # NoCompetence may depend on the street too
        return exc, not needs_street


class Caches:
    """Places per version, decision tables per key (least recently used dropped)."""

    def __init__(self) -> None:
        self._places: Places | None = None
        self._tables: OrderedDict[tuple[Any, ...], DecisionTable] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget everything (benchmarks: the state right after a rule change)."""
        with self._lock:
            self._places = None
            self._tables.clear()

    def places(self, conn: psycopg.Connection, version: str) -> Places:
        with self._lock:
            found = self._places
        if found is not None and found.version == version:
            return found
        found = load_places(conn, version)
        with self._lock:
            self._places = found
        return found

    def table(
        self, places: Places, ruleset: RuleSet, has_streets: bool, category: str,
        road: str | None, at: datetime,
    ) -> DecisionTable:  # fmt: skip
        key = (places.version, ruleset.version, has_streets, category, road,
               period(ruleset, category, at))  # fmt: skip
        with self._lock:
            found = self._tables.get(key)
            if found is None:
                size = len(places.codes) + len(places.arr_codes)
                found = self._tables[key] = DecisionTable(np.full(size, UNKNOWN, np.int64))
                while len(self._tables) > CACHED_TABLES:
                    self._tables.popitem(last=False)
            self._tables.move_to_end(key)
            return found


def period(ruleset: RuleSet, category: str, at: datetime) -> int:
    """Which stretch between the category's rules' start and end dates holds `at`: the
    rules in force are the same all along one stretch."""
    bounds = sorted(
        {
            d
            for r in ruleset.rules.get(category, [])
            for d in (r["valid_from"], r["valid_to"])
            if d is not None
        }  # fmt: skip
    )
    return bisect.bisect_right(bounds, at)


@dataclass
class Batch:
    """Per point an index into the outcomes of `blocks` laid end to end (or INVALID,
    OUTSIDE), and the commune located (index into `codes`, -1: none)."""

    which: np.ndarray
    blocks: list[tuple[Block, int]]  # each block and how many of its outcomes count
    commune: np.ndarray
    codes: np.ndarray

    def commune_dtype(self) -> pd.CategoricalDtype:
        """The communes as categories (made once per list of communes)."""
        return _commune_dtype(self.codes)

    def outcomes(self) -> list[Outcome]:
        return [o for block, size in self.blocks for o in block.outcomes[:size]]


_DTYPES: OrderedDict[int, tuple[np.ndarray, pd.CategoricalDtype]] = OrderedDict()


def _commune_dtype(codes: np.ndarray) -> pd.CategoricalDtype:
    found = _DTYPES.get(id(codes))
    if found is None or found[0] is not codes:
        found = _DTYPES[id(codes)] = (codes, pd.CategoricalDtype(pd.Index(codes, dtype=object)))
        while len(_DTYPES) > 2:
            _DTYPES.popitem(last=False)
    return found[1]


CACHES = Caches()
