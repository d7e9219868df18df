-- The columns of a real registration export (issue 11): kept so the register can be read back as filed.
-- sector and district stay NOT NULL: analytics/intake/derive.py always fills them (未分类 / 未知 at worst).
-- IF NOT EXISTS: a file whose schema_version was rolled back re-runs this safely.
ALTER TABLE entities ADD COLUMN IF NOT EXISTS company_type VARCHAR;
ALTER TABLE entities ADD COLUMN IF NOT EXISTS legal_rep VARCHAR;
ALTER TABLE entities ADD COLUMN IF NOT EXISTS registered_capital VARCHAR;
ALTER TABLE entities ADD COLUMN IF NOT EXISTS business_scope VARCHAR;
ALTER TABLE entities ADD COLUMN IF NOT EXISTS province VARCHAR;
ALTER TABLE entities ADD COLUMN IF NOT EXISTS city VARCHAR;
ALTER TABLE entities ADD COLUMN IF NOT EXISTS address VARCHAR;
ALTER TABLE entities ADD COLUMN IF NOT EXISTS reg_no VARCHAR;
ALTER TABLE entities ADD COLUMN IF NOT EXISTS org_code VARCHAR;
