-- The period each upload covers, per dataset of the file (a workbook can hold several): for activity
-- datasets (progress, penalties, licenses, objections) from its earliest to its latest main date unless
-- the analyst stated the period; for the register and the lists the snapshot date (covers_from =
-- covers_through). A dataset is covered over the union of its loaded uploads' periods (queries/coverage.sql);
-- an undone upload covers nothing. stated = the analyst gave the period (ingest --covers).
-- IF NOT EXISTS / OR IGNORE: a file whose schema_version was rolled back re-runs this safely.
CREATE TABLE IF NOT EXISTS upload_coverage (
    upload_id      INTEGER NOT NULL,
    dataset        VARCHAR NOT NULL,
    covers_from    DATE NOT NULL,
    covers_through DATE NOT NULL,
    stated         BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (upload_id, dataset)
);

-- Uploads made before this migration: the dates of the rows each one still owns (a row a later upload
-- replaced counts for the later one, whose period then holds it), the upload day for snapshots.
INSERT OR IGNORE INTO upload_coverage
SELECT upload_id, 'progress', min(report_date), max(report_date), FALSE FROM progress
WHERE upload_id IN (SELECT id FROM uploads WHERE status = 'loaded') GROUP BY upload_id
UNION ALL
SELECT upload_id, 'penalties', min(decision_date), max(decision_date), FALSE FROM penalties
WHERE upload_id IN (SELECT id FROM uploads WHERE status = 'loaded') GROUP BY upload_id
UNION ALL
SELECT upload_id, 'licenses', min(decision_date), max(decision_date), FALSE FROM licenses
WHERE upload_id IN (SELECT id FROM uploads WHERE status = 'loaded') GROUP BY upload_id
UNION ALL
SELECT upload_id, 'objections', min(filed_on), max(filed_on), FALSE FROM objections
WHERE upload_id IN (SELECT id FROM uploads WHERE status = 'loaded') GROUP BY upload_id
UNION ALL
SELECT id, d.name, CAST(uploaded_at AS DATE), CAST(uploaded_at AS DATE), FALSE
FROM uploads, (VALUES ('entities'), ('severe_list')) AS d(name)
WHERE status = 'loaded' AND list_contains(string_split(dataset, ','), d.name);
