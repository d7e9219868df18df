-- objection_ratio: per month of the window and per category (行政处罚 = penalties, 行政许可 = licenses,
-- 全部 = both): records = records with decision_date in the month and <= $as_of; only objections with
-- filed_on <= $as_of count, each with its stored result; objected / upheld / subjective = records with at
-- least one such objection (same doc_no and category) / one that is 异议成立 / one that is 异议成立 and
-- subjective; ratio = objected / records (null when records is 0), likewise upheld_ratio, subjective_ratio.
-- mature = month_mature(month, $as_of, $objection_window_days): the month's last day is at least W days before
-- $as_of, so its counts are final; mature_on = the first as-of date at which it is (last day + W).
WITH months AS (
    SELECT month, month_start FROM window_months($as_of, $months)
),
categories AS (
    SELECT * FROM (VALUES ('行政处罚', 0), ('行政许可', 1), ('全部', 2)) AS c(category, sort_key)
),
counts AS (
    SELECT
        date_trunc('month', r.decision_date)::DATE AS month_start,
        CASE WHEN grouping(r.category) = 1 THEN '全部' ELSE r.category END AS category,
        count(*) AS records,
        count(*) FILTER (WHERE r.objected) AS objected,
        count(*) FILTER (WHERE r.upheld) AS upheld,
        count(*) FILTER (WHERE r.subjective) AS subjective
    FROM objected_records($as_of, $months) AS r
    GROUP BY GROUPING SETS ((date_trunc('month', r.decision_date)::DATE, r.category),
                            (date_trunc('month', r.decision_date)::DATE))
)
SELECT
    m.month,
    k.category,
    coalesce(c.records, 0) AS records,
    coalesce(c.objected, 0) AS objected,
    coalesce(c.upheld, 0) AS upheld,
    coalesce(c.subjective, 0) AS subjective,
    c.objected / nullif(c.records, 0) AS ratio,
    c.upheld / nullif(c.records, 0) AS upheld_ratio,
    c.subjective / nullif(c.records, 0) AS subjective_ratio,
    month_mature(m.month_start, $as_of, $objection_window_days) AS mature,
    (last_day(m.month_start) + $objection_window_days::INTEGER) AS mature_on
FROM months AS m
CROSS JOIN categories AS k
LEFT JOIN counts AS c ON c.month_start = m.month_start AND c.category = k.category
ORDER BY m.month, k.sort_key
