-- unmatched, whatever their dates: severe_list = list records that no method of analytics/intake/matching.py matched to
-- the register (by 统一社会信用代码, 组织机构代码, 工商注册号, masked code and name, or name alone);
-- objections = objections whose doc_no matches no stored record of their category (行政处罚 → penalties,
-- 行政许可 → licenses; any other category never matches); penalties = penalty records naming a subject by
-- an identifier that matched no register entity (natural persons, who carry none, are not counted).
-- Written as joins from the large tables: a NOT EXISTS on penalties hashed every doc_no and deduplicated every
-- code of a 3-million-row table first (2 s); these hash only objections and the register.
WITH matched AS (  -- objections whose record exists (objection_id is the key: one row each)
    SELECT o.objection_id
    FROM objections AS o
    JOIN penalties AS p ON p.doc_no = o.doc_no
    WHERE o.category = '行政处罚'
    UNION
    SELECT o.objection_id
    FROM objections AS o
    JOIN licenses AS l ON l.doc_no = o.doc_no
    WHERE o.category = '行政许可'
)
SELECT
    (
        SELECT count(*)
        FROM list_subjects() AS s
        ANTI JOIN entities AS e ON e.credit_code = s.credit_code
    ) AS severe_list,
    (SELECT count(*) FROM objections) - (SELECT count(*) FROM matched) AS objections,
    (
        SELECT count(*)
        FROM penalty_subjects() AS p
        ANTI JOIN entities AS e ON e.credit_code = p.credit_code
        WHERE p.credit_code IS NOT NULL
    ) AS penalties
