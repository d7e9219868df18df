-- Initial schema. Every data table keeps the upload that last wrote each row
-- (upload_id) and the file's unknown extra columns (extra, JSON or NULL).

CREATE TABLE uploads (
    id            INTEGER PRIMARY KEY,
    uploaded_at   TIMESTAMP NOT NULL,
    user_name     VARCHAR,
    file_name     VARCHAR NOT NULL,
    sha256        VARCHAR NOT NULL,
    dataset       VARCHAR,          -- NULL when the file was refused before detection
    encoding      VARCHAR,
    rows_read     INTEGER NOT NULL DEFAULT 0,
    loaded        INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    unchanged     INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    errors        JSON,             -- [{row, column, reason, sheet}]
    rejected_rows JSON,             -- the rejected rows as read, for fix-and-reload
    extra_columns JSON,             -- headers that matched no column of the dataset
    status        VARCHAR NOT NULL, -- loaded | refused | undone
    message       VARCHAR,
    undone_at     TIMESTAMP,
    undone_by     VARCHAR
);

-- Previous versions of rows an upload replaced, so an upload can be undone.
CREATE TABLE replaced_rows (
    upload_id INTEGER NOT NULL,
    dataset   VARCHAR NOT NULL,
    row_data  JSON NOT NULL
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    logged_at TIMESTAMP NOT NULL,
    user_name VARCHAR,
    action    VARCHAR NOT NULL,   -- sign_in | upload | undo | download | ...
    detail    JSON
);

CREATE TABLE work_points (
    id                INTEGER PRIMARY KEY,  -- 1..21
    section           INTEGER NOT NULL,     -- 1..5
    section_title     VARCHAR NOT NULL,     -- e.g. 推进信用制度落实
    title             VARCHAR NOT NULL,
    content           VARCHAR,
    lead_unit         VARCHAR,
    responsible_units VARCHAR,
    extra             JSON,
    upload_id         INTEGER
);

CREATE TABLE progress (
    point_id     INTEGER NOT NULL,
    report_date  DATE NOT NULL,
    progress     DOUBLE NOT NULL,           -- 0..100
    status       VARCHAR NOT NULL,          -- 未启动 | 推进中 | 滞后 | 已完成
    planned_date DATE,
    unit         VARCHAR,
    note         VARCHAR,
    extra        JSON,
    upload_id    INTEGER,
    PRIMARY KEY (point_id, report_date)
);

CREATE TABLE entities (
    credit_code   VARCHAR PRIMARY KEY,
    name          VARCHAR NOT NULL,
    sector        VARCHAR NOT NULL,
    district      VARCHAR NOT NULL,
    established   DATE NOT NULL,
    deregistered  DATE,
    credit_rating VARCHAR,
    extra         JSON,
    upload_id     INTEGER
);

CREATE TABLE severe_list (
    credit_code VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    list_name   VARCHAR NOT NULL,
    listed_on   DATE NOT NULL,
    removed_on  DATE,
    department  VARCHAR,
    reason      VARCHAR,
    extra       JSON,
    upload_id   INTEGER,
    PRIMARY KEY (credit_code, list_name, listed_on)
);

CREATE TABLE penalties (
    doc_no            VARCHAR PRIMARY KEY,  -- 行政处罚决定书文号
    subject_name      VARCHAR NOT NULL,
    subject_type      VARCHAR,              -- 法人及非法人组织 | 自然人 | 个体工商户
    credit_code       VARCHAR,              -- NULL for natural persons
    legal_rep         VARCHAR,
    legal_rep_id_type VARCHAR,
    legal_rep_id_no   VARCHAR,              -- stored masked
    id_type           VARCHAR,
    id_no             VARCHAR,              -- stored masked
    violation_type    VARCHAR,
    facts             VARCHAR,
    basis             VARCHAR,
    penalty_type      VARCHAR,
    penalty_content   VARCHAR,
    fine_wan          DOUBLE,               -- 万元
    confiscated_wan   DOUBLE,               -- 万元
    license_action    VARCHAR,
    decision_date     DATE NOT NULL,
    valid_until       DATE,
    publish_until     DATE,
    authority         VARCHAR NOT NULL,     -- normalised 处罚机关
    authority_code    VARCHAR,
    source_unit       VARCHAR,
    source_unit_code  VARCHAR,
    status            VARCHAR,
    note              VARCHAR,
    extra             JSON,
    upload_id         INTEGER
);

CREATE TABLE licenses (
    doc_no            VARCHAR PRIMARY KEY,  -- 行政许可决定文书号
    subject_name      VARCHAR NOT NULL,
    subject_type      VARCHAR,
    credit_code       VARCHAR,
    legal_rep         VARCHAR,
    legal_rep_id_type VARCHAR,
    legal_rep_id_no   VARCHAR,              -- stored masked
    id_type           VARCHAR,
    id_no             VARCHAR,              -- stored masked
    doc_name          VARCHAR,
    license_type      VARCHAR,
    cert_name         VARCHAR,
    license_no        VARCHAR,
    license_content   VARCHAR,
    decision_date     DATE NOT NULL,
    valid_from        DATE,
    valid_to          DATE,
    authority         VARCHAR NOT NULL,
    authority_code    VARCHAR,
    status            VARCHAR,
    source_unit       VARCHAR,
    source_unit_code  VARCHAR,
    note              VARCHAR,
    extra             JSON,
    upload_id         INTEGER
);

CREATE TABLE objections (
    objection_id VARCHAR PRIMARY KEY,   -- 异议编号
    doc_no       VARCHAR NOT NULL,      -- 决定文书号 of the record objected to
    category     VARCHAR NOT NULL,      -- 行政处罚 | 行政许可
    filed_on     DATE NOT NULL,
    result       VARCHAR NOT NULL,      -- 异议成立 | 异议不成立 | 处理中
    subjective   BOOLEAN,               -- 是否主观失误
    closed_on    DATE,
    deadline     DATE,                  -- 办理时限
    extra        JSON,
    upload_id    INTEGER
);
