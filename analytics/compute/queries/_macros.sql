-- Definitions shared by several metric queries, as DuckDB temporary macros. analytics.compute.metrics creates them on
-- the connection before it runs a query (read-only connections included); queries use them by name.

-- window_start: the first day of the window's first month, for the window of `months` calendar months
-- ending with as_of's month.
CREATE OR REPLACE TEMP MACRO window_start(as_of, months) AS
    (date_trunc('month', as_of::DATE) - to_months(months::INTEGER - 1))::DATE;

-- window_months: one row per month of that window, oldest first: month ("YYYY-MM"), month_start (its first
-- day) and month_end E (its last day, or as_of in as_of's own month).
CREATE OR REPLACE TEMP MACRO window_months(as_of, months) AS TABLE
    SELECT
        strftime(m, '%Y-%m') AS month,
        m::DATE AS month_start,
        least(last_day(m::DATE), as_of::DATE) AS month_end
    FROM generate_series(
        date_trunc('month', as_of::DATE) - to_months(months::INTEGER - 1),
        date_trunc('month', as_of::DATE),
        INTERVAL 1 MONTH
    ) AS t(m);

-- window_weeks: one row per week (Monday to Sunday) from the week holding window_start to the week holding
-- as_of: week_start its Monday, week_end its Sunday.
CREATE OR REPLACE TEMP MACRO window_weeks(as_of, months) AS TABLE
    SELECT
        w::DATE AS week_start,
        (w + INTERVAL 6 DAY)::DATE AS week_end
    FROM generate_series(
        date_trunc('week', window_start(as_of, months)),
        date_trunc('week', as_of::DATE),
        INTERVAL 7 DAY
    ) AS t(w);

-- objections_by_record: one row per objected record (doc_no, category), counting only objections filed on or
-- before as_of, each with its stored result: upheld = one of them is 异议成立; subjective = one is 异议成立
-- and subjective.
CREATE OR REPLACE TEMP MACRO objections_by_record(as_of) AS TABLE
    SELECT
        doc_no,
        category,
        bool_or(result = '异议成立') AS upheld,
        bool_or(result = '异议成立' AND coalesce(subjective, false)) AS subjective
    FROM objections
    WHERE filed_on <= as_of::DATE
    GROUP BY doc_no, category;

-- month_mature: a decision month (given by any day in it) is mature at as_of when all its decisions are at
-- least window_days old, i.e. as_of - (the month's last day) >= window_days; its objection counts are final by
-- then (objections arrive weeks after the decision they contest). as_of's own month is never mature.
CREATE OR REPLACE TEMP MACRO month_mature(day, as_of, window_days) AS
    (as_of::DATE - last_day(day::DATE)) >= window_days::INTEGER;

-- penalty_subjects / list_subjects / license_subjects: the records with credit_code standing for the subject as
-- matched to the register (analytics/intake/matching.py): the register's 统一社会信用代码 when a record names a
-- registered entity by any identifier (organisation code, registration number, masked code, name), else its
-- own best identifier (its credit code for a row never matched); NULL for a natural person. Every metric that joins a subject to the register reads these.
CREATE OR REPLACE TEMP MACRO penalty_subjects() AS TABLE
    SELECT * REPLACE (coalesce(subject_code, credit_code) AS credit_code) FROM penalties;
CREATE OR REPLACE TEMP MACRO license_subjects() AS TABLE
    SELECT * REPLACE (coalesce(subject_code, credit_code) AS credit_code) FROM licenses;
CREATE OR REPLACE TEMP MACRO list_subjects() AS TABLE
    SELECT * REPLACE (coalesce(subject_code, credit_code) AS credit_code) FROM severe_list;

-- in_force: a list record is in force at day when it was listed by then and not yet removed.
CREATE OR REPLACE TEMP MACRO in_force(listed_on, removed_on, day) AS
    listed_on <= day::DATE AND (removed_on IS NULL OR removed_on > day::DATE);

-- year_before: the exclusive lower bound of the twelve months ending at day, whose penalties a warning counts
-- (year_before(E) < decision_date <= E); for 29 February it is 28 February of the previous year.
CREATE OR REPLACE TEMP MACRO year_before(day) AS
    (day::DATE - INTERVAL 1 YEAR)::DATE;

-- warned: the risk warning of seed item 十五 on a code's counts at one date: penalties (records in the twelve
-- months), departments (distinct authorities among them) or lists (distinct lists in force) at or above its
-- threshold. Every query that lists or counts warned codes uses this and warning_reasons, with the settings'
-- thresholds ($warn_penalties, $warn_departments, $warn_severe_lists).
CREATE OR REPLACE TEMP MACRO warned(penalties, departments, lists, warn_penalties, warn_departments, warn_lists) AS
    penalties >= warn_penalties::INTEGER
        OR departments >= warn_departments::INTEGER
        OR lists >= warn_lists::INTEGER;

-- warning_reasons: which of warned's conditions hold, in that order: penalties_60, departments_3, severe_lists_2
-- (named after the plan's thresholds; the values compared are the settings').
CREATE OR REPLACE TEMP MACRO warning_reasons(penalties, departments, lists, warn_penalties, warn_departments, warn_lists) AS
    list_filter(
        [
            CASE WHEN penalties >= warn_penalties::INTEGER THEN 'penalties_60' END,
            CASE WHEN departments >= warn_departments::INTEGER THEN 'departments_3' END,
            CASE WHEN lists >= warn_lists::INTEGER THEN 'severe_lists_2' END
        ],
        lambda x: x IS NOT NULL
    );

-- decided_records: the penalty (行政处罚) and licence (行政许可) records decided in the window, from window_start
-- to as_of: category, doc_no, decision_date, authority. The records objection ratios are counted over.
CREATE OR REPLACE TEMP MACRO decided_records(as_of, months) AS TABLE
    SELECT '行政处罚' AS category, doc_no, decision_date, authority
    FROM penalties
    WHERE decision_date >= window_start(as_of, months)
        AND decision_date <= as_of::DATE
    UNION ALL
    SELECT '行政许可' AS category, doc_no, decision_date, authority
    FROM licenses
    WHERE decision_date >= window_start(as_of, months)
        AND decision_date <= as_of::DATE;

-- objected_records: decided_records, each with objected / upheld / subjective: it has an objection filed on or
-- before as_of (same doc_no and category) / one that is 异议成立 / one that is 异议成立 and subjective.
CREATE OR REPLACE TEMP MACRO objected_records(as_of, months) AS TABLE
    SELECT
        r.*,
        o.doc_no IS NOT NULL AS objected,
        coalesce(o.upheld, false) AS upheld,
        coalesce(o.subjective, false) AS subjective
    FROM decided_records(as_of, months) AS r
    LEFT JOIN objections_by_record(as_of) AS o ON o.doc_no = r.doc_no AND o.category = r.category;

-- register_pool: the register entities the page's filters select (sector, district: NULL for all), the
-- denominators of sector and district risk.
CREATE OR REPLACE TEMP MACRO register_pool(sector_filter, district_filter) AS TABLE
    SELECT *
    FROM entities
    WHERE (sector_filter::VARCHAR IS NULL OR sector = sector_filter::VARCHAR)
        AND (district_filter::VARCHAR IS NULL OR district = district_filter::VARCHAR);

-- register_penalties: the penalty records decided in the window (window_start to as_of), with the register
-- sector and district of their subject ('未登记' for records outside the register, natural persons included),
-- filtered as register_pool is: month ("YYYY-MM"), sector, district.
CREATE OR REPLACE TEMP MACRO register_penalties(as_of, months, sector_filter, district_filter) AS TABLE
    SELECT
        strftime(date_trunc('month', p.decision_date), '%Y-%m') AS month,
        coalesce(e.sector, '未登记') AS sector,
        coalesce(e.district, '未登记') AS district
    FROM penalty_subjects() AS p
    LEFT JOIN entities AS e ON e.credit_code = p.credit_code
    WHERE p.decision_date >= window_start(as_of, months)
        AND p.decision_date <= as_of::DATE
        AND (sector_filter::VARCHAR IS NULL OR coalesce(e.sector, '未登记') = sector_filter::VARCHAR)
        AND (district_filter::VARCHAR IS NULL OR coalesce(e.district, '未登记') = district_filter::VARCHAR);
