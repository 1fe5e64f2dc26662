-- Forward search, one statement, in two passes as addok does:
-- 1. words: places whose normalised name (streets: name + town) holds every word of the
--    query, the last one as a prefix ("rue de to" finds "Rue de Tourcoing"); a GIN
--    posting-list intersection, so common words ("rue", "jean") cost little;
-- 2. trigrams (`%`, similarity >= pg_trgm's 0.3) on the names, only when the first pass
--    found nothing anywhere (a typo: "roubiax").
-- Candidates are scored against "name + town": 0.8 text (word_similarity, similarity)
-- + 0.1 importance (population, communes) + 0.1 proximity to the map view (when given).
-- A house number is then looked up on the best streets (b-tree).
-- Parameters: :t text (normalised here), :pc postcode, :hn, :rep, :lon, :lat, :lim.
WITH q0 AS (
    SELECT carto_geo_norm(CAST(:t AS text)) AS t,
           CAST(:pc AS text) AS pc,
           CAST(:hn AS integer) AS hn,
           CAST(:rep AS text) AS rep,
           CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL
                ELSE ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)
           END AS p
),
q AS (  -- the normalised text is only [a-z0-9 ]: safe to write as a tsquery
    SELECT q0.*,
           CASE WHEN q0.t = '' THEN NULL
                ELSE to_tsquery('simple', replace(q0.t, ' ', ' & ') || ':*') END AS tsq,
           CASE WHEN q0.t = '' THEN NULL
                ELSE to_tsquery('simple', replace(q0.t, ' ', ' | ') || ':*') END AS tsq_any
    FROM q0
),
muni_words AS (  -- "saint" matches thousands of communes: the most populated first
    (SELECT c.insee, c.nom, c.population, c.geom, c.geo_norm AS norm
     FROM commune c, q
     WHERE q.hn IS NULL AND q.pc IS NULL AND to_tsvector('simple', c.geo_norm) @@ q.tsq
     ORDER BY c.population DESC NULLS LAST LIMIT 100)
    UNION ALL
    SELECT a.insee, a.nom, a.population, a.geom, a.geo_norm
    FROM arrondissement a, q
    WHERE q.hn IS NULL AND q.pc IS NULL AND to_tsvector('simple', a.geo_norm) @@ q.tsq
),
town AS (SELECT EXISTS (SELECT 1 FROM muni_words m, q WHERE m.norm = q.t) AS exact),
street_words AS (  -- every word in name + town, and some word in the name itself (the
                   -- town's name alone would bring every street of the town)
    SELECT s.* FROM geocode_street s, q
    WHERE to_tsvector('simple', s.norm || ' ' || s.city_norm) @@ q.tsq
      AND to_tsvector('simple', s.norm) @@ q.tsq_any
      AND (q.pc IS NULL OR s.postcode = q.pc)
      AND NOT (SELECT exact FROM town)  -- "Roubaix" is the town (a one-time filter)
    ORDER BY CASE WHEN q.p IS NULL THEN 0 ELSE s.geom <-> q.p END
    LIMIT 300
),
osm_words AS (
    SELECT seg.name, seg.geo_norm, seg.geom FROM street_segment seg, q
    WHERE seg.name IS NOT NULL AND to_tsvector('simple', seg.geo_norm) @@ q.tsq
    LIMIT 500
),
fuzzy AS (
    SELECT NOT EXISTS (SELECT 1 FROM muni_words) AND NOT EXISTS (SELECT 1 FROM street_words)
           AND NOT EXISTS (SELECT 1 FROM osm_words) AS needed
),
muni AS (
    SELECT m.*, 0.8 * (0.55 * word_similarity(q.t, m.norm) + 0.45 * similarity(q.t, m.norm))
               + 0.1 * least(1.0, ln(1 + coalesce(m.population, 0)) / ln(1e6)) AS s0
    FROM q, (
        SELECT * FROM muni_words
        UNION ALL
        SELECT c.insee, c.nom, c.population, c.geom, c.geo_norm FROM commune c, q
        WHERE (SELECT needed FROM fuzzy) AND q.hn IS NULL AND q.pc IS NULL AND q.t % c.geo_norm
        UNION ALL
        SELECT a.insee, a.nom, a.population, a.geom, a.geo_norm FROM arrondissement a, q
        WHERE (SELECT needed FROM fuzzy) AND q.hn IS NULL AND q.pc IS NULL AND q.t % a.geo_norm
    ) m
    UNION ALL  -- with a postcode: the communes and arrondissements it serves, by name
    SELECT m.insee, m.nom, m.population, m.geom, m.norm,
           CASE WHEN q.t = '' THEN 0.9
                ELSE 0.8 * (0.55 * word_similarity(q.t, m.norm) + 0.45 * similarity(q.t, m.norm))
                     + 0.1 * least(1.0, ln(1 + coalesce(m.population, 0)) / ln(1e6)) END
    FROM q, geocode_postcode gp,
         LATERAL (SELECT c.insee, c.nom, c.population, c.geom, c.geo_norm AS norm FROM commune c
                  WHERE c.insee = gp.insee
                  UNION ALL
                  SELECT a.insee, a.nom, a.population, a.geom, a.geo_norm FROM arrondissement a
                  WHERE a.insee = gp.insee) m
    WHERE gp.postcode = q.pc AND q.hn IS NULL AND (q.t = '' OR q.t % m.norm)
),
muni_ranked AS (
    SELECT 'municipality' AS type, m.insee AS id, m.nom AS name, NULL::integer AS street_id,
           NULL::text AS postcode, m.insee AS citycode, m.nom AS city,
           ST_PointOnSurface(m.geom) AS geom,
           m.s0 + CASE WHEN q.p IS NULL THEN 0  -- box distance: no polygon read
                       ELSE 0.1 / (1 + (m.geom <#> q.p) * 111 / 5) END AS score
    FROM muni m, q
    ORDER BY score DESC
    LIMIT 20
),
ban_streets AS (
    SELECT 'street' AS type, s.street_key AS id, s.name, s.id AS street_id, s.postcode,
           s.citycode, s.city, s.geom,
           0.8 * (0.55 * word_similarity(q.t, s.norm || ' ' || s.city_norm)
                  + 0.45 * similarity(q.t, s.norm || ' ' || s.city_norm))
           + CASE WHEN q.p IS NULL OR s.geom IS NULL THEN 0
                  ELSE 0.1 / (1 + (s.geom <-> q.p) * 111 / 5) END AS score
    FROM q, (
        SELECT * FROM street_words
        UNION ALL
        SELECT s.* FROM geocode_street s, q
        WHERE (SELECT needed FROM fuzzy) AND q.t % s.norm AND (q.pc IS NULL OR s.postcode = q.pc)
    ) s
    ORDER BY score DESC
    LIMIT 20
),
osm_named AS (
    SELECT * FROM osm_words
    UNION ALL
    (SELECT seg.name, seg.geo_norm, seg.geom FROM street_segment seg, q
     WHERE (SELECT needed FROM fuzzy) AND seg.name IS NOT NULL AND q.t % seg.geo_norm
     ORDER BY similarity(q.t, seg.geo_norm) DESC
     LIMIT 60)
),
osm_streets AS (
    SELECT 'street' AS type, NULL::text AS id, o.name, NULL::integer AS street_id,
           NULL::text AS postcode, w.insee AS citycode, w.nom AS city, o.geom,
           0.8 * (0.55 * word_similarity(q.t, o.geo_norm || ' ' || w.geo_norm)
                  + 0.45 * similarity(q.t, o.geo_norm || ' ' || w.geo_norm))
           + CASE WHEN q.p IS NULL THEN 0
                  ELSE 0.1 / (1 + (o.geom <-> q.p) * 111 / 5) END - 0.01 AS score
    FROM (SELECT name, geo_norm, ST_LineInterpolatePoint(geom, 0.5) AS geom FROM osm_named) o,
         q,
         LATERAL (SELECT x.insee, x.nom, x.geo_norm FROM (
                      SELECT a.insee, a.nom, a.geo_norm, 0 AS k FROM arrondissement a
                      WHERE ST_Intersects(a.geom, o.geom)
                      UNION ALL
                      SELECT c.insee, c.nom, c.geo_norm, 1 FROM commune c
                      WHERE ST_Intersects(c.geom, o.geom)
                  ) x ORDER BY x.k LIMIT 1) w
    WHERE q.pc IS NULL OR EXISTS (
        SELECT 1 FROM geocode_postcode gp WHERE gp.insee = w.insee AND gp.postcode = q.pc)
),
ranked AS (
    SELECT * FROM muni_ranked
    UNION ALL SELECT * FROM ban_streets
    UNION ALL SELECT * FROM osm_streets
    ORDER BY score DESC
    LIMIT CAST(:lim AS integer) * 2 + 4
)
SELECT CASE WHEN a.ban_id IS NULL THEN r.type ELSE 'housenumber' END AS type,
       coalesce(a.ban_id, r.id) AS id,
       r.name AS street_name,
       a.numero, a.rep,
       coalesce(a.postcode, r.postcode, carto_main_postcode(r.citycode)) AS postcode,
       r.citycode, r.city,
       ST_X(coalesce(a.geom, r.geom)) AS lon, ST_Y(coalesce(a.geom, r.geom)) AS lat,
       least(1.0, r.score + CASE WHEN a.ban_id IS NOT NULL THEN 0.05
                                 WHEN q.hn IS NOT NULL AND r.type = 'street' THEN -0.05
                                 ELSE 0 END) AS score
FROM ranked r CROSS JOIN q
LEFT JOIN LATERAL (
    SELECT ad.ban_id, ad.numero, ad.rep, ad.postcode, ad.geom
    FROM geocode_address ad
    WHERE q.hn IS NOT NULL AND ad.street_id = r.street_id AND ad.numero = q.hn
    ORDER BY (ad.rep IS NOT DISTINCT FROM q.rep) DESC, ad.rep NULLS FIRST
    LIMIT 1
) a ON true
WHERE r.geom IS NOT NULL
ORDER BY score DESC
