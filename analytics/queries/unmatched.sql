-- unmatched, whatever their dates: severe_list = list records whose credit code is not in the register;
-- objections = objections whose doc_no matches no stored record of their category (行政处罚 → penalties,
-- 行政许可 → licenses; any other category never matches); penalties = penalty records carrying a credit code
-- that is not in the register (records without a code, i.e. natural persons, are not counted).
SELECT
    (
        SELECT count(*)
        FROM severe_list AS s
        WHERE NOT EXISTS (SELECT 1 FROM entities AS e WHERE e.credit_code = s.credit_code)
    ) AS severe_list,
    (
        SELECT count(*)
        FROM objections AS o
        WHERE NOT (
            (o.category = '行政处罚' AND EXISTS (SELECT 1 FROM penalties AS p WHERE p.doc_no = o.doc_no))
            OR (o.category = '行政许可' AND EXISTS (SELECT 1 FROM licenses AS l WHERE l.doc_no = o.doc_no))
        )
    ) AS objections,
    (
        SELECT count(*)
        FROM penalties AS p
        WHERE p.credit_code IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM entities AS e WHERE e.credit_code = p.credit_code)
    ) AS penalties
