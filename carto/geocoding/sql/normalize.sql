-- French normalisation for address search: one definition, used by the importer (stored
-- `norm` columns), by the expression indexes on territory and street names, and by every
-- query (so both sides of a comparison are always normalised alike).
--
-- Lower case, no accents (unaccent), punctuation to spaces, ordinals folded ("3ème",
-- "3eme", "3e" -> "3e"; "1er" -> "1e"), the usual abbreviations of French street types
-- and saints expanded; the word "arrondissement" dropped ("Lyon 3e Arrondissement" is
-- found as "Lyon 3e", "Lyon 3ème" or "lyon 3"). Declared IMMUTABLE so that it can be indexed: unaccent itself is
-- only STABLE because its dictionary could change; ours is the one shipped with PostgreSQL.
CREATE OR REPLACE FUNCTION public.carto_geo_norm(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT btrim(regexp_replace(
  regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
  regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
  regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(regexp_replace(
      lower(public.unaccent('public.unaccent'::regdictionary, t)),
      '[^a-z0-9]+', ' ', 'g'),
    '\m(\d+) ?(er|ere|eme|em|e|me)\M', '\1e', 'g'),
    '\mste\M', 'sainte', 'g'),
    '\mst\M', 'saint', 'g'),
    '\m(bd|bld|blvd|boul|bvd)\M', 'boulevard', 'g'),
    '\m(av|ave|avn)\M', 'avenue', 'g'),
    '\m(pl|plc)\M', 'place', 'g'),
    '\m(ch|chem|che)\M', 'chemin', 'g'),
    '\m(imp)\M', 'impasse', 'g'),
    '\m(rte)\M', 'route', 'g'),
    '\m(fg|fbg|faub)\M', 'faubourg', 'g'),
    '\m(sq)\M', 'square', 'g'),
    '\m(crs)\M', 'cours', 'g'),
    '\m(all)\M', 'allee', 'g'),
    '\m(r)\M', 'rue', 'g'),
    '\m(pdt|pres)\M', 'president', 'g'),
    '\m(arrondissement|arr|arrdt)\M', ' ', 'g'),
  '\s+', ' ', 'g'))
$$;

-- The postcode a commune is known by (the smallest; for Lyon, Paris, Marseille the
-- smallest of their arrondissements'), by index lookups only.
CREATE OR REPLACE FUNCTION public.carto_main_postcode(code text) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
SELECT min(gp.postcode) FROM geocode_postcode gp
WHERE gp.insee = ANY (ARRAY[code] || ARRAY(
    SELECT a.insee::text FROM arrondissement a WHERE a.commune_insee = code))
$$;
