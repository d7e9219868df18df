-- district_risk: per register district over the whole window: penalties = penalty records with
-- decision_date from the first day of the window's first month to $as_of, by the register district of their
-- entity (records outside the register, natural persons included, go to '未登记', shown only when there are
-- some); entities = registered entities active at $as_of; per_100 = penalties / entities * 100 (null when
-- entities is 0). Every register district appears. Filters: $sector, $district (register, else '未登记').
WITH ent AS (
    SELECT credit_code, district, established, deregistered FROM register_pool($sector, $district)
),
pen AS (
    SELECT district, count(*) AS penalties
    FROM register_penalties($as_of, $months, $sector, $district)
    GROUP BY ALL
),
active AS (
    SELECT district, count(*) AS entities
    FROM ent
    WHERE established <= $as_of::DATE
        AND (deregistered IS NULL OR deregistered > $as_of::DATE)
    GROUP BY district
),
keys AS (
    SELECT DISTINCT district FROM ent
    UNION
    SELECT district FROM pen
)
SELECT
    k.district,
    coalesce(p.penalties, 0) AS penalties,
    coalesce(a.entities, 0) AS entities,
    coalesce(p.penalties, 0) * 100.0 / nullif(a.entities, 0) AS per_100
FROM keys AS k
LEFT JOIN pen AS p ON p.district = k.district
LEFT JOIN active AS a ON a.district = k.district
ORDER BY k.district = '未登记', per_100 DESC NULLS LAST, k.district
