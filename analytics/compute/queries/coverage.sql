-- coverage: per dataset, the union of the periods of its loaded uploads (upload_coverage), as separate
-- periods: two periods that overlap or touch (the next starts at most one day after the last ends) are one;
-- a day between them that no upload covers is a gap. Independent of the as-of date.
WITH periods AS (
    SELECT c.dataset, c.covers_from AS f, c.covers_through AS t
    FROM upload_coverage AS c
    JOIN uploads AS u ON u.id = c.upload_id
    WHERE u.status = 'loaded'
),
ordered AS (
    SELECT
        dataset, f, t,
        max(t) OVER (PARTITION BY dataset ORDER BY f, t ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM periods
),
islands AS (
    SELECT
        dataset, f, t,
        sum(CASE WHEN reach IS NULL OR f > reach + 1 THEN 1 ELSE 0 END)
            OVER (PARTITION BY dataset ORDER BY f, t ROWS UNBOUNDED PRECEDING) AS island
    FROM ordered
)
SELECT dataset, min(f) AS covered_from, max(t) AS covered_through
FROM islands
GROUP BY dataset, island
ORDER BY dataset, covered_from
