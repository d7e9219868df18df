"""What comes in: reading exports, the datasets and their cell rules, identifiers, periods, derived columns, matching to the register, ingestion and undo."""
