"""Which register entity each record names: the match of a list, penalty or licence row to the register.

Real lists name most subjects by 组织机构代码 or 工商注册号, courts by a masked code, some by name only.
A record is matched to the register (entities) by the first of these that finds exactly one entity:

1. uscc        its 统一社会信用代码 is a registered one;
2. org_code    its 组织机构代码 equals characters 9–17 of a registered code;
3. reg_no      its 工商注册号 is one the register holds;
4. masked_name its masked code's visible start and end agree with a registered code, and the names agree;
5. name        its name alone (only when it carries no full code, and is not a natural person).

Names are compared by ``normalize.name_key`` (NFKC, no spaces, case-folded). A method that finds several
entities matches none of them. The result is stored on each row (entity_code, match_method, subject_code)
in the load's own transaction, so every metric joins ``subject_code`` to the register and a list naming
registered entities by 组织机构代码 counts them exactly as one using their 统一社会信用代码.
"""

from __future__ import annotations

# Tables that name a subject: the columns that decide a row's match (its identifiers, its name, what marks a
# natural person), the name column, and the person test over those columns.
SUBJECT_TABLES = {
    "penalties": (("subject_name", "subject_type"), "subject_name", "coalesce(subject_type = '自然人', false)"),
    "licenses": (("subject_name", "subject_type"), "subject_name", "coalesce(subject_type = '自然人', false)"),
    "severe_list": (("name", "id_no", "subject_key"), "name", "id_no IS NOT NULL"),
}
METHODS = ("uscc", "org_code", "reg_no", "masked_name", "name")
IDENTIFIERS = ("credit_code", "org_code", "reg_no", "masked_code")

# normalize.name_key in SQL: stored names are cleaned (NFKC) already.
NAME_KEY = "lower(regexp_replace({}, '\\s+', '', 'g'))"


def relink(con, tables=tuple(SUBJECT_TABLES), upload_id: int | None = None) -> None:
    """Match the rows of ``tables`` (only those ``upload_id`` wrote, when given) to the register, and store
    the result where it changed."""
    for table in tables:
        _relink(con, table, upload_id)


def _relink(con, table: str, upload_id: int | None) -> None:
    extra, name, person = SUBJECT_TABLES[table]
    keys = (*IDENTIFIERS, *extra)
    scope = "TRUE" if upload_id is None else f"upload_id = {int(upload_id)}"
    # The row's own best identifier, for a record the register does not hold.
    own = f"coalesce({', '.join(IDENTIFIERS)}{', subject_key' if table == 'severe_list' else ''})"
    nk = NAME_KEY.format
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE link_subjects AS
        SELECT DISTINCT {", ".join(keys)}, {name} AS _name, {person} AS _person, {own} AS _own
        FROM {table} WHERE {scope}"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE links AS
        WITH reg AS (
            SELECT credit_code, substr(credit_code, 9, 9) AS org, reg_no, {nk("name")} AS nk FROM entities
        ),
        by_org AS (SELECT org, min(credit_code) AS code FROM reg GROUP BY org HAVING count(*) = 1),
        by_reg AS (
            SELECT reg_no, min(credit_code) AS code FROM reg WHERE reg_no IS NOT NULL
            GROUP BY reg_no HAVING count(*) = 1
        ),
        by_name AS (SELECT nk, min(credit_code) AS code FROM reg GROUP BY nk HAVING count(*) = 1),
        masked AS (
            SELECT DISTINCT masked_code, {nk("_name")} AS nk,
                regexp_extract(masked_code, '^([0-9A-Z]*)\\*', 1) || '%'
                    || regexp_extract(masked_code, '\\*([0-9A-Z]*)$', 1) AS pattern
            FROM link_subjects WHERE masked_code IS NOT NULL
        ),
        by_mask AS (
            SELECT m.masked_code, m.nk, min(r.credit_code) AS code
            FROM masked AS m JOIN reg AS r ON r.nk = m.nk AND r.credit_code LIKE m.pattern
            GROUP BY m.masked_code, m.nk HAVING count(*) = 1
        )
        SELECT s.*,
            CASE
                WHEN u.credit_code IS NOT NULL THEN 'uscc'
                WHEN o.code IS NOT NULL THEN 'org_code'
                WHEN g.code IS NOT NULL THEN 'reg_no'
                WHEN k.code IS NOT NULL THEN 'masked_name'
                WHEN n.code IS NOT NULL THEN 'name'
            END AS _method,
            coalesce(u.credit_code, o.code, g.code, k.code, n.code) AS _entity
        FROM link_subjects AS s
        LEFT JOIN reg AS u ON u.credit_code = s.credit_code
        LEFT JOIN by_org AS o ON o.org = s.org_code
        LEFT JOIN by_reg AS g ON g.reg_no = s.reg_no
        LEFT JOIN by_mask AS k ON k.masked_code = s.masked_code AND k.nk = {nk("s._name")}
        LEFT JOIN by_name AS n ON n.nk = {nk("s._name")}
            AND s.credit_code IS NULL AND s.org_code IS NULL AND s.reg_no IS NULL AND NOT s._person"""
    )
    same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM l.{c}" for c in keys)
    con.execute(
        f"""UPDATE {table} AS t
        SET entity_code = l._entity, match_method = l._method, subject_code = coalesce(l._entity, l._own)
        FROM links AS l
        WHERE {scope.replace("upload_id", "t.upload_id")} AND {same}
            AND (t.entity_code IS DISTINCT FROM l._entity OR t.match_method IS DISTINCT FROM l._method
                 OR t.subject_code IS DISTINCT FROM coalesce(l._entity, l._own))"""
    )
    con.execute("DROP TABLE link_subjects")
    con.execute("DROP TABLE links")
