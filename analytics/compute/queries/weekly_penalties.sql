-- weekly_penalties: per week (Monday to Sunday) from the week holding the first day of the window to the
-- week holding $as_of: penalties = penalty records with decision_date in the week and <= $as_of.
-- week is the ISO week ("2022-W51"); week_start its Monday, week_end its Sunday. Every week appears (0 when
-- none). Filters: $sector, $district (register sector / district; '未登记' for records outside the register).
WITH weeks AS (
    SELECT week_start, week_end FROM window_weeks($as_of, $months)
),
pen AS (
    SELECT
        date_trunc('week', p.decision_date)::DATE AS week_start,
        count(*) AS penalties
    FROM penalty_subjects() AS p
    LEFT JOIN entities AS e ON e.credit_code = p.credit_code
    WHERE p.decision_date >= (SELECT min(week_start) FROM weeks)
        AND p.decision_date <= $as_of::DATE
        AND ($sector::VARCHAR IS NULL OR coalesce(e.sector, '未登记') = $sector::VARCHAR)
        AND ($district::VARCHAR IS NULL OR coalesce(e.district, '未登记') = $district::VARCHAR)
    GROUP BY ALL
)
SELECT
    strftime(w.week_start, '%G-W%V') AS week,
    w.week_start,
    w.week_end,
    coalesce(p.penalties, 0) AS penalties
FROM weeks AS w
LEFT JOIN pen AS p ON p.week_start = w.week_start
ORDER BY w.week_start
