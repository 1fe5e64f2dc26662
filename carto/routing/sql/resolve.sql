-- Where a point falls and which competence rules apply there, in one statement.
-- The commune is found through its GiST index (ST_Covers includes the boundary,
-- so on a shared edge the lowest INSEE code wins); the arrondissement is looked
-- for inside that commune only; the rules come ordered by precedence: road-class
-- rules first (they only apply next to such a road), then commune, intercommunality,
-- département and nationwide scopes, then the most recent start, then the id.
-- A rule's intercommunality is the one it names, else the commune's own EPCI, else
-- the lowest SIREN among its memberships.
-- One row per candidate rule; one row with NULL rule columns when none applies;
-- no row at all when the point is outside every commune.
WITH com AS (
    SELECT c.insee, c.nom, c.departement, c.epci_siren, c.authority_id
    FROM commune c
    WHERE ST_Covers(c.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
    ORDER BY c.insee
    LIMIT 1
),
mem AS (
    SELECT i.siren, i.nom, i.authority_id, (i.siren IS DISTINCT FROM com.epci_siren) AS other
    FROM com
    JOIN intercommunalite_member m ON m.insee = com.insee
    JOIN intercommunalite i ON i.siren = m.siren
),
cand AS (
    SELECT r.id, r.level, r.scope_kind, r.scope_code, r.road_class, r.valid_from,
           r.authority_id AS named_authority_id, r.inform,
           coalesce(r.service_slug, r.category_code) AS service_slug,
           CASE r.scope_kind WHEN 'commune' THEN 0 WHEN 'intercommunalite' THEN 1
                             WHEN 'departement' THEN 2 ELSE 3 END AS scope_rank
    FROM competence_rule r, com
    WHERE r.category_code = :category
      AND (r.valid_from IS NULL OR r.valid_from <= :at)
      AND (r.valid_to IS NULL OR r.valid_to > :at)
      AND (r.scope_kind = 'everywhere'
           OR (r.scope_kind = 'commune' AND r.scope_code = com.insee)
           OR (r.scope_kind = 'departement' AND r.scope_code = com.departement)
           OR (r.scope_kind = 'intercommunalite' AND r.scope_code IN (SELECT siren FROM mem)))
)
SELECT com.insee AS commune_insee, com.nom AS commune_nom, com.departement,
       arr.insee AS arrondissement_insee, arr.nom AS arrondissement_nom,
       cat.code AS category_code, cat.label AS category_label, cat.domain AS category_domain,
       cat.due_days AS category_due_days,
       ic.siren AS interco_siren, ic.nom AS interco_nom,
       cand.id AS rule_id, cand.level, cand.scope_kind, cand.scope_code, cand.road_class,
       cand.valid_from,
       a.id AS authority_id, a.name AS authority_name,
       s.id AS service_id, s.name AS service_name, s.slug AS service_slug, s.email AS service_email,
       CASE WHEN cand.inform IS NULL OR cand.inform = '[]'::jsonb THEN '[]'::jsonb ELSE (
         SELECT coalesce(jsonb_agg(jsonb_build_object(
               'service_id', s2.id, 'service_name', s2.name,
               'authority_id', a2.id, 'authority_name', a2.name) ORDER BY e.ord), '[]'::jsonb)
         FROM jsonb_array_elements(cand.inform) WITH ORDINALITY AS e(item, ord)
         JOIN authority a2 ON a2.id = CASE e.item->>'level'
             WHEN 'commune' THEN com.authority_id
             WHEN 'intercommunalite' THEN ic.authority_id
             WHEN 'authority' THEN (e.item->>'authority_id')::int
         END
         JOIN service s2 ON s2.authority_id = a2.id
                        AND s2.slug = coalesce(e.item->>'service', cat.code)
         WHERE s2.id IS DISTINCT FROM s.id) END AS informed,
       EXISTS (SELECT 1 FROM street_segment) AS has_streets
FROM com
LEFT JOIN LATERAL (
    SELECT r.insee, r.nom FROM arrondissement r
    WHERE r.commune_insee = com.insee
      AND ST_Covers(r.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
    ORDER BY r.insee LIMIT 1
) arr ON true
LEFT JOIN category cat ON cat.code = :category AND cat.active
LEFT JOIN cand ON true
LEFT JOIN LATERAL (
    SELECT m.siren, m.nom, m.authority_id FROM mem m
    WHERE CASE WHEN cand.scope_kind = 'intercommunalite' THEN m.siren = cand.scope_code
               ELSE true END
    ORDER BY m.other, m.siren
    LIMIT 1
) ic ON true
LEFT JOIN authority a ON a.id = CASE cand.level
    WHEN 'commune' THEN com.authority_id
    WHEN 'intercommunalite' THEN ic.authority_id
    WHEN 'authority' THEN cand.named_authority_id
END
LEFT JOIN service s ON s.authority_id = a.id AND s.slug = cand.service_slug
ORDER BY cand.road_class IS NULL, cand.scope_rank, cand.valid_from DESC NULLS LAST, cand.id
