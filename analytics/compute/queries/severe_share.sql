-- severe_share: per month of the window and per register sector (plus '全部' for all sectors):
-- entities = registered entities active at the month end E (established <= E, deregistered null or > E);
-- severe = how many of them have at least one severe-list record in force at E
-- (listed_on <= E, removed_on null or > E); share = severe / entities, null when entities is 0.
-- E is the month's last day, or $as_of for $as_of's own month. Filters: $sector, $district (register).
WITH months AS (
    SELECT month, month_end FROM window_months($as_of, $months)
),
ent AS (
    SELECT credit_code, sector, established, deregistered
    FROM entities
    WHERE ($district::VARCHAR IS NULL OR district = $district::VARCHAR)
),
sectors AS (
    SELECT DISTINCT sector, 1 AS sort_key FROM ent
    UNION ALL
    SELECT '全部' AS sector, 0 AS sort_key
),
active AS (
    SELECT m.month, m.month_end, e.credit_code, e.sector
    FROM months AS m
    JOIN ent AS e
        ON e.established <= m.month_end
        AND (e.deregistered IS NULL OR e.deregistered > m.month_end)
),
in_force AS (
    SELECT DISTINCT m.month, s.credit_code
    FROM months AS m
    JOIN list_subjects() AS s ON in_force(s.listed_on, s.removed_on, m.month_end)
),
counts AS (
    SELECT
        a.month,
        CASE WHEN grouping(a.sector) = 1 THEN '全部' ELSE a.sector END AS sector,
        count(*) AS entities,
        count(f.credit_code) AS severe
    FROM active AS a
    LEFT JOIN in_force AS f ON f.month = a.month AND f.credit_code = a.credit_code
    GROUP BY GROUPING SETS ((a.month, a.sector), (a.month))
)
SELECT
    m.month,
    s.sector,
    coalesce(c.entities, 0) AS entities,
    coalesce(c.severe, 0) AS severe,
    c.severe / nullif(c.entities, 0) AS share
FROM months AS m
CROSS JOIN sectors AS s
LEFT JOIN counts AS c ON c.month = m.month AND c.sector = s.sector
WHERE ($sector::VARCHAR IS NULL OR s.sector = $sector::VARCHAR)
ORDER BY m.month, s.sort_key, s.sector
