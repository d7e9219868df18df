-- Audit records get their ids from a sequence, so records written by concurrent
-- transactions (a sign-in during an upload) never claim the same id. Nothing
-- wrote audit_log before this migration, so the sequence starts at 1.
CREATE SEQUENCE IF NOT EXISTS audit_log_id_seq START 1;
