-- Definitions shared by several metric queries, as DuckDB temporary macros. analytics.metrics creates them on
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
-- matched to the register (analytics/matching.py): the register's 统一社会信用代码 when a record names a
-- registered entity by any identifier (organisation code, registration number, masked code, name), else its
-- own best identifier (its credit code for a row never matched); NULL for a natural person. Every metric that joins a subject to the register reads these.
CREATE OR REPLACE TEMP MACRO penalty_subjects() AS TABLE
    SELECT * REPLACE (coalesce(subject_code, credit_code) AS credit_code) FROM penalties;
CREATE OR REPLACE TEMP MACRO license_subjects() AS TABLE
    SELECT * REPLACE (coalesce(subject_code, credit_code) AS credit_code) FROM licenses;
CREATE OR REPLACE TEMP MACRO list_subjects() AS TABLE
    SELECT * REPLACE (coalesce(subject_code, credit_code) AS credit_code) FROM severe_list;
