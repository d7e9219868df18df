-- objection_delay: how long after the decision objections arrive, measured on the data. One row, over the
-- penalty and license records decided in the window (decision_date from window_start to $as_of) that have an
-- objection filed on or before $as_of (same doc_no and category): days = the first such objection's filed_on
-- minus the record's decision_date. Records whose first objection is dated before the decision (a data error)
-- are counted in before_decision and left out of the rest. objected = the other records; p50_days / p90_days =
-- the nearest-rank quantiles of days (the value at rank ceil(q * objected) in ascending order, so at least q of
-- the objected records were objected within that many days); max_days; within_window = records with
-- days <= $objection_window_days (W), within_share = within_window / objected (null when objected is 0).
WITH firsts AS (
    SELECT min(o.filed_on) - r.decision_date AS days
    FROM decided_records($as_of, $months) AS r
    JOIN objections AS o ON o.doc_no = r.doc_no AND o.category = r.category
    WHERE o.filed_on <= $as_of::DATE
    GROUP BY r.category, r.doc_no, r.decision_date
),
ranked AS (
    SELECT days, row_number() OVER (ORDER BY days) AS rn, count(*) OVER () AS n
    FROM firsts
    WHERE days >= 0
)
SELECT
    (SELECT count(*) FROM ranked) AS objected,
    (SELECT max(days) FILTER (WHERE rn <= ceil(0.5 * n)) FROM ranked) AS p50_days,
    (SELECT max(days) FILTER (WHERE rn <= ceil(0.9 * n)) FROM ranked) AS p90_days,
    (SELECT max(days) FROM ranked) AS max_days,
    (SELECT count(*) FILTER (WHERE days <= $objection_window_days::INTEGER) FROM ranked) AS within_window,
    (SELECT count(*) FILTER (WHERE days <= $objection_window_days::INTEGER) FROM ranked)
        / nullif((SELECT count(*) FROM ranked), 0) AS within_share,
    (SELECT count(*) FROM firsts WHERE days < 0) AS before_decision
