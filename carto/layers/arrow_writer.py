"""Stream rows from an async cursor into one GDAL layer (GeoPackage, FlatGeobuf) via Arrow.

GDAL keeps the file open for the whole layer and consumes a stream of record batches
(`pyogrio.write_arrow`), so the GeoPackage R-tree is built once at the end and
FlatGeobuf needs no second pass (figures: bench/export_million.py). The cursor is read
on the event loop while a worker thread writes; a queue of two batches joins them.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pyarrow as pa
import pyogrio
from sqlalchemy import Row

from carto.layers.catalog import Column, Layer

_DONE = object()
_TYPES = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "datetime": pa.timestamp("ms", tz="UTC"),
    "date": pa.date32(),
}
GEOMETRY_FIELD = "geom"


def arrow_type(column: Column) -> pa.DataType:
    """Arrow type for a column (text for text and JSON, which SQL sends as text)."""
    return _TYPES.get(column.kind, pa.string())


def arrow_schema(layer: Layer) -> pa.Schema:
    fields = [pa.field(c.name, arrow_type(c)) for c in layer.properties]
    wkb = pa.field(GEOMETRY_FIELD, pa.binary(), metadata={"ARROW:extension:name": "geoarrow.wkb"})
    return pa.schema([*fields, wkb])


def record_batch(schema: pa.Schema, rows: Sequence[Row[Any]]) -> pa.RecordBatch:
    """Rows (properties in schema order, then WKB) as one Arrow record batch."""
    columns = [
        pa.array([row[i] for row in rows], type=field.type) for i, field in enumerate(schema)
    ]
    return pa.record_batch(columns, schema=schema)


def _batches(inbox: queue.Queue[Any]) -> Iterator[pa.RecordBatch]:
    while (item := inbox.get()) is not _DONE:
        if isinstance(item, BaseException):
            raise item
        yield item


async def write_layer(
    chunks: AsyncIterator[Sequence[Row[Any]]],
    layer: Layer,
    path: Path,
    *,
    name: str,
    driver: str,
    geometry_type: str,
    **options: Any,
) -> int:
    """Write every chunk as layer `name` of `path`; returns the number of features."""
    schema = arrow_schema(layer)
    inbox: queue.Queue[Any] = queue.Queue(maxsize=2)

    def write() -> None:
        reader = pa.RecordBatchReader.from_batches(schema, _batches(inbox))
        pyogrio.write_arrow(
            reader,
            path,
            layer=name,
            driver=driver,
            geometry_name=GEOMETRY_FIELD,
            geometry_type=geometry_type,
            crs="EPSG:4326",
            **options,
        )

    writer = asyncio.ensure_future(anyio.to_thread.run_sync(write))
    count = 0
    try:
        async for rows in chunks:
            batch = record_batch(schema, rows)
            await _put(inbox, batch, writer)
            count += len(rows)
    except BaseException as exc:
        await _put(inbox, exc, writer)
        await asyncio.gather(writer, return_exceptions=True)
        raise
    await _put(inbox, _DONE, writer)
    await writer
    return count


async def _put(inbox: queue.Queue[Any], item: Any, writer: asyncio.Future[None]) -> None:
    """Hand `item` to the writer thread, unless it already stopped (its error then wins)."""
    while not writer.done():
        try:
            inbox.put_nowait(item)
            return
        except queue.Full:
            await asyncio.sleep(0.005)
    writer.result()  # re-raise the writer's failure
