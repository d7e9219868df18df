-- Names stored before ingestion removed invisible format characters (issue 23): a company named
-- "…有限公司<U+202E>gpj.exe" showed reversed. Remove them (Unicode category Cf) from the names, departments
-- and reasons already stored; key columns are left as they are, so no two records can collide.
UPDATE entities SET name = regexp_replace(name, '\p{Cf}', '', 'g') WHERE regexp_matches(name, '\p{Cf}');
UPDATE severe_list SET name = regexp_replace(name, '\p{Cf}', '', 'g') WHERE regexp_matches(name, '\p{Cf}');
UPDATE severe_list SET reason = regexp_replace(reason, '\p{Cf}', '', 'g') WHERE regexp_matches(reason, '\p{Cf}');
UPDATE penalties SET subject_name = regexp_replace(subject_name, '\p{Cf}', '', 'g') WHERE regexp_matches(subject_name, '\p{Cf}');
UPDATE penalties SET authority = regexp_replace(authority, '\p{Cf}', '', 'g') WHERE regexp_matches(authority, '\p{Cf}');
UPDATE licenses SET subject_name = regexp_replace(subject_name, '\p{Cf}', '', 'g') WHERE regexp_matches(subject_name, '\p{Cf}');
UPDATE licenses SET authority = regexp_replace(authority, '\p{Cf}', '', 'g') WHERE regexp_matches(authority, '\p{Cf}');
