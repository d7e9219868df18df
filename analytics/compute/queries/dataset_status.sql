-- dataset_status: per uploadable dataset: rows = stored rows; last_upload = latest uploads.uploaded_at of
-- that dataset with status 'loaded'; latest_date = max of the dataset's main date column
-- (progress.report_date, entities.established, severe_list.listed_on, penalties.decision_date,
-- licenses.decision_date, objections.filed_on). Independent of the as-of date.
WITH counts AS (
    SELECT 0 AS sort_key, 'progress' AS dataset, count(*) AS rows, max(report_date) AS latest_date FROM progress
    UNION ALL
    SELECT 1, 'entities', count(*), max(established) FROM entities
    UNION ALL
    SELECT 2, 'severe_list', count(*), max(listed_on) FROM severe_list
    UNION ALL
    SELECT 3, 'penalties', count(*), max(decision_date) FROM penalties
    UNION ALL
    SELECT 4, 'licenses', count(*), max(decision_date) FROM licenses
    UNION ALL
    SELECT 5, 'objections', count(*), max(filed_on) FROM objections
),
loaded AS (
    SELECT dataset, max(uploaded_at) AS last_upload
    FROM uploads
    WHERE status = 'loaded'
    GROUP BY dataset
)
SELECT c.dataset, c.rows, l.last_upload, c.latest_date
FROM counts AS c
LEFT JOIN loaded AS l ON l.dataset = c.dataset
ORDER BY c.sort_key
