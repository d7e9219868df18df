-- risk_warnings_week: risk_warnings.sql at $as_of (D) and at D - 7 (the Sunday before, for a Sunday D) in one
-- pass, for the weekly briefing's new and lifted warnings. One row per credit code warned at D or at D - 7;
-- every column but the last two is risk_warnings.sql's at D, by exactly its conditions: penalties_12m =
-- penalty records with (D minus one year) < decision_date <= D (for 29 Feb the bound is 28 Feb of the previous
-- year); departments_12m = distinct authority among them; severe_lists = distinct list_name in force at D;
-- reasons as there (empty for a code warned only at D - 7). warned = risk_warnings lists the code at D;
-- warned_week_before = it lists it at D - 7 (the same conditions with D - 7 in place of D). Natural persons
-- (no credit code) excluded. Filters: $sector, $district (register, else '未登记'), as in risk_warnings.sql.
-- Rows in risk_warnings.sql's order, so the rows with warned are its rows at D, in its order.
-- Both dates in one scan: the penalties of (bound of D - 7, D] and the list records in force at either date,
-- each count filtered to its own date's window. The latest penalty's subject_name (the name when the register
-- has none) is looked up only for the codes that need it.
WITH d AS (
    SELECT
        $as_of::DATE AS now_end,
        year_before($as_of) AS now_bound,
        ($as_of::DATE - 7) AS before_end,
        year_before($as_of::DATE - 7) AS before_bound
),
pen AS (
    -- Counts per (code, authority) first, then per code: the number of authorities is count(DISTINCT
    -- authority) (NULL not counted), one hash table instead of a distinct set per code and date.
    SELECT
        credit_code,
        sum(n_now)::BIGINT AS penalties_12m,
        count(authority) FILTER (WHERE n_now > 0) AS departments_12m,
        sum(n_before)::BIGINT AS penalties_before,
        count(authority) FILTER (WHERE n_before > 0) AS departments_before
    FROM (
        SELECT
            p.credit_code,
            p.authority,
            count(*) FILTER (WHERE p.decision_date > d.now_bound) AS n_now,
            count(*) FILTER (WHERE p.decision_date <= d.before_end) AS n_before
        FROM penalty_subjects() AS p, d
        WHERE p.credit_code IS NOT NULL
            AND p.decision_date > d.before_bound
            AND p.decision_date <= d.now_end
        GROUP BY ALL
    )
    GROUP BY credit_code
),
lists AS (
    SELECT
        l.credit_code,
        count(DISTINCT l.list_name) FILTER (
            WHERE in_force(l.listed_on, l.removed_on, d.now_end)
        ) AS severe_lists,
        arg_max(l.name, l.listed_on) FILTER (
            WHERE in_force(l.listed_on, l.removed_on, d.now_end)
        ) AS list_subject,
        count(DISTINCT l.list_name) FILTER (
            WHERE in_force(l.listed_on, l.removed_on, d.before_end)
        ) AS lists_before
    FROM list_subjects() AS l, d
    WHERE l.listed_on <= d.now_end
        AND (l.removed_on IS NULL OR l.removed_on > d.before_end)
    GROUP BY l.credit_code
),
codes AS (
    SELECT
        coalesce(p.credit_code, l.credit_code) AS credit_code,
        coalesce(p.penalties_12m, 0) AS penalties_12m,
        coalesce(p.departments_12m, 0) AS departments_12m,
        coalesce(l.severe_lists, 0) AS severe_lists,
        l.list_subject,
        coalesce(p.penalties_before, 0) AS penalties_before,
        coalesce(p.departments_before, 0) AS departments_before,
        coalesce(l.lists_before, 0) AS lists_before
    FROM pen AS p
    FULL OUTER JOIN lists AS l ON l.credit_code = p.credit_code
),
flagged AS (
    SELECT
        *,
        warned(
            penalties_12m, departments_12m, severe_lists, $warn_penalties, $warn_departments, $warn_severe_lists
        ) AS warned,
        warned(
            penalties_before, departments_before, lists_before, $warn_penalties, $warn_departments, $warn_severe_lists
        ) AS warned_week_before
    FROM codes
),
warned AS (
    SELECT
        *,
        warning_reasons(
            penalties_12m, departments_12m, severe_lists, $warn_penalties, $warn_departments, $warn_severe_lists
        ) AS reasons
    FROM flagged
    WHERE warned OR warned_week_before
),
registered AS (
    SELECT w.*, e.name AS register_name, e.sector, e.district
    FROM warned AS w
    LEFT JOIN entities AS e ON e.credit_code = w.credit_code
    WHERE ($sector::VARCHAR IS NULL OR coalesce(e.sector, '未登记') = $sector::VARCHAR)
        AND ($district::VARCHAR IS NULL OR coalesce(e.district, '未登记') = $district::VARCHAR)
),
subjects AS (
    -- The latest penalty's subject_name at D, as in risk_warnings.sql: needed only where the register has no name.
    SELECT p.credit_code, arg_max(p.subject_name, p.decision_date) AS subject_name
    FROM penalty_subjects() AS p, d
    WHERE p.credit_code IN (SELECT credit_code FROM registered WHERE register_name IS NULL)
        AND p.decision_date > d.now_bound
        AND p.decision_date <= d.now_end
    GROUP BY p.credit_code
)
SELECT
    r.credit_code,
    coalesce(r.register_name, s.subject_name, r.list_subject) AS name,
    coalesce(r.sector, '未登记') AS sector,
    coalesce(r.district, '未登记') AS district,
    r.penalties_12m,
    r.departments_12m,
    r.severe_lists,
    r.reasons,
    r.warned,
    r.warned_week_before
FROM registered AS r
LEFT JOIN subjects AS s ON s.credit_code = r.credit_code
ORDER BY
    NOT r.warned,
    len(r.reasons) DESC,
    r.penalties_12m DESC,
    r.departments_12m DESC,
    r.severe_lists DESC,
    r.credit_code
