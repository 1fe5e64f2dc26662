-- Where a point falls, in one GiST-indexed statement: the commune (ST_Covers includes
-- the boundary, so on a shared edge the lowest INSEE code wins), the arrondissement
-- looked for inside that commune only, whether a street extract is loaded, and the
-- stamp of the routing data. The rules that apply there, and the place's postcode,
-- come from the process's cached rule set (ruleset.py), reloaded when the stamp
-- differs: a postcode subquery here cost as much as the commune's lookup.
-- No row at all when the point is outside every commune.
SELECT (SELECT v.version::text FROM routing_version v WHERE v.id = 1) AS version,
       EXISTS (SELECT 1 FROM street_segment) AS has_streets,
       com.insee AS commune_insee, com.nom AS commune_nom, com.departement,
       com.authority_id,
       arr.insee AS arrondissement_insee, arr.nom AS arrondissement_nom
FROM (
    SELECT c.insee, c.nom, c.departement, c.authority_id
    FROM commune c
    WHERE ST_Covers(c.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
    ORDER BY c.insee
    LIMIT 1
) com
LEFT JOIN LATERAL (
    -- coalesce() keeps the planner off the arrondissements' GiST index: the commune's
    -- own rows by its btree (none outside Paris, Lyon and Marseille) cost less than a
    -- GiST scan's setup, about a sixth of the statement elsewhere, the same in Paris.
    SELECT r.insee, r.nom FROM arrondissement r
    WHERE r.commune_insee = com.insee
      AND coalesce(ST_Covers(r.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)), false)
    ORDER BY r.insee LIMIT 1
) arr ON true
