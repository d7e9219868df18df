-- objections_overdue: objections filed on or before $as_of whose stored result is 处理中 (still open) and
-- whose deadline is before $as_of; days_overdue = $as_of - deadline. Most overdue first.
SELECT
    objection_id,
    doc_no,
    category,
    filed_on,
    deadline,
    ($as_of::DATE - deadline) AS days_overdue
FROM objections
WHERE result = '处理中'
    AND filed_on <= $as_of::DATE
    AND deadline < $as_of::DATE
ORDER BY days_overdue DESC, objection_id
