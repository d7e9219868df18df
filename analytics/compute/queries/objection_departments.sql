-- objection_departments: per issuing authority over the window's mature decision months (penalty and license
-- records with decision_date from the first day of the window's first month to $as_of, in a month that is
-- month_mature at $as_of with $objection_window_days, as in objection_ratio): records, objected, upheld and
-- subjective counted as in objection_ratio (only objections filed on or before $as_of);
-- ratio = objected / records, upheld_ratio = upheld / records (null when records is 0). Highest ratio first.
WITH counts AS (
    SELECT
        authority,
        count(*) AS records,
        count(*) FILTER (WHERE objected) AS objected,
        count(*) FILTER (WHERE upheld) AS upheld,
        count(*) FILTER (WHERE subjective) AS subjective
    FROM objected_records($as_of, $months)
    WHERE month_mature(decision_date, $as_of, $objection_window_days)
    GROUP BY authority
)
SELECT
    authority,
    records,
    objected,
    upheld,
    subjective,
    objected / nullif(records, 0) AS ratio,
    upheld / nullif(records, 0) AS upheld_ratio
FROM counts
ORDER BY ratio DESC NULLS LAST, records DESC, authority
