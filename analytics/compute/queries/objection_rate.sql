-- objection_rate (异议发生率, the flow reading): per month of the window and per category (行政处罚,
-- 行政许可, 全部 = both): filed = objections of the category with filed_on in the month and <= $as_of, whatever
-- record they name and whenever it was decided (unmatched ones included: a count of objections received);
-- records = records of the category with decision_date in the month and <= $as_of (published that month, as in
-- objection_ratio); per_1000 = filed / records * 1000 (null when records is 0). Unlike objection_ratio this
-- does not follow a month's decisions, so it needs no maturity: a month's figure is complete at its end.
WITH months AS (
    SELECT month, month_start, month_end FROM window_months($as_of, $months)
),
categories AS (
    SELECT * FROM (VALUES ('行政处罚', 0), ('行政许可', 1), ('全部', 2)) AS c(category, sort_key)
),
published AS (
    SELECT '行政处罚' AS category, decision_date AS day FROM penalties
    WHERE decision_date >= window_start($as_of, $months) AND decision_date <= $as_of::DATE
    UNION ALL
    SELECT '行政许可' AS category, decision_date AS day FROM licenses
    WHERE decision_date >= window_start($as_of, $months) AND decision_date <= $as_of::DATE
),
filed AS (
    SELECT category, filed_on AS day FROM objections
    WHERE filed_on >= window_start($as_of, $months) AND filed_on <= $as_of::DATE
),
counted AS (
    SELECT date_trunc('month', day)::DATE AS month_start, category, count(*) AS records, 0 AS filed
    FROM published GROUP BY ALL
    UNION ALL
    SELECT date_trunc('month', day)::DATE AS month_start, category, 0 AS records, count(*) AS filed
    FROM filed GROUP BY ALL
),
per_category AS (
    SELECT month_start, category, sum(records) AS records, sum(filed) AS filed
    FROM counted GROUP BY ALL
),
totals AS (
    SELECT month_start, category, records, filed FROM per_category
    UNION ALL
    SELECT month_start, '全部', sum(records), sum(filed) FROM per_category GROUP BY month_start
)
SELECT
    m.month,
    k.category,
    coalesce(t.filed, 0)::BIGINT AS filed,
    coalesce(t.records, 0)::BIGINT AS records,
    t.filed * 1000.0 / nullif(t.records, 0) AS per_1000
FROM months AS m
CROSS JOIN categories AS k
LEFT JOIN totals AS t ON t.month_start = m.month_start AND t.category = k.category
ORDER BY m.month, k.sort_key
