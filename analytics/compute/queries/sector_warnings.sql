-- sector_warnings: per month of the window and per sector, how many credit codes risk_warnings.sql lists
-- at that month's end E (the month's last day, or $as_of in its own month): the same conditions, read at E
-- instead of $as_of. penalties_12m = penalty records with (E minus one year) < decision_date <= E (for E =
-- 29 Feb the bound is 28 Feb of the previous year); departments_12m = distinct authority among them;
-- severe_lists = distinct list_name in force at E. Warned when penalties_12m >= $warn_penalties,
-- departments_12m >= $warn_departments or severe_lists >= $warn_severe_lists; natural persons (no credit
-- code) excluded. sector = register sector, else '未登记'. Every register sector appears every month (0 when
-- none), '未登记' every month once it has a warned code in any of them. Filters: $sector, $district
-- (register, else '未登记'), as in risk_warnings.sql.
-- The window in one pass instead of one risk_warnings per month: a code's counts at any E are at most its
-- counts over the union of the windows (span_pen, span_lists), so a code whose span counts meet no threshold
-- is warned at no E. Only the others (candidates) are counted month by month.
WITH months AS (
    SELECT month, month_end FROM window_months($as_of, $months)
),
bounds AS (
    SELECT month, month_end, year_before(month_end) AS year_before
    FROM months
),
span_pen AS NOT MATERIALIZED (
    -- Penalty records inside some month's window: (earliest year_before, $as_of].
    SELECT credit_code, authority, decision_date
    FROM penalty_subjects()
    WHERE credit_code IS NOT NULL
        AND decision_date > (SELECT min(year_before) FROM bounds)
        AND decision_date <= $as_of::DATE
),
span_lists AS (
    -- List records in force at some month end: listed by the last E, not removed by the first.
    SELECT credit_code, list_name, listed_on, removed_on
    FROM list_subjects()
    WHERE listed_on <= $as_of::DATE
        AND (removed_on IS NULL OR removed_on > (SELECT min(month_end) FROM bounds))
),
candidates AS (
    -- risk_warnings' conditions over the whole span. Counts per (code, authority) first, then per code: the
    -- number of authorities is count(DISTINCT authority) (NULL not counted), with one hash table fewer.
    SELECT coalesce(p.credit_code, l.credit_code) AS credit_code
    FROM (
        SELECT credit_code, sum(n) AS penalties, count(authority) AS departments
        FROM (SELECT credit_code, authority, count(*) AS n FROM span_pen GROUP BY ALL)
        GROUP BY credit_code
    ) AS p
    FULL OUTER JOIN (
        SELECT credit_code, count(DISTINCT list_name) AS severe_lists
        FROM span_lists
        GROUP BY credit_code
    ) AS l ON l.credit_code = p.credit_code
    WHERE warned(
        coalesce(p.penalties, 0),
        coalesce(p.departments, 0),
        coalesce(l.severe_lists, 0),
        $warn_penalties,
        $warn_departments,
        $warn_severe_lists
    )
),
pen AS (
    -- Each candidate's penalties_12m and departments_12m at each E, counted as in candidates.
    SELECT month, credit_code, sum(n) AS penalties_12m, count(authority) AS departments_12m
    FROM (
        SELECT b.month, p.credit_code, p.authority, count(*) AS n
        FROM span_pen AS p
        SEMI JOIN candidates AS c ON c.credit_code = p.credit_code
        JOIN bounds AS b ON p.decision_date > b.year_before AND p.decision_date <= b.month_end
        GROUP BY ALL
    )
    GROUP BY ALL
),
lists AS (
    SELECT
        b.month,
        l.credit_code,
        count(DISTINCT l.list_name) AS severe_lists
    FROM span_lists AS l
    SEMI JOIN candidates AS c ON c.credit_code = l.credit_code
    JOIN bounds AS b ON in_force(l.listed_on, l.removed_on, b.month_end)
    GROUP BY ALL
),
codes AS (
    -- From here on as risk_warnings.sql, one row per (month, code).
    SELECT
        coalesce(p.month, l.month) AS month,
        coalesce(p.credit_code, l.credit_code) AS credit_code,
        coalesce(p.penalties_12m, 0) AS penalties_12m,
        coalesce(p.departments_12m, 0) AS departments_12m,
        coalesce(l.severe_lists, 0) AS severe_lists
    FROM pen AS p
    FULL OUTER JOIN lists AS l ON l.month = p.month AND l.credit_code = p.credit_code
),
warned AS (
    SELECT
        w.month,
        coalesce(e.sector, '未登记') AS sector,
        count(*) AS value
    FROM codes AS w
    LEFT JOIN entities AS e ON e.credit_code = w.credit_code
    WHERE warned(
            w.penalties_12m, w.departments_12m, w.severe_lists, $warn_penalties, $warn_departments, $warn_severe_lists
        )
        AND ($sector::VARCHAR IS NULL OR coalesce(e.sector, '未登记') = $sector::VARCHAR)
        AND ($district::VARCHAR IS NULL OR coalesce(e.district, '未登记') = $district::VARCHAR)
    GROUP BY ALL
),
keys AS (
    SELECT m.month, s.sector
    FROM months AS m
    CROSS JOIN (
        SELECT sector
        FROM entities
        WHERE ($sector::VARCHAR IS NULL OR sector = $sector::VARCHAR)
            AND ($district::VARCHAR IS NULL OR district = $district::VARCHAR)
        UNION
        SELECT sector FROM warned
    ) AS s
)
SELECT
    k.month,
    k.sector,
    coalesce(w.value, 0) AS value
FROM keys AS k
LEFT JOIN warned AS w ON w.month = k.month AND w.sector = k.sector
ORDER BY k.month, k.sector = '未登记', k.sector
