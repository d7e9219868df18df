-- objection_departments: per issuing authority over the window's mature decision months (penalty and license
-- records with decision_date from the first day of the window's first month to $as_of, in a month that is
-- month_mature at $as_of with $objection_window_days, as in objection_ratio): records, objected, upheld and
-- subjective counted as in objection_ratio (only objections filed on or before $as_of);
-- ratio = objected / records, upheld_ratio = upheld / records (null when records is 0). Highest ratio first.
WITH obj AS (
    SELECT doc_no, category, upheld, subjective FROM objections_by_record($as_of)
),
records AS (
    SELECT '行政处罚' AS category, doc_no, authority
    FROM penalties
    WHERE decision_date >= window_start($as_of, $months)
        AND decision_date <= $as_of::DATE
        AND month_mature(decision_date, $as_of, $objection_window_days)
    UNION ALL
    SELECT '行政许可' AS category, doc_no, authority
    FROM licenses
    WHERE decision_date >= window_start($as_of, $months)
        AND decision_date <= $as_of::DATE
        AND month_mature(decision_date, $as_of, $objection_window_days)
),
counts AS (
    SELECT
        r.authority,
        count(*) AS records,
        count(o.doc_no) AS objected,
        count(*) FILTER (WHERE o.upheld) AS upheld,
        count(*) FILTER (WHERE o.subjective) AS subjective
    FROM records AS r
    LEFT JOIN obj AS o ON o.doc_no = r.doc_no AND o.category = r.category
    GROUP BY r.authority
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
