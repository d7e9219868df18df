"""What is kept and guarded: the DuckDB store and its migrations, published snapshots, backups, the audit log, users and sign-in lockout."""
