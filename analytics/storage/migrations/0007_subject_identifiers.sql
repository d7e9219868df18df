-- Subjects named beyond the 统一社会信用代码 (issue 11): real lists name most subjects by 组织机构代码,
-- 工商注册号 or a masked code. Every table that names a subject keeps the identifiers its row carried, and
-- the register entity it was matched to (analytics/intake/matching.py, in the order docs/metrics.md states):
-- entity_code = the register's 统一社会信用代码 (NULL when no method matched), match_method = how
-- (uscc | org_code | reg_no | masked_name | name), subject_code = entity_code, else the row's own best
-- identifier: the one code the metrics group and count a subject by.

ALTER TABLE entities ADD COLUMN IF NOT EXISTS reg_no VARCHAR;
ALTER TABLE entities ADD COLUMN IF NOT EXISTS org_code VARCHAR;

ALTER TABLE penalties ADD COLUMN IF NOT EXISTS org_code VARCHAR;
ALTER TABLE penalties ADD COLUMN IF NOT EXISTS reg_no VARCHAR;
ALTER TABLE penalties ADD COLUMN IF NOT EXISTS masked_code VARCHAR;
ALTER TABLE penalties ADD COLUMN IF NOT EXISTS entity_code VARCHAR;
ALTER TABLE penalties ADD COLUMN IF NOT EXISTS match_method VARCHAR;
ALTER TABLE penalties ADD COLUMN IF NOT EXISTS subject_code VARCHAR;
ALTER TABLE licenses ADD COLUMN IF NOT EXISTS org_code VARCHAR;
ALTER TABLE licenses ADD COLUMN IF NOT EXISTS reg_no VARCHAR;
ALTER TABLE licenses ADD COLUMN IF NOT EXISTS masked_code VARCHAR;
ALTER TABLE licenses ADD COLUMN IF NOT EXISTS entity_code VARCHAR;
ALTER TABLE licenses ADD COLUMN IF NOT EXISTS match_method VARCHAR;
ALTER TABLE licenses ADD COLUMN IF NOT EXISTS subject_code VARCHAR;

-- The list's key was (credit_code, list_name, listed_on). It is now the subject's key identifier (the
-- credit code when the row has one, so stored rows keep their identity), the list, the date and the case
-- number (案号 or 文号; '' when the file has none): a court lists one subject once per case. Ingestion keeps
-- that key unique (a key seen before in the file is rejected, a stored one replaced); the table declares no
-- primary key so that rows written by other means (tests, a restored older backup) need not compute one.
CREATE TABLE severe_list_v7 (
    subject_key   VARCHAR,
    credit_code   VARCHAR,
    org_code      VARCHAR,
    reg_no        VARCHAR,
    masked_code   VARCHAR,
    id_no         VARCHAR,              -- a natural person's ID number, stored masked
    identified_by VARCHAR,              -- credit_code | org_code | reg_no | masked_code | id_no | name
    name          VARCHAR NOT NULL,
    legal_rep     VARCHAR,
    list_name     VARCHAR NOT NULL,
    listed_on     DATE NOT NULL,
    case_no       VARCHAR DEFAULT '',
    removed_on    DATE,
    department    VARCHAR,
    reason        VARCHAR,
    domain        VARCHAR,              -- 失信领域
    entity_code   VARCHAR,
    match_method  VARCHAR,
    subject_code  VARCHAR,
    extra         JSON,
    upload_id     INTEGER
);
-- BY NAME: a file whose schema_version was rolled back re-runs this over the new shape and keeps every column.
INSERT INTO severe_list_v7 BY NAME SELECT * FROM severe_list;
UPDATE severe_list_v7 SET subject_key = credit_code, identified_by = 'credit_code' WHERE subject_key IS NULL;
DROP TABLE severe_list;
ALTER TABLE severe_list_v7 RENAME TO severe_list;

-- Links of the rows stored before: by credit code, the only identifier they could carry (rows linked
-- already, on a re-run, keep theirs).
UPDATE severe_list SET subject_code = credit_code,
    entity_code = CASE WHEN credit_code IN (SELECT credit_code FROM entities) THEN credit_code END,
    match_method = CASE WHEN credit_code IN (SELECT credit_code FROM entities) THEN 'uscc' END
WHERE subject_code IS NULL;
UPDATE penalties SET subject_code = credit_code,
    entity_code = CASE WHEN credit_code IN (SELECT credit_code FROM entities) THEN credit_code END,
    match_method = CASE WHEN credit_code IN (SELECT credit_code FROM entities) THEN 'uscc' END
WHERE credit_code IS NOT NULL AND subject_code IS NULL;
UPDATE licenses SET subject_code = credit_code,
    entity_code = CASE WHEN credit_code IN (SELECT credit_code FROM entities) THEN credit_code END,
    match_method = CASE WHEN credit_code IN (SELECT credit_code FROM entities) THEN 'uscc' END
WHERE credit_code IS NOT NULL AND subject_code IS NULL;

-- The values an analyst gave for the whole file (ingest --set, the upload page's fields), and where a list's
-- name came from when the file had none.
ALTER TABLE uploads ADD COLUMN IF NOT EXISTS set_values JSON;
