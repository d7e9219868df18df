-- progress_history: every progress report dated on or before $as_of, for progress-over-time charts.
SELECT point_id, report_date, progress, status
FROM progress
WHERE report_date <= $as_of::DATE
ORDER BY point_id, report_date
