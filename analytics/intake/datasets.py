"""The datasets analysts upload: canonical columns, the headers real exports use, keys.

A column's first header is its standard Chinese name; the rest are aliases
seen in real exports (older 2016–2018 双公示 field names among them). Headers
are compared after ``normalize.header_key`` (NFKC, case-fold, no spaces).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analytics import normalize

# Column kinds decide how a cell is parsed and checked.
TEXT, NAME, CODE, DOC, DATE, AMOUNT, PERCENT, POINT_ID, CHOICE, BOOL, DEADLINE, ID_NO = (
    "text", "name", "credit_code", "doc_no", "date", "amount", "percent", "point_id", "choice", "bool", "deadline",
    "id_no",
)  # fmt: skip
# A subject's identifiers beyond the register's full credit code: a credit code that may be masked
# (91230199744****927K), the 组织机构代码, the 工商注册号, and a column that holds any of them or a person's ID
# number (身份证号码/组织机构代码). See ingest._identify_subjects.
SUBJECT_CODE, ORG_CODE, REG_NO, ANY_ID = "subject_code", "org_code", "reg_no", "any_id"
IDENTIFIER_KINDS = (SUBJECT_CODE, ORG_CODE, REG_NO, ANY_ID)

# An export's row counter, dropped unless a dataset maps it (工作要点 does): kept in extra, a renumbered
# re-export would count every row after an inserted one as updated.
ROW_COUNTER = "序号"


@dataclass(frozen=True)
class Column:
    name: str  # canonical English name, as in the schema
    headers: tuple[str, ...]  # standard Chinese header first, then aliases
    kind: str = TEXT
    required: bool = False
    choices: tuple[str, ...] = ()  # for CHOICE
    # One value may hold for a whole file (a published list's name, an authority's own export): a file
    # lacking the column can be given it once (ingest --set, the upload page's fields).
    one_per_file: bool = False

    @property
    def label(self) -> str:
        return self.headers[0]


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str  # Chinese name shown in the UI
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    # Credit code required unless the subject is a natural person (双公示).
    subject_rule: bool = False
    uploadable: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


SUBJECT_TYPES = ("法人及非法人组织", "自然人", "个体工商户")
PROGRESS_STATUSES = ("未启动", "推进中", "滞后", "已完成")
OBJECTION_RESULTS = ("异议成立", "异议不成立", "处理中")
CATEGORIES = ("行政处罚", "行政许可")

# Subject columns shared by penalties and licenses (national 双公示 standard).
_SUBJECT = (
    Column("subject_name", ("行政相对人名称", "相对人名称", "当事人名称", "被处罚对象名称", "企业名称"), NAME, True),
    Column("subject_type", ("行政相对人类别", "相对人类别", "主体类别"), CHOICE, choices=SUBJECT_TYPES),
    Column(
        "credit_code",
        (
            "行政相对人代码_1(统一社会信用代码)",
            "行政相对人代码_1",
            "统一社会信用代码",
            "社会信用代码",
            "信用代码",
            "统一信用代码",
            "社会统一信用代码",
        ),
        SUBJECT_CODE,
    ),
    Column("org_code", ("行政相对人代码_3(组织机构代码)", "行政相对人代码_3", "组织机构代码"), ORG_CODE),
    Column("reg_no", ("行政相对人代码_2(工商注册号)", "行政相对人代码_2", "工商注册号", "注册号"), REG_NO),
    Column("legal_rep", ("法定代表人", "法定代表人姓名", "法定代表人或负责人姓名", "法人代表"), NAME),
    Column("legal_rep_id_type", ("法定代表人证件类型",)),
    Column("legal_rep_id_no", ("法定代表人证件号码", "法定代表人身份证号"), ID_NO),
    Column("id_type", ("证件类型",)),
    Column("id_no", ("证件号码", "身份证号码"), ID_NO),
    Column("any_id", ("身份证号码/组织机构代码", "证件号码/组织机构代码", "身份证号/组织机构代码"), ANY_ID),
)
_SOURCE = (
    Column("source_unit", ("数据来源单位", "数据来源"), NAME),
    Column("source_unit_code", ("数据来源单位统一社会信用代码",)),
    Column("note", ("备注",)),
)

DATASETS: dict[str, Dataset] = {}


def _add(ds: Dataset) -> None:
    DATASETS[ds.name] = ds


_add(
    Dataset(
        "work_points",
        "工作要点",
        "2022年市交通运输信用体系建设工作要点的21项，随代码发布于 data/work_points.csv。",
        ("id",),
        (
            Column("id", ("编号", "序号", "要点编号"), POINT_ID, True),
            Column("section", ("部分",), TEXT, True),
            Column("title", ("标题", "要点名称"), TEXT, True),
            Column("content", ("内容", "工作内容"), TEXT, True),
            Column("lead_unit", ("牵头单位",), NAME, True),
            Column("responsible_units", ("责任单位",), TEXT, True),
        ),
        uploadable=False,
    )
)
_add(
    Dataset(
        "progress",
        "工作要点进展台账",
        "各工作要点的进展填报，每个要点每个填报日期一条。",
        ("point_id", "report_date"),
        (
            Column("point_id", ("要点编号", "工作要点编号", "要点序号"), POINT_ID, True),
            Column("report_date", ("填报日期", "报送日期", "填报时间"), DATE, True, one_per_file=True),
            Column("progress", ("完成进度", "进度", "完成比例", "完成进度(%)"), PERCENT, True),
            Column("status", ("状态", "推进状态", "进展状态"), CHOICE, True, PROGRESS_STATUSES),
            Column("planned_date", ("计划完成日期", "计划完成时间"), DATE),
            Column("unit", ("填报单位", "报送单位"), NAME),
            Column("note", ("进展情况", "工作进展", "进展说明"), TEXT),
        ),
    )
)
_add(
    Dataset(
        "entities",
        "市场主体名录",
        "交通运输行业受监管市场主体的登记名录。",
        ("credit_code",),
        (
            Column("credit_code", ("统一社会信用代码", "社会信用代码", "信用代码"), CODE, True),
            Column("name", ("名称", "企业名称", "主体名称", "单位名称"), NAME, True),
            # Not required: a real register has neither; analytics/intake/derive.py fills them in (see notes).
            Column("sector", ("行业", "所属行业", "行业类别", "经营类别"), NAME),
            Column("district", ("所在区", "所属区", "行政区", "所在区县", "注册地区"), NAME),
            Column("established", ("成立日期", "注册日期", "设立日期"), DATE, True),
            Column("deregistered", ("注销日期", "注销时间"), DATE),
            Column("credit_rating", ("信用等级", "信用评价等级"), TEXT),
            Column("company_type", ("企业类型", "企业类别", "市场主体类型", "主体类型", "类型")),
            Column("legal_rep", ("法定代表人", "法人代表", "法定代表人姓名", "法定代表人或负责人姓名", "负责人"), NAME),
            Column("registered_capital", ("注册资本", "注册资金", "注册资本(万元)")),
            Column("business_scope", ("经营范围",)),
            Column("province", ("所在省份", "省份", "所属省份")),
            Column("city", ("所在城市", "地区", "所属城市", "城市", "所在地市")),
            Column("address", ("住所", "注册地址", "经营场所", "住所(经营场所)", "地址", "企业地址")),
            # Normalised as the lists' identifiers are: analytics/intake/matching.py finds a list's subject by them.
            Column("reg_no", ("工商注册号", "注册号"), REG_NO),
            Column("org_code", ("组织机构代码",), ORG_CODE),
        ),
        notes=(
            "所在区缺列或为空时依次推导：统一社会信用代码第3–8位（行政区划码，对照 data/xiamen_districts.csv 的"
            " adcode 与 legacy_adcodes，如 350202 鼓浪屿区、350204 开元区 → 思明区）→ 注册地址中唯一出现的"
            "厦门区名全称（思明区…）→ 未知。他市主体（行政区划码为 35xxxx 而非 3502xx，或 地区/所在城市 为他市）"
            "从不归入厦门的区。实测：2019 年福建省企业登记名录 2,175 行厦门主体中 82 % 得到区（信用代码或注册地址）。",
            "行业缺列或为空时按 data/sector_keywords.csv（关键词 → 行业，可编辑）在经营范围中依表序取第一个命中的"
            "关键词（“不含…”从句不计），否则为 未分类。",
            "行业值对照行业词表 data/sectors.csv（行业名与别名，可编辑）；词表外的值按 未分类 载入，"
            "上传报告逐个列出该值及行数。",
            "各文本列中只含占位符（N/A、无、/、—、-、空、null、none 等）的单元格视为空。",
            '上传报告的 derived 字段给出每种推导方式的行数，如 {"district": {"信用代码": 1790, "注册地址": 3,'
            ' "未知": 382}}。',
        ),
    )
)
_add(
    Dataset(
        "severe_list",
        "严重失信主体名单",
        "列入各类严重失信主体名单的记录；移出日期为空表示仍在名单中。主体可由统一社会信用代码、组织机构代码、"
        "工商注册号、打码的代码或身份证号码识别，都没有时按名称（标记为按名称识别）；文件带案号时每个案件一条。",
        ("subject_key", "list_name", "listed_on", "case_no"),
        (
            Column(
                "credit_code",
                ("统一社会信用代码", "社会信用代码", "信用代码", "统一信用代码", "社会统一信用代码"),
                SUBJECT_CODE,
            ),
            Column("org_code", ("组织机构代码",), ORG_CODE),
            Column("reg_no", ("工商注册号", "注册号"), REG_NO),
            Column("any_id", ("身份证号码/组织机构代码", "证件号码/组织机构代码", "身份证号/组织机构代码"), ANY_ID),
            Column("id_no", ("身份证号码", "身份证号", "证件号码"), ID_NO),
            Column(
                "name",
                (
                    "主体名称",
                    "名称",
                    "企业名称",
                    "失信主体名称",
                    "被执行人姓名/名称",
                    "失信被执行人名称",
                    "被执行人名称",
                    "当事人名称",
                ),
                NAME,
                True,
            ),
            Column("legal_rep", ("法定代表人或负责人姓名", "法定代表人", "法人代表", "负责人"), NAME),
            Column("list_name", ("名单名称", "名单类型", "失信名单名称"), NAME, True, one_per_file=True),
            Column(
                "listed_on",
                ("列入日期", "列入时间", "认定日期", "发布时间", "公布日期", "发布日期", "公布时间"),
                DATE,
                True,
                one_per_file=True,
            ),
            Column("case_no", ("案号", "文号", "决定文书号", "认定文书号"), DOC),
            Column("removed_on", ("移出日期", "移出时间"), DATE),
            Column("department", ("认定部门", "认定单位", "列入部门", "执行法院", "发布单位"), NAME, one_per_file=True),
            Column("reason", ("列入事由", "列入原因", "失信事由", "失信被执行人行为具体情形", "失信行为"), TEXT),
            Column("domain", ("失信领域", "所属领域"), NAME),
        ),
        subject_rule=True,
    )
)
_add(
    Dataset(
        "penalties",
        "行政处罚（双公示）",
        "双公示行政处罚信息，按国家标准字段；罚款金额单位为万元。",
        ("doc_no",),
        _SUBJECT
        + (
            Column("doc_no", ("行政处罚决定书文号", "处罚决定书文号", "决定书文号"), DOC, True),
            Column("violation_type", ("违法行为类型", "处罚名称")),
            Column("facts", ("违法事实", "处罚事由")),
            Column("basis", ("处罚依据",)),
            Column("penalty_type", ("处罚类别", "处罚类别1")),
            Column("penalty_content", ("处罚内容", "处罚结果")),
            Column("fine_wan", ("罚款金额(万元)", "罚款金额"), AMOUNT),
            Column(
                "confiscated_wan",
                ("没收违法所得、没收非法财物的金额(万元)", "没收违法所得、没收非法财物的金额", "没收金额(万元)"),
                AMOUNT,
            ),
            Column("license_action", ("暂扣或吊销证照名称及编号",)),
            Column("decision_date", ("处罚决定日期", "处罚日期", "决定日期"), DATE, True),
            Column("valid_until", ("处罚有效期",), DATE),
            Column("publish_until", ("公示截止期",), DATE),
            Column("authority", ("处罚机关", "执法机关", "实施机关"), NAME, True, one_per_file=True),
            Column("authority_code", ("处罚机关统一社会信用代码",)),
            Column("status", ("当前状态",)),
        )
        + _SOURCE,
        subject_rule=True,
    )
)
_add(
    Dataset(
        "licenses",
        "行政许可（双公示）",
        "双公示行政许可信息，按国家标准字段。",
        ("doc_no",),
        _SUBJECT
        + (
            Column("doc_name", ("行政许可决定文书名称", "许可决定书名称")),
            Column("doc_no", ("行政许可决定文书号", "许可决定书文号", "许可文书号"), DOC, True),
            Column("license_type", ("许可类别", "审批类别")),
            Column("cert_name", ("许可证书名称",)),
            Column("license_no", ("许可编号", "许可证号")),
            Column("license_content", ("许可内容",)),
            Column("decision_date", ("许可决定日期", "许可日期", "决定日期"), DATE, True),
            Column("valid_from", ("有效期自",), DATE),
            Column("valid_to", ("有效期至", "截止日期"), DATE),
            Column("authority", ("许可机关", "审批机关", "实施机关"), NAME, True, one_per_file=True),
            Column("authority_code", ("许可机关统一社会信用代码",)),
            Column("status", ("当前状态",)),
        )
        + _SOURCE,
        subject_rule=True,
    )
)
_add(
    Dataset(
        "objections",
        "信用异议",
        "对双公示信息提出的信用异议及其处理结果。",
        ("objection_id",),
        (
            Column("objection_id", ("异议编号", "异议申请编号", "受理编号"), DOC, True),
            Column("doc_no", ("决定文书号", "异议信息文书号", "行政处罚决定书文号", "行政许可决定文书号"), DOC, True),
            Column("category", ("信息类别", "异议信息类别", "信息类型"), CHOICE, True, CATEGORIES),
            Column("filed_on", ("异议提出日期", "申请日期", "提出日期"), DATE, True),
            Column("result", ("处理结果", "办理结果", "核查结果"), CHOICE, True, OBJECTION_RESULTS),
            Column("subjective", ("是否主观失误", "主观失误"), BOOL),
            Column("closed_on", ("办结日期", "办结时间"), DATE),
            Column("deadline", ("办理时限", "办理期限"), DEADLINE),
        ),
    )
)


def header_index(dataset: Dataset) -> dict[str, str]:
    """Normalised header → canonical column name."""
    index: dict[str, str] = {}
    for col in dataset.columns:
        for header in col.headers:
            index.setdefault(normalize.header_key(header), col.name)
    return index


UPLOADABLE = tuple(n for n, d in DATASETS.items() if d.uploadable)
