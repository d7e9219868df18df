-- severe_entities: one row per severe-list record in force at $as_of (pass the month end E:
-- listed_on <= $as_of and removed_on null or > $as_of), with the register name, sector and district of its
-- entity; codes not in the register keep the list's name and get sector / district '未登记'.
-- Filters: $sector, $district (register, else '未登记').
SELECT
    s.credit_code,
    coalesce(e.name, s.name) AS name,
    coalesce(e.sector, '未登记') AS sector,
    coalesce(e.district, '未登记') AS district,
    s.list_name,
    s.listed_on,
    s.removed_on,
    s.department,
    s.reason,
    e.credit_code IS NOT NULL AS in_register
FROM list_subjects() AS s
LEFT JOIN entities AS e ON e.credit_code = s.credit_code
WHERE in_force(s.listed_on, s.removed_on, $as_of)
    AND ($sector::VARCHAR IS NULL OR coalesce(e.sector, '未登记') = $sector::VARCHAR)
    AND ($district::VARCHAR IS NULL OR coalesce(e.district, '未登记') = $district::VARCHAR)
ORDER BY s.listed_on DESC, s.credit_code, s.list_name
