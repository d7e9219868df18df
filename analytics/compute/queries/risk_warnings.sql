-- risk_warnings (seed item 十五) at $as_of, per credit code (natural persons without a code excluded):
-- penalties_12m = penalty records with ($as_of minus one year) < decision_date <= $as_of (for 29 Feb the
-- lower bound is 28 Feb of the previous year); departments_12m = distinct authority among them;
-- severe_lists = distinct list_name in force at $as_of. Warned when penalties_12m >= $warn_penalties
-- (penalties_60), departments_12m >= $warn_departments (departments_3) or severe_lists >= $warn_severe_lists
-- (severe_lists_2): the macros year_before, in_force, warned and warning_reasons of _macros.sql. Only warned codes are returned. Filters: $sector, $district (register, else '未登记').
WITH pen AS (
    SELECT
        credit_code,
        count(*) AS penalties_12m,
        count(DISTINCT authority) AS departments_12m,
        arg_max(subject_name, decision_date) AS subject_name
    FROM penalty_subjects()
    WHERE credit_code IS NOT NULL
        AND decision_date > year_before($as_of)
        AND decision_date <= $as_of::DATE
    GROUP BY credit_code
),
lists AS (
    SELECT
        credit_code,
        count(DISTINCT list_name) AS severe_lists,
        arg_max(name, listed_on) AS list_subject
    FROM list_subjects()
    WHERE in_force(listed_on, removed_on, $as_of)
    GROUP BY credit_code
),
codes AS (
    SELECT
        coalesce(p.credit_code, l.credit_code) AS credit_code,
        coalesce(p.penalties_12m, 0) AS penalties_12m,
        coalesce(p.departments_12m, 0) AS departments_12m,
        coalesce(l.severe_lists, 0) AS severe_lists,
        p.subject_name,
        l.list_subject
    FROM pen AS p
    FULL OUTER JOIN lists AS l ON l.credit_code = p.credit_code
),
warned AS (
    SELECT
        *,
        warning_reasons(
            penalties_12m, departments_12m, severe_lists, $warn_penalties, $warn_departments, $warn_severe_lists
        ) AS reasons
    FROM codes
    WHERE warned(penalties_12m, departments_12m, severe_lists, $warn_penalties, $warn_departments, $warn_severe_lists)
)
SELECT
    w.credit_code,
    coalesce(e.name, w.subject_name, w.list_subject) AS name,
    coalesce(e.sector, '未登记') AS sector,
    coalesce(e.district, '未登记') AS district,
    w.penalties_12m,
    w.departments_12m,
    w.severe_lists,
    w.reasons
FROM warned AS w
LEFT JOIN entities AS e ON e.credit_code = w.credit_code
WHERE ($sector::VARCHAR IS NULL OR coalesce(e.sector, '未登记') = $sector::VARCHAR)
    AND ($district::VARCHAR IS NULL OR coalesce(e.district, '未登记') = $district::VARCHAR)
ORDER BY len(w.reasons) DESC, w.penalties_12m DESC, w.departments_12m DESC, w.severe_lists DESC, w.credit_code
