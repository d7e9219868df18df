-- work_points: every work point with its latest progress report dated on or before $as_of.
-- progress is 0 and status 未启动 without a report; a report saying 已完成 or progress >= 100
-- means 已完成; overdue = not 已完成 and planned_date < $as_of (a planned date equal to $as_of is not overdue).
WITH latest AS (
    SELECT point_id, report_date, progress, status, planned_date, unit, note
    FROM progress
    WHERE report_date <= $as_of::DATE
    QUALIFY row_number() OVER (PARTITION BY point_id ORDER BY report_date DESC) = 1
),
points AS (
    SELECT
        w.id,
        w.section,
        w.section_title,
        w.title,
        w.lead_unit,
        w.responsible_units,
        l.report_date,
        coalesce(l.progress, 0)::DOUBLE AS progress,
        CASE
            WHEN l.point_id IS NULL THEN '未启动'
            WHEN l.status = '已完成' OR l.progress >= 100 THEN '已完成'
            ELSE l.status
        END AS status,
        l.planned_date,
        l.unit,
        l.note
    FROM work_points AS w
    LEFT JOIN latest AS l ON l.point_id = w.id
)
SELECT
    id,
    section,
    section_title,
    title,
    lead_unit,
    responsible_units,
    report_date,
    progress,
    status,
    planned_date,
    (status <> '已完成' AND coalesce(planned_date < $as_of::DATE, false)) AS overdue,
    unit,
    note
FROM points
ORDER BY id
