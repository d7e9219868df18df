"""A realistic synthetic Xiamen data set (2021–2022) for demos, tests and benchmarks.

``generate`` builds clean, typed frames (canonical column names, vectorised,
deterministic for a seed); ``write_exports`` turns them into the spreadsheets
real systems export — Chinese headers, title/total/note rows, GBK and BOM
CSVs, Excel date cells, a few messy rows ingestion must reject; ``build``
writes them and loads them through the real ingestion path.

    python -m analytics demo --db data/demo.duckdb --scale 1 --out data/demo_exports
"""

from __future__ import annotations

import io
import tempfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import xlsxwriter

from analytics.intake.datasets import DATASETS, OBJECTION_RESULTS, PROGRESS_STATUSES

# --- Constants ---------------------------------------------------------------

START, END = date(2021, 1, 1), date(2022, 12, 31)  # the period the data covers
AS_OF = END

CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015, no I O S V Z
CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643 citizen ID
ID_CHECK = "10X98765432"

# (district, adcode, share of registered entities) — see ../shared/data/xiamen_districts.csv
DISTRICTS = (
    ("思明区", "350203", 0.22),
    ("海沧区", "350205", 0.12),
    ("湖里区", "350206", 0.25),
    ("集美区", "350211", 0.17),
    ("同安区", "350212", 0.13),
    ("翔安区", "350213", 0.11),
)
PORT_DISTRICT_SHARES = (0.10, 0.35, 0.30, 0.10, 0.05, 0.10)  # water and port firms sit by the harbours

# Departments that punish or license; index order matters (district bureaus last, in DISTRICTS order).
BUREAU, ENFORCEMENT, ROAD_ADMIN, PORT_AUTHORITY = 0, 1, 2, 3
AUTHORITIES = (
    ("厦门市交通运输局", "350200", "00362571", "厦交罚", "厦交审"),
    ("厦门市交通运输综合执法支队", "350200", "MB1934676", "厦交执罚", "厦交执许"),
    ("厦门市道路运输管理处", "350200", "42660218", "厦运管罚", "厦运管许"),
    ("厦门市港口管理局", "350200", "00362598", "厦港罚", "厦港许"),
    ("思明区交通运输局", "350203", "00364312", "思交罚", "思交许"),
    ("海沧区交通运输局", "350205", "00365806", "海交罚", "海交许"),
    ("湖里区交通运输局", "350206", "00367441", "湖交罚", "湖交许"),
    ("集美区交通运输局", "350211", "00368873", "集交罚", "集交许"),
    ("同安区交通运输局", "350212", "00369129", "同交罚", "同交许"),
    ("翔安区交通运输局", "350213", "05117320", "翔交罚", "翔交许"),
)
SPREAD_AUTHORITY_SHARES = (0.15, 0.30, 0.15, 0.10, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05)
DISTRICT_BUREAU = "区"  # a sector's secondary authority: the bureau of the entity's district
FULLWIDTH_SPACE_SHARE = 0.03  # 「厦门市交通运输局　」 as typed in some systems


@dataclass(frozen=True)
class Sector:
    name: str
    entities: int  # at scale 1
    penalty_rate: float  # relative penalties per entity
    license_rate: float  # relative licences per entity
    names: tuple[str, ...]  # name templates, {b} = brand
    authority: int  # main enforcing department
    secondary: int | str  # second department, or DISTRICT_BUREAU
    rated: bool = False  # carries a 信用等级
    individual: float = 0.0  # share of 个体工商户 (code prefix 92)
    port: bool = False


SECTORS = (
    Sector("出租汽车", 150, 5.0, 1.5, ("厦门{b}出租汽车有限公司", "厦门{b}汽车出租有限公司"), ENFORCEMENT, BUREAU, True),
    Sector("网络预约出租汽车", 250, 4.0, 2.5, ("厦门{b}网约车服务有限公司", "{b}出行科技（厦门）有限公司"), ENFORCEMENT, BUREAU),
    Sector("道路旅客运输", 200, 2.0, 1.0, ("厦门{b}客运有限公司", "厦门{b}汽车运输有限公司"), ENFORCEMENT, ROAD_ADMIN, True),
    Sector("旅游包车", 150, 2.0, 1.0, ("厦门{b}旅游汽车有限公司", "厦门{b}旅游客运有限公司"), ENFORCEMENT, ROAD_ADMIN, True),
    Sector("道路货物运输", 550, 2.0, 1.5, ("厦门{b}物流有限公司", "厦门{b}货运有限公司", "厦门{b}运输有限公司"),
           ENFORCEMENT, DISTRICT_BUREAU, True, 0.15),
    Sector("危险货物运输", 180, 1.5, 1.0, ("厦门{b}危险品运输有限公司", "厦门{b}化工物流有限公司"), ENFORCEMENT, ROAD_ADMIN, True),
    Sector("机动车维修", 500, 0.8, 0.6, ("厦门{b}汽车维修服务有限公司", "厦门{b}汽车服务有限公司"),
           ENFORCEMENT, DISTRICT_BUREAU, True, 0.35),
    Sector("驾驶员培训", 150, 1.0, 0.6, ("厦门{b}驾驶培训有限公司", "厦门{b}机动车驾驶员培训有限公司"), ENFORCEMENT, ROAD_ADMIN, True),
    Sector("公共汽车客运", 60, 3.0, 1.5, ("厦门{b}公交有限公司", "厦门{b}公共交通有限公司"), ENFORCEMENT, BUREAU),
    Sector("水路运输", 150, 1.0, 1.0, ("厦门{b}航运有限公司", "厦门{b}海运有限公司"), PORT_AUTHORITY, ENFORCEMENT, port=True),
    Sector("港口经营", 180, 0.8, 1.2, ("厦门{b}港务有限公司", "厦门{b}码头有限公司", "厦门{b}国际物流有限公司"),
           PORT_AUTHORITY, ENFORCEMENT, port=True),
    Sector("城市轨道交通", 30, 0.5, 0.5, ("厦门{b}轨道交通运营有限公司", "厦门{b}轨道建设发展有限公司"), BUREAU, ENFORCEMENT),
    Sector("汽车租赁", 300, 0.6, 0.5, ("厦门{b}汽车租赁有限公司", "厦门{b}租车服务有限公司"), ENFORCEMENT, DISTRICT_BUREAU),
    Sector("交通建设工程", 150, 0.7, 1.2, ("厦门{b}路桥工程有限公司", "厦门{b}交通建设有限公司", "福建{b}建设工程有限公司"),
           BUREAU, DISTRICT_BUREAU),
)  # fmt: skip
# 个体工商户 are named 「厦门市思明区{brand}{suffix}」.
INDIVIDUAL_SUFFIX = {"道路货物运输": "货运部", "机动车维修": "汽车修理厂"}
TWO_PASSENGERS_ONE_DANGER = ("道路旅客运输", "危险货物运输", "旅游包车")  # 两客一危
HOT_SECTORS = ("出租汽车", "网络预约出租汽车", "道路货物运输", "道路旅客运输", "公共汽车客运")

ENTITIES = sum(s.entities for s in SECTORS)  # ≈ 3,000 at scale 1
PENALTIES = 30_000
LICENSES = 8_000
OBJECTIONS = 600
HOT_ENTITIES = 8  # entities with 60+ penalties in 2022
PENALTY_SPREAD = 0.9  # sigma of the log-normal penalty weight of the other entities
SPREAD_SHARE = 0.015  # entities punished by many departments
PERSON_PENALTY_SHARE = 0.10
PERSON_LICENSE_SHARE = 0.15
DEREGISTERED_SHARE = 0.05
LISTED_SHARE = 0.04  # entities on a severe list (records ≈ 4.5–5% of entities)
MULTI_LIST_SHARE = 0.15  # of listed entities, on a second list too
UNKNOWN_LISTED = 3  # list records whose code is not in the register
UNKNOWN_OBJECTIONS = 5  # objections on doc numbers nobody issued
OVERDUE_OBJECTIONS = 4  # still 处理中 past their 办理时限
OBJECTION_DAYS = 15

# Messy rows planted in the exports (fixed counts, whatever the scale): ingestion must reject them.
MESSY_ROWS = {
    "市场主体名录.xlsx": {"bad_check_char": 1},
    "严重失信主体名单.csv": {"bad_check_char": 1},
    "行政处罚_双公示_2021.csv": {"bad_check_char": 1},
    "行政处罚_双公示_2022.csv": {"bad_check_char": 1, "empty_decision_date": 1},
    "行政许可_双公示.xlsx": {"bad_check_char": 1},
}
REJECTED_ROWS = sum(sum(v.values()) for v in MESSY_ROWS.values())  # 6
# Non-data rows the reader must skip: title, 合计 and 制表单位 rows.
SKIPPED_ROWS = {"市场主体名录.xlsx": 1, "行政处罚_双公示_2021.csv": 3}

ENTITY_FILE = "市场主体名录.xlsx"
SEVERE_FILE = "严重失信主体名单.csv"
PENALTY_FILE = "行政处罚_双公示_{year}.csv"
LICENSE_FILE = "行政许可_双公示.xlsx"
OBJECTION_FILE = "信用异议.csv"
PROGRESS_FILE = "工作要点进展台账.xlsx"
ENTITY_TITLE = "厦门市交通运输行业市场主体名录（截至2022年12月31日）"
PENALTY_TITLE = "厦门市交通运输局行政处罚信息（双公示）{year}年度"
PENALTY_NOTE = ("制表单位：厦门市交通运输局法规处", "制表日期：2022年1月10日")
EXPORT_CREATED = datetime(2023, 1, 5, 9, 30)  # fixed xlsx metadata, so files are reproducible

# National 双公示 column order (../shared/README.md), as canonical names.
_SUBJECT_ORDER = ("subject_name", "subject_type", "credit_code", "legal_rep", "legal_rep_id_type", "legal_rep_id_no",
                  "id_type", "id_no")  # fmt: skip
PENALTY_ORDER = _SUBJECT_ORDER + (
    "doc_no", "violation_type", "facts", "basis", "penalty_type", "penalty_content", "fine_wan", "confiscated_wan",
    "license_action", "decision_date", "valid_until", "publish_until", "authority", "authority_code", "status",
    "source_unit", "source_unit_code", "note",
)  # fmt: skip
LICENSE_ORDER = _SUBJECT_ORDER + (
    "doc_name", "doc_no", "license_type", "cert_name", "license_no", "license_content", "decision_date", "valid_from",
    "valid_to", "authority", "authority_code", "status", "source_unit", "source_unit_code", "note",
)  # fmt: skip

ORG, PERSON, INDIVIDUAL = "法人及非法人组织", "自然人", "个体工商户"
ID_CARD = "身份证"

SURNAMES = "陈林黄王李张吴刘蔡杨郑许谢洪庄苏曾周叶徐柯赖郭何高胡邱卢江施颜康朱罗詹唐彭邓"
GIVEN_CHARS = "志明国华建伟文斌勇军丽芳秀英玉兰强平辉鹏宏海清春晓燕婷雅静欣金木水火土福德荣祥瑞俊杰鑫磊涛阳艺美佳怡"
BRAND_CHARS = (
    "鑫顺达通运盛华联安泰宏祥发兴恒嘉鹭海闽厦金银源丰利昌永隆富裕和信诚德鸿鼎润捷驰远航新晟瑞祺佳锦"
    "众诺凯骏腾飞龙凤翔合益广汇博力天元星光辰春江山峰林森禾悦康乐万福宝圣泽洋滨港湾岛琴帆溢远景"
)

# Plain-language violations by sector: (违法行为类型, 处罚依据, fine choices in 万元).
VIOLATIONS = {
    "出租汽车": (
        ("巡游出租汽车驾驶员拒载、议价、途中甩客", "《巡游出租汽车经营服务管理规定》第四十六条", (0.02, 0.05, 0.1)),
        ("未按规定使用计程计价设备", "《巡游出租汽车经营服务管理规定》第四十六条", (0.05, 0.1, 0.2)),
        ("未按规定维护车辆设施设备", "《巡游出租汽车经营服务管理规定》第四十五条", (0.5, 1.0)),
    ),
    "网络预约出租汽车": (
        (
            "未取得网约车运输证从事网约车经营",
            "《网络预约出租汽车经营服务管理暂行办法》第三十四条",
            (0.5, 1.0, 2.0, 3.0),
        ),
        ("使用未取得从业资格的驾驶员从事网约车经营", "《网络预约出租汽车经营服务管理暂行办法》第三十五条", (0.2, 0.5)),
        ("网约车平台未按规定提供共享信息", "《网络预约出租汽车经营服务管理暂行办法》第三十五条", (0.5, 1.0)),
    ),
    "道路旅客运输": (
        ("客运车辆不按批准的线路、班次行驶", "《中华人民共和国道路运输条例》第七十一条", (0.1, 0.2, 0.3)),
        ("未按规定对动态监控数据进行分析处理", "《道路运输车辆动态监督管理办法》第三十六条", (0.1, 0.2, 0.3)),
        ("客运驾驶员连续驾驶超过规定时间", "《道路旅客运输及客运站管理规定》第一百零二条", (0.05, 0.1)),
    ),
    "旅游包车": (
        ("包车客运未按规定持有包车客运标志牌", "《道路旅客运输及客运站管理规定》第九十八条", (0.1, 0.2)),
        ("未按规定对动态监控数据进行分析处理", "《道路运输车辆动态监督管理办法》第三十六条", (0.1, 0.2, 0.3)),
        ("包车客运招揽包车合同以外的旅客", "《道路旅客运输及客运站管理规定》第九十八条", (0.1, 0.3)),
    ),
    "道路货物运输": (
        ("车辆违法超限运输", "《公路安全保护条例》第六十四条", (0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 3.0)),
        ("擅自改装已取得道路运输证的车辆", "《中华人民共和国道路运输条例》第六十九条", (0.5, 1.0)),
        ("货运车辆未按规定进行年度审验", "《道路货物运输及站场管理规定》第六十一条", (0.02, 0.05)),
    ),
    "危险货物运输": (
        ("运输危险货物未配备必要的押运人员", "《道路危险货物运输管理规定》第六十五条", (0.5, 1.0, 2.0)),
        ("危险货物运输车辆未按规定使用卫星定位装置", "《道路运输车辆动态监督管理办法》第三十六条", (0.2, 0.3)),
        ("驾驶人员、押运人员未取得从业资格上岗作业", "《危险货物道路运输安全管理办法》第六十四条", (0.5, 1.0)),
    ),
    "机动车维修": (
        ("使用假冒伪劣配件维修机动车", "《机动车维修管理规定》第五十一条", (0.1, 0.2, 0.5, 1.0)),
        ("未按规定签发机动车维修竣工出厂合格证", "《机动车维修管理规定》第五十二条", (0.1, 0.3)),
        ("未按规定建立机动车维修档案", "《机动车维修管理规定》第五十三条", (0.1, 0.2)),
    ),
    "驾驶员培训": (
        ("未按照全国统一的教学大纲进行培训", "《机动车驾驶员培训管理规定》第五十条", (0.1, 0.2, 0.3)),
        ("教练员未按规定记录教学过程", "《机动车驾驶员培训管理规定》第五十一条", (0.02, 0.05)),
    ),
    "公共汽车客运": (
        ("公交车辆未按规定线路、站点运营", "《城市公共汽车和电车客运管理规定》第六十二条", (0.05, 0.1, 0.2)),
        ("驾驶员在运营过程中拒载乘客或擅自中断运营", "《城市公共汽车和电车客运管理规定》第六十六条", (0.02, 0.05)),
        ("未按规定配置安全设施设备", "《城市公共汽车和电车客运管理规定》第六十四条", (0.2, 0.5)),
    ),
    "水路运输": (
        ("未按规定报备船舶营运信息", "《国内水路运输管理规定》第四十七条", (0.2, 0.5)),
        ("超越许可范围经营国内水路运输业务", "《国内水路运输管理条例》第三十四条", (1.0, 2.0, 3.0, 5.0)),
    ),
    "港口经营": (
        ("未按规定落实港口作业安全措施", "《港口经营管理规定》第三十九条", (0.3, 0.5, 1.0)),
        ("港口经营人未按规定报告危险货物作业", "《港口危险货物安全管理规定》第八十五条", (0.5, 1.0, 3.0)),
        ("超越许可范围从事港口经营", "《中华人民共和国港口法》第四十八条", (1.0, 2.0, 5.0)),
    ),
    "城市轨道交通": (
        ("未按规定开展运营安全评估", "《城市轨道交通运营管理规定》第五十一条", (0.5, 1.0)),
        ("保护区内作业未制定安全防护方案", "《城市轨道交通运营管理规定》第五十二条", (1.0, 3.0)),
    ),
    "汽车租赁": (
        ("汽车租赁经营者未按规定办理备案", "《小微型客车租赁经营服务管理办法》第三十一条", (0.1, 0.2, 0.3)),
        ("未按规定建立租赁车辆档案", "《小微型客车租赁经营服务管理办法》第三十二条", (0.05, 0.1)),
    ),
    "交通建设工程": (
        ("未按规定组织工程质量检测", "《公路水运工程质量监督管理规定》第四十三条", (1.0, 2.0, 5.0)),
        ("施工单位未按规定提取安全生产费用", "《公路水运工程安全生产监督管理办法》第五十八条", (0.5, 1.0, 2.0)),
    ),
}
PERSON_VIOLATIONS = (
    ("未取得道路运输经营许可擅自从事道路客运经营", "《中华人民共和国道路运输条例》第六十三条", (0.3, 0.5, 1.0)),
    ("未取得网约车驾驶员证从事网约车经营", "《网络预约出租汽车经营服务管理暂行办法》第三十四条", (0.2, 0.5)),
    ("巡游出租汽车驾驶员拒载、议价、途中甩客", "《巡游出租汽车经营服务管理规定》第四十六条", (0.02, 0.05, 0.1)),
    ("车辆违法超限运输", "《公路安全保护条例》第六十四条", (0.05, 0.1, 0.2, 0.5)),
)
ILLEGAL_OPERATION = 0  # the person violation that also confiscates earnings
VEHICLE_SECTORS = (
    "出租汽车",
    "网络预约出租汽车",
    "道路旅客运输",
    "旅游包车",
    "道路货物运输",
    "危险货物运输",
    "公共汽车客运",
)

# Licences: (证书名称, 决定文书名称, 许可类别, 许可内容, years valid, authority, 许可编号 prefix, weight).
_ROAD_LICENSE = ("道路运输经营许可证", "道路运输经营许可决定书", "普通")
_ROAD_CERT = ("道路运输证", "道路运输证配发决定书", "普通", "营运车辆配发道路运输证", 1, ROAD_ADMIN, "闽交运管厦字", 3)
_OVERSIZE = ("超限运输车辆通行证", "超限运输车辆行驶公路许可决定书", "普通", "大件运输许可", 0, BUREAU, "闽厦超限", 3)
LICENSE_KINDS = {
    "出租汽车": (("巡游出租汽车经营许可证", "巡游出租汽车经营许可决定书", "特许", "巡游出租汽车客运经营", 6, BUREAU,
                  "闽交运管许可厦字", 1), _ROAD_CERT),
    "网络预约出租汽车": (("网络预约出租汽车经营许可证", "网络预约出租汽车经营许可决定书", "普通", "网络预约出租汽车经营", 4, BUREAU,
                          "闽交运管许可厦字", 1),
                         ("网络预约出租汽车运输证", "网络预约出租汽车运输证核发决定书", "普通", "网约车车辆营运许可", 8, ROAD_ADMIN,
                          "闽厦网约", 4)),
    "道路旅客运输": ((*_ROAD_LICENSE, "省际班车客运、市际班车客运", 4, BUREAU, "闽交运管许可厦字", 1), _ROAD_CERT),
    "旅游包车": ((*_ROAD_LICENSE, "省际包车客运", 4, BUREAU, "闽交运管许可厦字", 1), _ROAD_CERT),
    "道路货物运输": ((*_ROAD_LICENSE, "道路普通货物运输", 4, BUREAU, "闽交运管许可厦字", 1), _ROAD_CERT, _OVERSIZE),
    "危险货物运输": ((*_ROAD_LICENSE, "道路危险货物运输（第3类、第8类）", 4, BUREAU, "闽交运管许可厦字", 1), _ROAD_CERT,
                     _OVERSIZE),
    "机动车维修": (("机动车维修经营备案证明", "机动车维修经营备案回执", "登记", "一类机动车维修", 6, ROAD_ADMIN, "闽厦维修备", 1),),
    "驾驶员培训": ((*_ROAD_LICENSE, "普通机动车驾驶员培训", 4, BUREAU, "闽交运管许可厦字", 1),),
    "公共汽车客运": (("城市公共汽车客运线路经营许可", "城市公共汽车客运线路经营许可决定书", "特许", "城市公共汽车线路运营", 8,
                      BUREAU, "厦公交线许", 1), _ROAD_CERT),
    "水路运输": (("国内水路运输经营许可证", "国内水路运输经营许可决定书", "普通", "国内沿海普通货船运输", 5, PORT_AUTHORITY,
                  "交闽XK", 1),
                 ("船舶营业运输证", "船舶营业运输证配发决定书", "普通", "船舶营运", 5, PORT_AUTHORITY, "闽厦船证", 2)),
    "港口经营": (("港口经营许可证", "港口经营许可决定书", "普通", "港口货物装卸、仓储、港内驳运", 3, PORT_AUTHORITY,
                  "（闽厦）港经证", 2),
                 ("港口危险货物作业附证", "港口危险货物作业许可决定书", "普通", "港口危险货物作业", 3, PORT_AUTHORITY,
                  "（闽厦）港经证附证", 1)),
    "城市轨道交通": (("城市轨道交通保护区作业许可", "城市轨道交通保护区作业许可决定书", "其他", "保护区内施工作业", 1, BUREAU,
                      "厦轨保许", 1),),
    "汽车租赁": (("小微型客车租赁经营备案证明", "小微型客车租赁经营备案回执", "登记", "小微型客车租赁经营", 6, ROAD_ADMIN,
                  "闽厦租赁备", 1),),
    "交通建设工程": (("公路建设项目施工许可", "公路建设项目施工许可决定书", "核准", "公路工程施工许可", 2, BUREAU,
                      "厦交建施许", 2),
                     ("水运工程施工许可", "水运工程施工许可决定书", "核准", "水运工程施工许可", 2, PORT_AUTHORITY,
                      "厦港建施许", 1)),
}  # fmt: skip
PERSON_LICENSE_KINDS = (
    ("道路运输从业人员从业资格证", "从业资格证核发决定书", "认可", "经营性道路货物运输驾驶员", 6, ROAD_ADMIN, "", 3),
    ("道路运输从业人员从业资格证", "从业资格证核发决定书", "认可", "经营性道路旅客运输驾驶员", 6, ROAD_ADMIN, "", 1),
    ("网络预约出租汽车驾驶员证", "网约车驾驶员证核发决定书", "认可", "网约车驾驶员从业资格", 6, BUREAU, "", 4),
    ("巡游出租汽车驾驶员证", "巡游出租汽车驾驶员证核发决定书", "认可", "巡游出租汽车驾驶员从业资格", 6, BUREAU, "", 2),
)

# Severe lists: (名单名称, 认定部门 choices, 列入事由 choices, weight).
SEVERE_LISTS = (
    ("交通运输领域严重失信主体名单", ("厦门市交通运输局",),
     ("发生重大安全生产责任事故", "严重超限超载运输且拒不整改", "拒不履行行政处罚决定"), 0.35),
    ("重大税收违法失信主体名单", ("国家税务总局厦门市税务局",), ("虚开增值税专用发票", "逃避缴纳税款"), 0.20),
    ("失信被执行人名单", ("厦门市中级人民法院", "厦门市思明区人民法院", "厦门市湖里区人民法院", "厦门市集美区人民法院"),
     ("有履行能力而拒不履行生效法律文书确定义务",), 0.30),
    ("拖欠农民工工资失信联合惩戒对象名单", ("厦门市人力资源和社会保障局",), ("拖欠农民工工资数额较大",), 0.15),
)  # fmt: skip
WAGE_LIST_SECTOR = "交通建设工程"  # most wage-arrears listings are builders

PROGRESS_MONTHS = ("2022-06", "2022-07", "2022-08", "2022-09", "2022-10", "2022-11", "2022-12")
EARLY_PLANNED = ("2022-08-31", "2022-09-30", "2022-10-31")  # a few points planned early, and overdue
PROGRESS_UNITS = ("局法规处", "局运输处", "局综合执法支队", "局港航处", "局建设处", "局办公室", "市道路运输管理处")
PROGRESS_NOTES = {
    "未启动": ("已部署，待启动", "正在研究制定工作方案"),
    "推进中": ("按计划推进，已完成阶段性任务", "已制定工作方案并组织实施", "已召开专题会议部署推进"),
    "滞后": ("受疫情影响进度滞后，正在加快推进", "相关系统对接未完成，进度滞后"),
    "已完成": ("已全面完成", "已完成并形成工作总结"),
}

# --- Codes -------------------------------------------------------------------

_ALPHA_BYTES = np.frombuffer(CODE_ALPHABET.encode(), dtype=np.uint8)
_CODE_VALUE = {ch: i for i, ch in enumerate(CODE_ALPHABET)}
# GB 11714 character values (digits 0–9, letters A=10 … Z=35) for each CODE_ALPHABET index.
_ORG_VALUE = np.array([int(ch, 36) for ch in CODE_ALPHABET])
_ID_CHECK_BYTES = np.frombuffer(ID_CHECK.encode(), dtype=np.uint8)


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a 统一社会信用代码 (GB 32100-2015)."""
    total = sum(_CODE_VALUE[ch] * w for ch, w in zip(first17, CODE_WEIGHTS, strict=True))
    return CODE_ALPHABET[(31 - total % 31) % 31]


def _org_check_index(first8: np.ndarray) -> np.ndarray:
    """GB 11714 check character of (n, 8) organisation codes, as CODE_ALPHABET indices (X for 10)."""
    check = (11 - (_ORG_VALUE[first8] * np.array(ORG_WEIGHTS)).sum(axis=1) % 11) % 11
    return np.where(check == 10, CODE_ALPHABET.index("X"), check)


def _digits(text: np.ndarray | list[str], width: int) -> np.ndarray:
    """Digit strings of equal width → (n, width) CODE_ALPHABET indices (digits index as themselves)."""
    return np.frombuffer("".join(text).encode(), dtype=np.uint8).reshape(-1, width).astype(np.int64) - ord("0")


def credit_codes(prefix: np.ndarray, adcodes: np.ndarray, org: np.ndarray) -> pa.Array:
    """Valid 统一社会信用代码: 2-digit prefix + 6-digit adcode + 9-char organisation code + check char.

    ``prefix`` and ``adcodes`` are arrays of digit strings, ``org`` an (n, 9) matrix of CODE_ALPHABET indices.
    """
    body = np.concatenate([_digits(prefix, 2), _digits(adcodes, 6), org, np.zeros((len(org), 1), np.int64)], axis=1)
    body[:, 17] = (31 - (body[:, :17] * np.array(CODE_WEIGHTS)).sum(axis=1) % 31) % 31
    return _chars(body)


def _org_codes(rng: np.random.Generator, recent: np.ndarray) -> np.ndarray:
    """Unique 9-char organisation codes: 'MA' + 6 chars for recent registrations, 8 digits before; GB 11714 check."""
    n = len(recent)
    org = np.empty((n, 9), dtype=np.int64)
    todo = np.arange(n)
    while len(todo):  # redraw the (rare) duplicates
        org[todo, :8] = rng.integers(0, 10, size=(len(todo), 8))
        fresh = todo[recent[todo]]
        org[fresh, 0], org[fresh, 1] = CODE_ALPHABET.index("M"), CODE_ALPHABET.index("A")
        org[fresh, 2:8] = rng.integers(0, 31, size=(len(fresh), 6))
        org[todo, 8] = _org_check_index(org[todo, :8])
        _, first = np.unique((org[:, :8] * 31 ** np.arange(8)).sum(axis=1), return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        todo = np.flatnonzero(dup)
    return org


def agency_code(adcode: str, org8: str) -> str:
    """A government agency's code (prefix 11) from its 8-char organisation code."""
    org = np.array([[CODE_ALPHABET.index(ch) for ch in org8[:8]]])
    org9 = np.concatenate([org, _org_check_index(org)[:, None]], axis=1)
    return credit_codes(np.array(["11"]), np.array([adcode]), org9)[0].as_py()


def _typo_check_char(code: str) -> str:
    """The same code with a wrong (but well-formed) check character."""
    return code[:17] + CODE_ALPHABET[(CODE_ALPHABET.index(code[17]) + 1) % 31]


# --- Vectorised string helpers (Arrow kernels: fast for millions of rows) ---

STR = pa.string()


def _text(values) -> pa.Array:
    """Python strings (None for empty) as an Arrow string array."""
    return pa.array(list(values), type=STR)


def _lookup(values, idx: np.ndarray) -> pa.Array:
    """values[idx] for a small list of strings."""
    return _text(values).take(np.asarray(idx))


def _scalar(part) -> pa.Scalar | pa.Array:
    return pa.scalar(part, STR) if part is None or isinstance(part, str) else part


def _join(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays and plain strings (null if any part is null)."""
    return pc.binary_join_element_wise(*(_scalar(p) for p in parts), _scalar(""))


def _where(mask: np.ndarray, a, b) -> pa.Array:
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), _scalar(a), _scalar(b))


def _num(values: np.ndarray, width: int = 0) -> pa.Array:
    """Integers as text, zero-padded to ``width``."""
    text = pc.cast(pa.array(np.asarray(values)), STR)
    return pc.utf8_lpad(text, width, padding="0") if width else text


def _chars(indices: np.ndarray) -> pa.Array:
    """(n, k) CODE_ALPHABET indices → n strings of k characters."""
    k = indices.shape[1]
    raw = np.ascontiguousarray(_ALPHA_BYTES[indices]).view(f"S{k}").ravel()
    return pa.array(raw).cast(STR)


def _arrow(column: pd.Series) -> pa.Array:
    """A text column of a frame as an Arrow string array."""
    return pa.array(column).cast(STR)


def _str(array: pa.Array) -> pd.Series:
    return pd.Series(array, dtype="str")


AUTHORITY_CODES = [agency_code(a[1], a[2]) for a in AUTHORITIES]


# --- Small numeric helpers ---------------------------------------------------


def _rng(seed: int, part: str) -> np.random.Generator:
    """One independent stream per data set, so changing one leaves the others as they were."""
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


def _n(base: int, scale: float) -> int:
    return max(1, round(base * scale))


def _day(text: str | date) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


def _dates(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]")


def _days_of(column: pd.Series) -> np.ndarray:
    """A date column as day numbers (NaT → -1)."""
    values = column.to_numpy().astype("datetime64[D]")
    return np.where(np.isnat(values), -1, values.astype(np.int64))


def _full(n: int, text: str) -> np.ndarray:
    return np.full(n, _day(text))


def _uniform_days(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A day between lo and hi inclusive (day numbers)."""
    return lo + np.floor(rng.random(len(lo)) * (hi - lo + 1)).astype(np.int64)


def _choose_rows(rng: np.random.Generator, shares: np.ndarray) -> np.ndarray:
    """One category index per row of an (n, k) matrix of row-wise weights."""
    cum = np.cumsum(shares / shares.sum(axis=1, keepdims=True), axis=1)
    return (rng.random(len(shares))[:, None] > cum[:, :-1]).sum(axis=1)


def _choose(rng: np.random.Generator, weights, n: int) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    return rng.choice(len(weights), n, p=weights / weights.sum())


def _in_groups(rng: np.random.Generator, group: np.ndarray, sizes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """For each row, an index into a flat table where ``group`` owns rows offset[g] … offset[g] + sizes[g] - 1,
    drawn with the table's ``weights`` (vectorised over rows)."""
    offset = np.r_[0, np.cumsum(sizes)[:-1]]
    width = int(sizes.max())
    table = np.zeros((len(sizes), width))
    for g, (o, s) in enumerate(zip(offset, sizes, strict=True)):  # a loop over groups, not rows
        table[g, :s] = weights[o : o + s]
    return offset[group] + _choose_rows(rng, table[group])


def _person_names(rng: np.random.Generator, n: int) -> pa.Array:
    share = 1 / np.arange(1, len(SURNAMES) + 1) ** 0.9  # 陈 ≈ 11%, as in Xiamen
    given = list(GIVEN_CHARS)
    second = np.where(rng.random(n) < 0.7, rng.integers(0, len(given), n), len(given))  # 30% one-character names
    return _join(
        _lookup(SURNAMES, _choose(rng, share, n)),
        _lookup(given, rng.integers(0, len(given), n)),
        _lookup([*given, ""], second),
    )


def _id_numbers(rng: np.random.Generator, n: int) -> pa.Array:
    """Citizen ID numbers (GB 11643): mostly Xiamen and Fujian areas, born 1960–2000, valid check char."""
    areas = ("350203", "350205", "350206", "350211", "350212", "350213", "350581", "350582", "350624", "350102",
             "360102", "430521", "511324", "412726")  # fmt: skip
    area = _digits(areas, 6)[_choose(rng, (8, 4, 8, 5, 4, 3, 6, 6, 4, 3, 2, 2, 2, 2), n)]
    born = _dates(rng.integers(_day("1960-01-01"), _day("2000-12-31"), n))
    year = born.astype("datetime64[Y]").astype(np.int64) + 1970
    month = born.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (born - born.astype("datetime64[M]")).astype(np.int64) + 1
    seq = rng.integers(0, 1000, n)
    parts = [year // 1000, year // 100 % 10, year // 10 % 10, year % 10, month // 10, month % 10, day // 10, day % 10,
             seq // 100, seq // 10 % 10, seq % 10]  # fmt: skip
    digits = np.concatenate([area, np.stack(parts, axis=1)], axis=1)
    check = _ID_CHECK_BYTES[(digits * np.array(ID_WEIGHTS)).sum(axis=1) % 11]
    raw = np.concatenate([(digits + ord("0")).astype(np.uint8), check[:, None]], axis=1)
    return pa.array(np.ascontiguousarray(raw).view("S18").ravel()).cast(STR)


def _brands(rng: np.random.Generator, n: int) -> pa.Array:
    """Unique 2-character trade names (3 characters once the 2-character ones run short)."""
    chars = list(dict.fromkeys(BRAND_CHARS))
    k = len(chars)
    two = min(n, k * k // 2)
    p2 = rng.choice(k * k, size=two, replace=False)
    p3 = rng.choice(k**3, size=n - two, replace=False) if n > two else np.zeros(0, dtype=np.int64)
    first = np.concatenate([p2 // k, p3 // (k * k)])
    second = np.concatenate([p2 % k, p3 // k % k])
    third = np.concatenate([np.full(two, k), p3 % k])
    order = rng.permutation(n)
    return _join(_lookup(chars, first[order]), _lookup(chars, second[order]), _lookup([*chars, ""], third[order]))


# --- Data sets ---------------------------------------------------------------

SECTOR_NAMES = [s.name for s in SECTORS]


def _entities(seed: int, scale: float) -> pd.DataFrame:
    rng = _rng(seed, "entities")
    sector = np.repeat(np.arange(len(SECTORS)), [_n(s.entities, scale) for s in SECTORS])
    n = len(sector)
    port = np.array([s.port for s in SECTORS])[sector]
    district = _choose_rows(rng, np.where(port[:, None], PORT_DISTRICT_SHARES, [d[2] for d in DISTRICTS]))

    # Registrations grow over the years; a few founded in 2021–2022, ~5% deregistered then.
    years = np.arange(2000, 2023)
    year = years[_choose(rng, 1 + 0.12 * (years - 2000), n)]
    jan1 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    established = jan1 + rng.integers(0, 365, n)
    lo = np.maximum(established + 90, _day(START))
    dereg = (rng.random(n) < DEREGISTERED_SHARE) & (lo <= _day(END))
    deregistered = np.where(dereg, _uniform_days(rng, lo, np.full(n, _day(END))), -1)

    individual = rng.random(n) < np.array([s.individual for s in SECTORS])[sector]
    org = _org_codes(rng, established >= _day("2016-01-01"))
    codes = credit_codes(np.where(individual, "92", "91"), np.array([d[1] for d in DISTRICTS])[district], org)

    # Names: a unique brand in one of the sector's templates; 个体工商户 carry their district.
    brand = _brands(rng, n)
    n_templates = np.array([len(s.names) for s in SECTORS])
    template = np.r_[0, np.cumsum(n_templates)[:-1]][sector] + (rng.random(n) * n_templates[sector]).astype(int)
    before, after = zip(*(t.split("{b}") for s in SECTORS for t in s.names), strict=True)
    names = _join(_lookup(before, template), brand, _lookup(after, template))
    suffix = [INDIVIDUAL_SUFFIX.get(s.name, "商行") for s in SECTORS]
    shop = _join(_lookup(["厦门市" + d[0] for d in DISTRICTS], district), brand, _lookup(suffix, sector))
    names = _where(individual, shop, names)

    rated = np.array([s.rated for s in SECTORS])[sector] & ~dereg
    rating = np.where(rated, _choose(rng, (0.08, 0.4, 0.42, 0.1), n), 4)
    return pd.DataFrame(
        {
            "credit_code": _str(codes),
            "name": _str(names),
            "sector": _str(_lookup(SECTOR_NAMES, sector)),
            "district": _str(_lookup([d[0] for d in DISTRICTS], district)),
            "established": _dates(established),
            "deregistered": pd.Series(_dates(deregistered)).where(deregistered >= 0),
            "credit_rating": _str(_lookup(("AAA", "AA", "A", "B", None), rating)),
            # Private columns (not exported): who represents the entity, and codes used by the other tables.
            "_legal_rep": _str(_person_names(rng, n)),
            "_legal_rep_id": _str(_id_numbers(rng, n)),
            "_individual": individual,
            "_sector_idx": sector,
            "_district_idx": district,
        }
    )


def _active_window(entities: pd.DataFrame, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first and last day within 2021–2022 on which the entity existed."""
    established, deregistered = _days_of(entities["established"])[idx], _days_of(entities["deregistered"])[idx]
    return np.maximum(established, _day(START)), np.where(deregistered < 0, _day(END), deregistered)


@dataclass
class _Subjects:
    """Rows of a 双公示 table: entity rows (entity index) then natural-person rows (person index)."""

    entity: np.ndarray  # entity index per row (0 for person rows)
    person: np.ndarray  # person index per row (0 for entity rows)
    is_person: np.ndarray

    def take(self, order: np.ndarray) -> _Subjects:
        return _Subjects(self.entity[order], self.person[order], self.is_person[order])

    def columns(self, entities: pd.DataFrame, persons: dict[str, pa.Array]) -> dict[str, pd.Series]:
        """The eight national subject columns."""

        def ent(col: str) -> pa.Array:
            return _arrow(entities[col]).take(self.entity)

        is_person = self.is_person
        subject_type = np.where(is_person, 2, entities["_individual"].to_numpy()[self.entity].astype(int))
        columns = {
            "subject_name": _where(is_person, persons["name"].take(self.person), ent("name")),
            "subject_type": _lookup((ORG, INDIVIDUAL, PERSON), subject_type),
            "credit_code": _where(is_person, None, ent("credit_code")),
            "legal_rep": _where(is_person, None, ent("_legal_rep")),
            "legal_rep_id_type": _where(is_person, None, ID_CARD),
            "legal_rep_id_no": _where(is_person, None, ent("_legal_rep_id")),
            "id_type": _where(is_person, ID_CARD, None),
            "id_no": _where(is_person, persons["id"].take(self.person), None),
        }
        return {k: _str(v) for k, v in columns.items()}


def _subjects(entity: np.ndarray, person: np.ndarray) -> _Subjects:
    return _Subjects(
        np.concatenate([entity, np.zeros(len(person), dtype=np.int64)]),
        np.concatenate([np.zeros(len(entity), dtype=np.int64), person]),
        np.r_[np.zeros(len(entity), dtype=bool), np.ones(len(person), dtype=bool)],
    )


def _doc_sequence(authority: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Numbers per department and year, in date order (the 123 of 「厦交执罚〔2022〕123号」)."""
    year = _dates(days).astype("datetime64[Y]").astype(np.int64)
    order = np.lexsort((days, year, authority))
    group = authority[order] * 10_000 + year[order]
    starts = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    seq = np.empty(len(order), dtype=np.int64)
    seq[order] = rank + 1
    return seq


def _doc_numbers(prefixes: list[str], authority: np.ndarray, days: np.ndarray, seq: np.ndarray) -> pa.Array:
    year = _dates(days).astype("datetime64[Y]").astype(np.int64) + 1970
    return _join(_lookup(prefixes, authority), "〔", _num(year), "〕", _num(seq), "号")


def _authority_names(rng: np.random.Generator, authority: np.ndarray) -> pa.Array:
    """Department names, a few typed with a trailing full-width space 「厦门市交通运输局　」."""
    names = [a[0] for a in AUTHORITIES]
    spaced = rng.random(len(authority)) < FULLWIDTH_SPACE_SHARE
    return _lookup(names + [n + "\u3000" for n in names], authority + len(names) * spaced)


def _persons(rng: np.random.Generator, n: int) -> dict[str, pa.Array]:
    return {"name": _person_names(rng, n), "id": _id_numbers(rng, n)}


def _entity_authority(rng: np.random.Generator, entities: pd.DataFrame, idx: np.ndarray, spread: np.ndarray):
    """Penalising department per row: the sector's main one, sometimes its second; spread entities: any."""
    sector = entities["_sector_idx"].to_numpy()[idx]
    main = np.array([s.authority for s in SECTORS])[sector]
    second = np.array([-1 if s.secondary == DISTRICT_BUREAU else s.secondary for s in SECTORS])[sector]
    second = np.where(second < 0, 4 + entities["_district_idx"].to_numpy()[idx], second)
    anyone = _choose(rng, SPREAD_AUTHORITY_SHARES, len(idx))
    return np.where(spread[idx], anyone, np.where(rng.random(len(idx)) < 0.85, main, second))


def _penalties(seed: int, scale: float, entities: pd.DataFrame) -> pd.DataFrame:
    rng = _rng(seed, "penalties")
    total = _n(PENALTIES, scale)
    n_person = round(total * PERSON_PENALTY_SHARE)
    n_ent = len(entities)
    sector = entities["_sector_idx"].to_numpy()
    lo, hi = _active_window(entities, np.arange(n_ent))

    # A few hot entities, active all along, with 60+ penalties in 2022 alone.
    hot_sector = np.isin(sector, [SECTOR_NAMES.index(s) for s in HOT_SECTORS])
    candidates = np.flatnonzero(hot_sector & (lo == _day(START)) & (hi == _day(END)))
    hot = rng.choice(candidates, min(_n(HOT_ENTITIES, scale), len(candidates)), replace=False)
    hot_2022, hot_2021 = rng.integers(62, 140, len(hot)), rng.integers(10, 60, len(hot))

    # Everyone else: heavy-tailed weights by sector, scaled by the time they were active.
    weight = np.array([s.penalty_rate for s in SECTORS])[sector] * rng.lognormal(0.0, PENALTY_SPREAD, n_ent)
    weight *= (hi - lo + 1).clip(0) / (_day(END) - _day(START) + 1)
    weight[hot] = 0
    rest = max(total - n_person - int(hot_2022.sum() + hot_2021.sum()), 0)
    idx = np.repeat(np.arange(n_ent), rng.multinomial(rest, weight / weight.sum()))
    hot_idx = np.r_[np.repeat(hot, hot_2022), np.repeat(hot, hot_2021)]
    n_hot22 = int(hot_2022.sum())
    hot_lo = np.where(np.arange(len(hot_idx)) < n_hot22, _day("2022-01-01"), _day(START))
    hot_hi = np.where(np.arange(len(hot_idx)) < n_hot22, _day(END), _day("2021-12-31"))
    idx = np.r_[idx, hot_idx]
    days = np.r_[_uniform_days(rng, lo[idx[: len(idx) - len(hot_idx)]], hi[idx[: len(idx) - len(hot_idx)]]),
                 _uniform_days(rng, hot_lo, hot_hi)]  # fmt: skip
    spread = rng.random(n_ent) < SPREAD_SHARE
    spread[hot[: max(1, len(hot) // 2)]] = True
    authority = _entity_authority(rng, entities, idx, spread)

    # Natural persons: some repeat offenders among a smaller pool.
    people = _persons(rng, max(1, int(n_person * 0.7)))
    person = np.floor(len(people["name"]) * rng.random(n_person) ** 1.5).astype(np.int64)
    subjects = _subjects(idx, person)
    days = np.r_[days, _uniform_days(rng, _full(n_person, "2021-01-01"), _full(n_person, "2022-12-31"))]
    authority = np.r_[authority, np.where(rng.random(n_person) < 0.7, ENFORCEMENT, 4 + rng.integers(0, 6, n_person))]
    seq = _doc_sequence(authority, days)

    # In date order, then department and number, as systems export them.
    order = np.lexsort((seq, authority, days))
    subjects, days, authority, seq = subjects.take(order), days[order], authority[order], seq[order]
    n = len(days)
    is_person = subjects.is_person

    # Violation per row from its sector's table (persons use their own, last).
    tables = [VIOLATIONS[s.name] for s in SECTORS] + [PERSON_VIOLATIONS]
    flat = [v for t in tables for v in t]
    group = np.where(is_person, len(SECTORS), sector[subjects.entity])
    v = _in_groups(rng, group, np.array([len(t) for t in tables]), np.ones(len(flat)))
    fines = np.array([f[2] + (0.0,) * (7 - len(f[2])) for f in flat])
    fine = fines[v, (rng.random(n) * np.array([len(f[2]) for f in flat])[v]).astype(int)]
    illegal_op = v == len(flat) - len(PERSON_VIOLATIONS) + ILLEGAL_OPERATION

    warning = rng.random(n) < 0.05
    fine = np.where(warning, 0.0, fine)
    confiscated = np.where(illegal_op & (rng.random(n) < 0.5), rng.integers(1, 50, n) / 100, 0.0)
    suspend = ~warning & ~is_person & (rng.random(n) < 0.01)
    kind = np.select([warning, confiscated > 0, suspend], [1, 2, 3], 0)
    violation = _lookup([f[0] for f in flat], v)
    content = _where(warning, "警告", _join("罚款人民币", _num(np.round(fine * 10000).astype(np.int64)), "元"))
    confiscation = _join("，没收违法所得人民币", _num(np.round(confiscated * 10000).astype(np.int64)), "元")
    content = _where(confiscated > 0, _join(content, confiscation), content)
    vehicle = is_person | np.isin(group, [SECTOR_NAMES.index(s) for s in VEHICLE_SECTORS])
    plate = _join("闽D", _chars(rng.integers(0, 31, (n, 5))))
    facts = _where(vehicle, _join("经查，当事人经营的", plate, "车辆存在", violation, "的行为。"),
                   _join("经查，当事人存在", violation, "的行为。"))  # fmt: skip

    columns = {
        **subjects.columns(entities, people),
        "doc_no": _doc_numbers([a[3] for a in AUTHORITIES], authority, days, seq),
        "violation_type": violation,
        "facts": facts,
        "basis": _lookup([f[1] for f in flat], v),
        "penalty_type": _lookup(("罚款", "警告", "罚款;没收违法所得", "罚款;暂扣许可证件"), kind),
        "penalty_content": content,
        "fine_wan": fine,
        "confiscated_wan": confiscated,
        "license_action": _where(suspend, _join("暂扣道路运输证（", plate, "）"), None),
        "decision_date": _dates(days),
        "valid_until": _dates(days + 3 * 365),
        "publish_until": _dates(days + np.where(warning, 90, 365)),
        "authority": _authority_names(rng, authority),
        "authority_code": _lookup(AUTHORITY_CODES, authority),
        "status": _lookup(("正常", "撤销"), (rng.random(n) < 0.005).astype(int)),
        "source_unit": _lookup([AUTHORITIES[BUREAU][0]], np.zeros(n, dtype=int)),
        "source_unit_code": _lookup([AUTHORITY_CODES[BUREAU]], np.zeros(n, dtype=int)),
        "note": _lookup([None], np.zeros(n, dtype=int)),
        "_seq": seq,
        "_authority_idx": authority,
    }
    return pd.DataFrame({k: _str(c) if isinstance(c, pa.Array) else c for k, c in columns.items()})


def _licenses(seed: int, scale: float, entities: pd.DataFrame) -> pd.DataFrame:
    rng = _rng(seed, "licenses")
    total = _n(LICENSES, scale)
    n_person = round(total * PERSON_LICENSE_SHARE)
    n_ent = len(entities)
    sector = entities["_sector_idx"].to_numpy()
    lo, hi = _active_window(entities, np.arange(n_ent))
    weight = np.array([s.license_rate for s in SECTORS])[sector] * rng.lognormal(0.0, 0.8, n_ent)
    weight *= (hi - lo + 1).clip(0)
    idx = np.repeat(np.arange(n_ent), rng.multinomial(total - n_person, weight / weight.sum()))
    days = np.r_[_uniform_days(rng, lo[idx], hi[idx]),
                 _uniform_days(rng, _full(n_person, "2021-01-01"), _full(n_person, "2022-12-31"))]  # fmt: skip
    people = _persons(rng, n_person)
    subjects = _subjects(idx, np.arange(n_person))

    # Licence kind per row from its sector's catalogue (practitioners' certificates last).
    tables = [LICENSE_KINDS[s.name] for s in SECTORS] + [PERSON_LICENSE_KINDS]
    flat = [k for t in tables for k in t]
    group = np.where(subjects.is_person, len(SECTORS), sector[subjects.entity])
    k = _in_groups(rng, group, np.array([len(t) for t in tables]), np.array([kd[7] for kd in flat], dtype=float))
    years, authority = np.array([kd[4] for kd in flat])[k], np.array([kd[5] for kd in flat])[k]
    seq = _doc_sequence(authority, days)

    order = np.lexsort((seq, authority, days))
    subjects, days, authority, seq, k, years = (
        subjects.take(order), days[order], authority[order], seq[order], k[order], years[order]
    )  # fmt: skip
    n = len(days)
    subject = subjects.columns(entities, people)
    district = entities["_district_idx"].to_numpy()[subjects.entity]
    serial = _num(rng.integers(0, 1_000_000, n), 6)
    numbered = _join(_lookup([kd[6] for kd in flat], k), _lookup([d[1] for d in DISTRICTS], district), serial, "号")
    # Practitioners' certificates are numbered by the holder's ID number.
    license_no = _where(subjects.is_person, _arrow(subject["id_no"]), numbered)
    columns = {
        **subject,
        "doc_name": _lookup([kd[1] for kd in flat], k),
        "doc_no": _doc_numbers([a[4] for a in AUTHORITIES], authority, days, seq),
        "license_type": _lookup([kd[2] for kd in flat], k),
        "cert_name": _lookup([kd[0] for kd in flat], k),
        "license_no": license_no,
        "license_content": _lookup([kd[3] for kd in flat], k),
        "decision_date": _dates(days),
        "valid_from": _dates(days),
        "valid_to": _dates(np.where(years > 0, days + years * 365 - 1, days + 30)),
        "authority": _authority_names(rng, authority),
        "authority_code": _lookup(AUTHORITY_CODES, authority),
        "status": _lookup(("正常", "撤销"), (rng.random(n) < 0.003).astype(int)),
        "source_unit": _lookup([AUTHORITIES[BUREAU][0]], np.zeros(n, dtype=int)),
        "source_unit_code": _lookup([AUTHORITY_CODES[BUREAU]], np.zeros(n, dtype=int)),
        "note": _lookup([None], np.zeros(n, dtype=int)),
        "_seq": seq,
        "_authority_idx": authority,
    }
    return pd.DataFrame({k: _str(c) if isinstance(c, pa.Array) else c for k, c in columns.items()})


def _severe_list(seed: int, scale: float, entities: pd.DataFrame) -> pd.DataFrame:
    """Listings mostly from 2019–2021 and removed in 2022's credit-repair drive, so the listed share falls in 2022."""
    rng = _rng(seed, "severe_list")
    candidates = np.flatnonzero(entities["established"].to_numpy() < np.datetime64("2022-01-01"))
    listed = rng.choice(candidates, min(len(candidates), _n(round(ENTITIES * LISTED_SHARE), scale)), replace=False)
    is_multi = rng.random(len(listed)) < MULTI_LIST_SHARE
    idx = np.r_[listed, listed[is_multi]]
    n = len(idx)
    on_two = np.r_[is_multi, np.ones(int(is_multi.sum()), dtype=bool)]

    # Which list: wage-arrears lists are mostly builders'; a second listing is on a different list.
    shares = np.tile([lst[3] for lst in SEVERE_LISTS], (n, 1))
    wage = [lst[0] for lst in SEVERE_LISTS].index("拖欠农民工工资失信联合惩戒对象名单")
    shares[:, wage] = np.where(entities["sector"].to_numpy()[idx] == WAGE_LIST_SECTOR, 2.0, 0.03)
    list_i = _choose_rows(rng, shares)
    first_list = np.r_[np.full(len(listed), -1), list_i[: len(listed)][is_multi]]
    list_i = np.where(list_i == first_list, (list_i + 1) % len(SEVERE_LISTS), list_i)

    year = 2018 + _choose(rng, (0.08, 0.15, 0.25, 0.32, 0.20), n)
    jan1 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    listed_on = jan1 + np.where(year == 2022, rng.integers(0, 181, n), rng.integers(0, 365, n))  # 2022: first half
    _, hi = _active_window(entities, idx)
    listed_on = np.minimum(np.maximum(listed_on, _days_of(entities["established"])[idx] + 60), hi - 1)

    # Removals: most older listings leave during 2022 (entities on two lists mostly stay on both).
    before = listed_on < _day("2022-01-01")
    u = rng.random(n)
    in_2022 = before & (u < np.where(on_two, 0.25, 0.60))
    early = before & (u >= 0.60) & (u < 0.75) & (listed_on + 180 < _day("2022-01-01"))
    late = ~before & (rng.random(n) < 0.10) & (listed_on + 60 < _day(END))
    removed = np.select(
        [in_2022, early, late],
        [_uniform_days(rng, np.maximum(listed_on + 90, _day("2022-01-01")), _full(n, "2022-12-31")),
         _uniform_days(rng, listed_on + 180, _full(n, "2021-12-31")),
         _uniform_days(rng, listed_on + 60, _full(n, "2022-12-31"))],
        -1,
    )  # fmt: skip

    # A few listed subjects the transport register does not know.
    k = _n(UNKNOWN_LISTED, scale)
    extra_codes = credit_codes(np.full(k, "91"), np.array([d[1] for d in DISTRICTS])[rng.integers(0, 6, k)],
                               _org_codes(rng, np.ones(k, dtype=bool)))  # fmt: skip
    extra_codes = pc.filter(extra_codes, pc.invert(pc.is_in(extra_codes, _arrow(entities["credit_code"]))))
    k = len(extra_codes)
    list_i = np.r_[list_i, rng.integers(0, len(SEVERE_LISTS), k)]
    listed_on = np.r_[listed_on, rng.integers(_day("2020-01-01"), _day("2022-06-30"), k)]
    removed = np.r_[removed, np.full(k, -1)]
    departments = [d for lst in SEVERE_LISTS for d in lst[1]]
    reasons = [r for lst in SEVERE_LISTS for r in lst[2]]
    m = len(list_i)
    department = _in_groups(rng, list_i, np.array([len(lst[1]) for lst in SEVERE_LISTS]), np.ones(len(departments)))
    reason = _in_groups(rng, list_i, np.array([len(lst[2]) for lst in SEVERE_LISTS]), np.ones(len(reasons)))
    spaced = len(departments) * (rng.random(m) < FULLWIDTH_SPACE_SHARE * 3)
    names = pa.concat_arrays([_arrow(entities["name"]).take(idx), _join(_brands(rng, k), "投资（厦门）有限公司")])
    frame = pd.DataFrame(
        {
            "credit_code": _str(pa.concat_arrays([_arrow(entities["credit_code"]).take(idx), extra_codes])),
            "name": _str(names),
            "list_name": _str(_lookup([lst[0] for lst in SEVERE_LISTS], list_i)),
            "listed_on": _dates(listed_on),
            "removed_on": pd.Series(_dates(removed)).where(removed >= 0),
            "department": _str(_lookup(departments + [d + "\u3000" for d in departments], department + spaced)),
            "reason": _str(_lookup(reasons, reason)),
        }
    )
    return frame.iloc[np.lexsort((np.arange(m), listed_on))].reset_index(drop=True)


def _objections(seed: int, scale: float, penalties: pd.DataFrame, licenses: pd.DataFrame) -> pd.DataFrame:
    rng = _rng(seed, "objections")
    total = _n(OBJECTIONS, scale)
    n_pen = min(round(total * 0.8), len(penalties))
    n_lic = min(total - n_pen, len(licenses))
    p = rng.choice(len(penalties), n_pen, replace=False)
    q = rng.choice(len(licenses), n_lic, replace=False)
    # A few objections on doc numbers no department issued (typos in the list the city forwards).
    k = _n(UNKNOWN_OBJECTIONS, scale)
    doc_no = pa.concat_arrays([
        _arrow(penalties["doc_no"]).take(p),
        _arrow(licenses["doc_no"]).take(q),
        _join("厦交执罚〔2022〕", _num(rng.integers(900_000, 999_999, k)), "号"),
    ])  # fmt: skip
    category = np.r_[np.zeros(n_pen, dtype=int), np.ones(n_lic, dtype=int), np.zeros(k, dtype=int)]
    decided = np.r_[_days_of(penalties["decision_date"])[p], _days_of(licenses["decision_date"])[q],
                    rng.integers(_day(START), _day("2022-11-30"), k)]  # fmt: skip
    n = len(decided)

    filed = decided + rng.geometric(1 / 30, n)
    filed = np.where(filed > _day(END), _uniform_days(rng, decided, _full(n, "2022-12-31")), filed)
    deadline = filed + OBJECTION_DAYS
    open_now = deadline >= _day(AS_OF)
    result = np.where(open_now, 2, np.where(rng.random(n) < 0.35, 0, 1))  # index into OBJECTION_RESULTS
    closed = filed + np.where(rng.random(n) < 0.9, rng.integers(1, OBJECTION_DAYS + 1, n), rng.integers(16, 31, n))
    closed = np.minimum(closed, _day(AS_OF))
    # A few still 处理中 long after their deadline.
    late = np.flatnonzero(~open_now)
    result[rng.choice(late, min(_n(OVERDUE_OBJECTIONS, scale), len(late)), replace=False)] = 2
    subjective = np.where(result == 0, (rng.random(n) < 0.6).astype(int), 2)  # 是 / 否 on upheld ones only

    order = np.argsort(filed, kind="stable")
    year = _dates(filed[order]).astype("datetime64[Y]").astype(np.int64) + 1970
    starts = np.r_[0, np.flatnonzero(np.diff(year)) + 1]
    seq = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n])) + 1
    result, closed = result[order], closed[order]
    return pd.DataFrame(
        {
            "objection_id": _str(_join("YY", _num(year), _num(seq, 5))),
            "doc_no": _str(doc_no.take(order)),
            "category": _str(_lookup(("行政处罚", "行政许可"), category[order])),
            "filed_on": _dates(filed[order]),
            "result": _str(_lookup(OBJECTION_RESULTS, result)),
            "subjective": _str(_lookup(("否", "是", None), subjective[order])),
            "closed_on": pd.Series(_dates(closed)).where(result != 2),
            "deadline": _dates(deadline[order]),
        }
    )


def _progress(seed: int) -> pd.DataFrame:
    """Reports on the 21 work points, roughly monthly from June to December 2022."""
    rng = _rng(seed, "progress")
    points, months = 21, len(PROGRESS_MONTHS)
    planned = np.full(points, _day("2022-12-31"))
    early = rng.choice(points, len(EARLY_PLANNED), replace=False)
    planned[early] = [_day(d) for d in EARLY_PLANNED]
    slow = rng.choice(np.setdiff1d(np.arange(points), early), 2, replace=False)  # 未启动 in June
    start = rng.choice([10, 20, 30], points)
    start[slow] = 0
    final = np.where(np.isin(np.arange(points), early), rng.choice([60, 70, 80], points), 100)
    done_at = rng.integers(3, months + 1, points)  # month index when 100% is reached (7: not by December)

    t = np.repeat(np.arange(months), points)
    point = np.tile(np.arange(points), months)
    frac = np.minimum(t / np.where(final == 100, done_at, months - 1)[point], 1.0)
    value = (np.round((start[point] + (final - start)[point] * frac) / 5) * 5).astype(int)
    report = np.array([_day(m + "-25") for m in PROGRESS_MONTHS])[t] + rng.integers(-3, 4, len(t))
    keep = (rng.random(len(t)) >= 0.12) | (t == 0) | (t == months - 1)  # a month skipped now and then
    point, value, report = point[keep], value[keep], report[keep]
    plan = planned[point]
    expected = 100 * (report - _day("2022-06-01")) / (plan - _day("2022-06-01")).clip(1)
    lagging = (value < 100) & ((report > plan) | (expected - value > 40))
    status = np.select([value == 0, value >= 100, lagging], [0, 3, 2], 1)  # index into PROGRESS_STATUSES
    n = len(point)
    notes = [note for s in PROGRESS_STATUSES for note in PROGRESS_NOTES[s]]
    note = _in_groups(rng, status, np.array([len(PROGRESS_NOTES[s]) for s in PROGRESS_STATUSES]), np.ones(len(notes)))
    as_percent = rng.random(n) < 0.5  # half typed as "60%", half as 60
    progress = value.astype(object)
    progress[as_percent] = [f"{v}%" for v in value[as_percent]]
    order = np.lexsort((point, report))
    return pd.DataFrame(
        {
            "point_id": point[order] + 1,
            "report_date": _dates(report[order]),
            "progress": progress[order],
            "status": _str(_lookup(PROGRESS_STATUSES, status[order])),
            "planned_date": _dates(plan[order]),
            "unit": _str(_lookup(PROGRESS_UNITS, _choose(rng, (6, 1, 1, 1, 1, 1, 1), n))),
            "note": _str(_lookup(notes, note[order])),
        }
    )


@dataclass
class Demo:
    entities: pd.DataFrame
    severe_list: pd.DataFrame
    penalties: pd.DataFrame
    licenses: pd.DataFrame
    objections: pd.DataFrame
    progress: pd.DataFrame


def generate(seed: int = 2022, scale: float = 1) -> Demo:
    """The clean data set as frames with canonical column names (private helper columns start with _)."""
    entities = _entities(seed, scale)
    penalties = _penalties(seed, scale, entities)
    licenses = _licenses(seed, scale, entities)
    return Demo(
        entities=entities,
        severe_list=_severe_list(seed, scale, entities),
        penalties=penalties,
        licenses=licenses,
        objections=_objections(seed, scale, penalties, licenses),
        progress=_progress(seed),
    )


# --- Writing the exports -----------------------------------------------------

_DATE_STYLES = {
    "iso": lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
    "slash": lambda d: f"{d.year}/{d.month}/{d.day}",
    "cn": lambda d: f"{d.year}年{d.month}月{d.day}日",
}


def _date_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Distinct days and, per row, which (missing → one past the last)."""
    codes, uniques = pd.factorize(column)
    return np.where(codes < 0, len(uniques), codes), uniques


def _export_columns(frame: pd.DataFrame, dataset: str, order: tuple[str, ...], dates: str) -> dict:
    """Canonical columns → {standard Chinese header: values}; dates as text in a style, or as Excel cells."""
    ds = DATASETS[dataset]
    out = {}
    for name in order:
        column = ds.column(name)
        if column.kind in ("date", "deadline"):
            codes, uniques = _date_codes(frame[name])
            if dates == "cell":
                values = np.array([d.date() for d in uniques] + [None], dtype=object)[codes]
            else:  # each distinct day formatted once
                values = _text([_DATE_STYLES[dates](d) for d in uniques] + [None]).take(codes)
        elif frame[name].dtype == "str":
            values = _arrow(frame[name])
        else:
            values = frame[name].to_numpy()
        out[column.label] = values
    return out


def _insert_rows(frame: pd.DataFrame, extra: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Insert ``extra`` rows at random places (messy rows are not all at the end)."""
    at = np.sort(rng.integers(0, len(frame) + 1, len(extra)))
    order = np.insert(np.arange(len(frame)), at, np.arange(len(frame), len(frame) + len(extra)))
    return pd.concat([frame, extra], ignore_index=True).iloc[order].reset_index(drop=True)


def _bad_code_rows(rng: np.random.Generator, frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """Copies of k rows that carry a code, the code typed with a wrong check character."""
    coded = np.flatnonzero(frame["credit_code"].notna().to_numpy())
    rows = frame.iloc[rng.choice(coded, k, replace=False)].copy()
    rows["credit_code"] = [_typo_check_char(c) for c in rows["credit_code"]]
    return rows


def _fresh_doc_numbers(rows: pd.DataFrame, issued: pd.DataFrame, kind: int) -> pd.DataFrame:
    """New doc numbers after the last one each department issued, so planted rows never collide."""
    rows = rows.reset_index(drop=True)
    top = issued.groupby("_authority_idx")["_seq"].max()
    authority, years = rows["_authority_idx"].to_numpy(), rows["decision_date"].dt.year.to_numpy()
    rows["doc_no"] = [
        f"{AUTHORITIES[a][kind]}〔{y}〕{int(top[a]) + 1 + i}号"
        for i, (a, y) in enumerate(zip(authority, years, strict=True))
    ]
    return rows


def _write_csv(path: Path, columns: dict, encoding: str, title: str | None = None, footer: tuple = (),
               crlf: bool = False, quote_text: bool = False) -> None:  # fmt: skip
    """A CSV as exported: optional title line above the header and total/note lines below.

    ``quote_text`` quotes every text cell (as some systems do); otherwise nothing is quoted, like Excel.
    """
    eol = "\r\n" if crlf else "\n"
    width = len(columns)
    head = ([title + "," * (width - 1)] if title else []) + [",".join(columns)]
    tail = [",".join(list(row) + [""] * (width - len(row))) for row in footer]
    table = pa.table({h: v if isinstance(v, pa.Array) else pa.array(v) for h, v in columns.items()})
    options = pcsv.WriteOptions(include_header=False, eol=eol, quoting_style="needed" if quote_text else "none")
    codec = "gbk" if encoding == "gbk" else "utf-8"
    with open(path, "wb") as f:
        f.write(("\ufeff" if encoding == "utf-8-sig" else "").encode() + (eol.join(head) + eol).encode(codec))
        if encoding == "gbk":  # transcoded a slice at a time, so large files need little memory
            for start in range(0, max(table.num_rows, 1), 100_000):
                body = io.BytesIO()
                pcsv.write_csv(table.slice(start, 100_000), body, options)
                f.write(body.getvalue().decode("utf-8").encode("gbk"))
        else:
            pcsv.write_csv(table, f, options)
        f.write("".join(line + eol for line in tail).encode(codec))


def _workbook(path: Path) -> xlsxwriter.Workbook:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    wb.set_properties({"author": "厦门市交通运输局", "created": EXPORT_CREATED})
    return wb


def _write_sheet(wb: xlsxwriter.Workbook, name: str, columns: dict, title: str | None = None) -> None:
    """One worksheet, row by row (xlsxwriter's constant-memory mode); empty cells are left out."""
    ws = wb.add_worksheet(name)
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    width = len(columns)
    row = 0
    if title:
        ws.merge_range(0, 0, 0, width - 1, title, wb.add_format({"bold": True, "font_size": 14}))
        row = 1
    ws.set_column(0, width - 1, 16)
    ws.write_row(row, 0, list(columns), wb.add_format({"bold": True}))
    values, writers = [], []
    for column in columns.values():
        if isinstance(column, pa.Array):
            values.append(column.to_pylist())
            writers.append(ws.write_string)
        elif column.dtype == object and any(isinstance(v, date) for v in column):
            values.append(column.tolist())
            writers.append(lambda r, c, v: ws.write_datetime(r, c, v, date_format))
        else:
            values.append(column.tolist())
            writers.append(ws.write)
    for r, cells in enumerate(zip(*values, strict=True), start=row + 1):
        for c, (write, value) in enumerate(zip(writers, cells, strict=True)):
            if value is not None:
                write(r, c, value)


def _export_entities(path: Path, demo: Demo, rng: np.random.Generator) -> None:
    frame = demo.entities
    frame = _insert_rows(frame, _bad_code_rows(rng, frame, MESSY_ROWS[ENTITY_FILE]["bad_check_char"]), rng)
    order = ("credit_code", "name", "sector", "district", "established", "deregistered", "credit_rating")
    wb = _workbook(path)
    _write_sheet(wb, "市场主体名录", _export_columns(frame, "entities", order, "cell"), ENTITY_TITLE)
    wb.close()


def _export_severe_list(path: Path, demo: Demo, rng: np.random.Generator) -> None:
    frame = demo.severe_list
    frame = _insert_rows(frame, _bad_code_rows(rng, frame, MESSY_ROWS[SEVERE_FILE]["bad_check_char"]), rng)
    order = ("credit_code", "name", "list_name", "listed_on", "removed_on", "department", "reason")
    _write_csv(path, _export_columns(frame, "severe_list", order, "cn"), "gbk", crlf=True)


def _penalty_rows(demo: Demo, year: int, rng: np.random.Generator) -> pd.DataFrame:
    """One year's penalties with the export's planted bad rows inserted at random places."""
    frame = demo.penalties[demo.penalties["decision_date"].dt.year.to_numpy() == year]
    messy = MESSY_ROWS[PENALTY_FILE.format(year=year)]
    undated = messy.get("empty_decision_date", 0)
    extra = pd.concat([
        _bad_code_rows(rng, frame, messy["bad_check_char"]),
        frame.iloc[rng.choice(len(frame), undated, replace=False)],
    ])  # fmt: skip
    extra = _fresh_doc_numbers(extra, demo.penalties, kind=3)
    extra.loc[len(extra) - undated :, "decision_date"] = pd.NaT
    return _insert_rows(frame, extra, rng)


def _export_penalties(path: Path, demo: Demo, year: int, rng: np.random.Generator) -> None:
    frame = _penalty_rows(demo, year, rng)
    if year == 2021:  # saved from Excel by hand: title, total and note rows, slashed dates, CRLF
        total = ["合计", f"共{len(frame)}条"] + [""] * (PENALTY_ORDER.index("fine_wan") - 2)
        total.append(f"{frame['fine_wan'].sum():.2f}")
        columns = _export_columns(frame, "penalties", PENALTY_ORDER, "slash")
        _write_csv(path, columns, "utf-8-sig", PENALTY_TITLE.format(year=year), (total, PENALTY_NOTE), crlf=True)
    else:  # straight from the reporting system: every text cell quoted
        _write_csv(path, _export_columns(frame, "penalties", PENALTY_ORDER, "iso"), "utf-8-sig", quote_text=True)


def _export_licenses(path: Path, demo: Demo, rng: np.random.Generator) -> None:
    wb = _workbook(path)
    for year in (2021, 2022):
        frame = demo.licenses[demo.licenses["decision_date"].dt.year.to_numpy() == year]
        if year == 2022:
            bad = _bad_code_rows(rng, frame, MESSY_ROWS[LICENSE_FILE]["bad_check_char"])
            frame = _insert_rows(frame, _fresh_doc_numbers(bad, demo.licenses, kind=4), rng)
        _write_sheet(wb, f"{year}年", _export_columns(frame, "licenses", LICENSE_ORDER, "cell"))
    wb.close()


def _export_objections(path: Path, demo: Demo) -> None:
    order = ("objection_id", "doc_no", "category", "filed_on", "result", "subjective", "closed_on", "deadline")
    _write_csv(path, _export_columns(demo.objections, "objections", order, "iso"), "utf-8")


def _export_progress(path: Path, demo: Demo) -> None:
    order = ("point_id", "report_date", "progress", "status", "planned_date", "unit", "note")
    wb = _workbook(path)
    _write_sheet(wb, "进展台账", _export_columns(demo.progress, "progress", order, "cell"))
    wb.close()


def write_penalty_export(path: Path, demo: Demo, fmt: str, max_rows: int | None = None) -> int:
    """The 2022 penalties as one export file, for benchmarks: ``fmt`` is "utf-8" or "gbk" (CSV, every text cell
    quoted as the reporting system writes them) or "xlsx" (date cells). The rows are those of the demo's 2022
    export, planted bad rows included; ``max_rows`` keeps the first rows only (a sheet holds 1,048,576 rows at
    most). Returns the number of data rows written."""
    frame = _penalty_rows(demo, 2022, _rng(0, "bench"))
    if max_rows is not None:
        frame = frame.iloc[:max_rows]
    if fmt == "xlsx":
        wb = _workbook(Path(path))
        _write_sheet(wb, "2022年", _export_columns(frame, "penalties", PENALTY_ORDER, "cell"))
        wb.close()
    elif fmt in ("utf-8", "gbk"):
        _write_csv(Path(path), _export_columns(frame, "penalties", PENALTY_ORDER, "iso"), fmt, quote_text=True)
    else:
        raise ValueError(f"unknown export format: {fmt}")
    return len(frame)


EXPORT_FILES = (ENTITY_FILE, SEVERE_FILE, PENALTY_FILE.format(year=2021), PENALTY_FILE.format(year=2022), LICENSE_FILE,
                OBJECTION_FILE, PROGRESS_FILE)  # fmt: skip


def write_exports(out_dir: Path, seed: int = 2022, scale: float = 1, demo: Demo | None = None) -> list[Path]:
    """Write the demo spreadsheets into ``out_dir``; the paths come back in load order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    demo = generate(seed, scale) if demo is None else demo
    rng = _rng(seed, "messy")
    paths = [out_dir / name for name in EXPORT_FILES]
    _export_entities(paths[0], demo, rng)
    _export_severe_list(paths[1], demo, rng)
    _export_penalties(paths[2], demo, 2021, rng)
    _export_penalties(paths[3], demo, 2022, rng)
    _export_licenses(paths[4], demo, rng)
    _export_objections(paths[5], demo)
    _export_progress(paths[6], demo)
    return paths


def build(db_path: str, seed: int = 2022, scale: float = 1, out_dir: Path | None = None) -> list:
    """Write the exports (to ``out_dir`` or a temporary directory) and load them as an analyst would.

    Returns ingestion's results, one per file, in load order.
    """
    from analytics.intake import ingest

    if out_dir is not None:
        return ingest.ingest_paths(db_path, write_exports(Path(out_dir), seed, scale), user="demo")
    with tempfile.TemporaryDirectory(prefix="credit-demo-") as tmp:
        return ingest.ingest_paths(db_path, write_exports(Path(tmp), seed, scale), user="demo")
