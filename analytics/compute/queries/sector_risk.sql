-- sector_risk: per month of the window and per register sector: penalties = penalty records with
-- decision_date in the month and <= $as_of, by the register sector of their entity (joined on credit_code;
-- records of entities not in the register, natural persons included, go to '未登记', shown only in months
-- that have some); entities = active registered entities of the sector at the month end E;
-- per_100 = penalties / entities * 100 (null when entities is 0). Every register sector appears every month.
-- Filters: $sector, $district (register sector / district; '未登记' for records outside the register).
WITH months AS (
    SELECT month, month_start, month_end FROM window_months($as_of, $months)
),
ent AS (
    SELECT credit_code, sector, established, deregistered FROM register_pool($sector, $district)
),
pen AS (
    SELECT month, sector, count(*) AS penalties
    FROM register_penalties($as_of, $months, $sector, $district)
    GROUP BY ALL
),
active AS (
    SELECT m.month, e.sector, count(*) AS entities
    FROM months AS m
    JOIN ent AS e
        ON e.established <= m.month_end
        AND (e.deregistered IS NULL OR e.deregistered > m.month_end)
    GROUP BY ALL
),
keys AS (
    SELECT m.month, s.sector
    FROM months AS m
    CROSS JOIN (SELECT DISTINCT sector FROM ent) AS s
    UNION
    SELECT month, sector FROM pen
)
SELECT
    k.month,
    k.sector,
    coalesce(p.penalties, 0) AS penalties,
    coalesce(a.entities, 0) AS entities,
    coalesce(p.penalties, 0) * 100.0 / nullif(a.entities, 0) AS per_100
FROM keys AS k
LEFT JOIN pen AS p ON p.month = k.month AND p.sector = k.sector
LEFT JOIN active AS a ON a.month = k.month AND a.sector = k.sector
ORDER BY k.month, k.sector = '未登记', k.sector
