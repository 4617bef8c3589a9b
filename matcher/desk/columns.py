"""The roster workbook's sheets and columns, as data: one table drives the template, the
importer and the README's list, so adding a sheet (e.g. venues, once group sessions exist) is
adding one `Sheet` to `SHEETS` and one builder step in `matcher.desk.roster`.

Each column names its headers in English and Chinese, how a cell is read (`kind`), whether it
must be filled, its drop-down choices, an explanation and a worked example value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from matcher.models.common import WEEKDAYS, Language

CellKind = Literal["text", "int", "float", "bool", "list", "time", "day", "choice", "date"]


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its key (the model field it fills), headers and how to read it."""

    key: str
    en: str
    zh: str
    kind: CellKind = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    help_en: str = ""
    help_zh: str = ""
    drop_down: str | None = None
    """A drop-down other than the choices: "service" lists the services sheet's ids."""

    def header(self, language: Language) -> str:
        return self.zh if language == "zh" else self.en

    def help(self, language: Language) -> str:
        return self.help_zh if language == "zh" else self.help_en


@dataclass(frozen=True)
class Sheet:
    """One sheet of the workbook: its key, names in both languages and columns in order."""

    key: str
    en: str
    zh: str
    columns: tuple[Column, ...]
    help_en: str = ""
    help_zh: str = ""
    examples: tuple[tuple[object, ...], ...] = field(default=())
    """Worked example rows, one value per column (None: left empty)."""

    def name(self, language: Language) -> str:
        return self.zh if language == "zh" else self.en

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)


YES_NO = ("yes", "no")
TRAVEL_MODES = ("walk", "bike", "ebike", "car", "transit")
GENDERS = ("female", "male", "other")

CHOICE_LABELS_ZH: dict[str, str] = {
    "yes": "是",
    "no": "否",
    "walk": "步行",
    "bike": "自行车",
    "ebike": "电动车",
    "car": "汽车",
    "transit": "公交",
    "female": "女",
    "male": "男",
    "other": "其他",
    "elder": "老人",
    "child": "儿童",
    "volunteer": "志愿者",
    "staff": "工作人员",
    "recipient": "服务对象",
    "need": "需求",
    "mon": "周一",
    "tue": "周二",
    "wed": "周三",
    "thu": "周四",
    "fri": "周五",
    "sat": "周六",
    "sun": "周日",
}
"""Chinese labels of the drop-down choices; the importer reads either the value or its label."""


def choice_label(value: str, language: Language) -> str:
    """How a choice is shown in the template of this language."""
    return CHOICE_LABELS_ZH.get(value, value) if language == "zh" else value


def _location_columns(prefix: str = "") -> tuple[Column, ...]:
    """Where someone lives (or starts): a building and unit, or coordinates."""
    start = prefix == "start_"
    where_en = "where the day starts (staff: the office); empty: home" if start else "home"
    where_zh = "一天从哪里出发（工作人员：办公室）；空：家里" if start else "住址"
    return (
        Column(
            f"{prefix}building",
            f"{'start ' if start else ''}building",
            f"{'出发' if start else ''}楼栋",
            help_en=f"{where_en}: a building id from the Buildings sheet",
            help_zh=f"{where_zh}：楼栋表中的楼栋编号",
        ),
        *(
            ()
            if start
            else (
                Column(
                    "unit",
                    "unit",
                    "单元门牌",
                    help_en="flat or unit, e.g. 2-301 (printed on the schedules)",
                    help_zh="单元和门牌号，例如 2-301（印在日程表上）",
                ),
            )
        ),
        Column(
            f"{prefix}lat",
            f"{'start ' if start else ''}latitude",
            f"{'出发' if start else ''}纬度",
            "float",
            help_en="or coordinates instead of a building",
            help_zh="没有楼栋时填坐标",
        ),
        Column(
            f"{prefix}lon",
            f"{'start ' if start else ''}longitude",
            f"{'出发' if start else ''}经度",
            "float",
        ),
        Column(
            f"{prefix}x_m",
            f"{'start ' if start else ''}x (m)",
            f"{'出发' if start else ''}x（米）",
            "float",
            help_en="or site-plan metres",
            help_zh="或平面图坐标（米）",
        ),
        Column(
            f"{prefix}y_m",
            f"{'start ' if start else ''}y (m)",
            f"{'出发' if start else ''}y（米）",
            "float",
        ),
    )


SETTINGS = Sheet(
    "settings",
    "Week",
    "本周",
    (
        Column(
            "name",
            "community",
            "社区",
            help_en="name of the community or week",
            help_zh="社区或本周计划的名称",
        ),
        Column(
            "week_start",
            "week starts",
            "周起始日",
            "date",
            True,
            help_en="the Monday of the week planned, e.g. 2026-11-30",
            help_zh="计划周的星期一，例如 2026-11-30",
        ),
        Column(
            "language",
            "language",
            "语言",
            "choice",
            choices=("en", "zh"),
            help_en="language of the plan's sentences: en or zh",
            help_zh="计划说明的语言：en 或 zh",
        ),
    ),
    "One row: the week planned.",
    "一行：计划的这一周。",
    (("Quanrui, week 49", "2026-11-30", "en"),),
)

SERVICES = Sheet(
    "services",
    "Services",
    "服务项目",
    (
        Column(
            "id",
            "service",
            "服务编号",
            required=True,
            help_en="short id, used in the Needs sheet",
            help_zh="简短编号，需求表中使用",
        ),
        Column("name", "name", "名称"),
        Column(
            "duration_min",
            "minutes",
            "时长（分钟）",
            "int",
            True,
            help_en="minutes on site",
            help_zh="现场服务分钟数",
        ),
        Column(
            "team_size",
            "people",
            "人数",
            "int",
            help_en="people needed at once (default 1)",
            help_zh="同时需要几人（默认 1）",
        ),
        Column(
            "required_skills",
            "skills needed",
            "所需技能",
            "list",
            help_en="comma-separated",
            help_zh="用逗号分隔",
        ),
        Column(
            "requires_verified",
            "verified only",
            "仅限核验人员",
            "bool",
            choices=YES_NO,
            help_en="money, documents, medicine",
            help_zh="涉及钱款、证件、药品",
        ),
        Column(
            "recipient_kinds",
            "for",
            "服务对象类型",
            "list",
            help_en="elder, child (default elder)",
            help_zh="老人、儿童（默认老人）",
        ),
    ),
    examples=(("meal", "Lunch delivery", 15, 1, None, "no", "elder"),),
)

RECIPIENTS = Sheet(
    "recipients",
    "Recipients",
    "服务对象",
    (
        Column(
            "id",
            "id",
            "编号",
            required=True,
            help_en="short id of the elder or child",
            help_zh="老人或儿童的简短编号",
        ),
        Column("name", "name", "姓名"),
        Column(
            "kind",
            "elder or child",
            "老人或儿童",
            "choice",
            choices=("elder", "child"),
            help_en="default elder",
            help_zh="默认老人",
        ),
        *_location_columns(),
        Column("age", "age", "年龄", "int"),
        Column("gender", "gender", "性别", "choice", choices=GENDERS),
        Column("lives_alone", "lives alone", "独居", "bool", choices=YES_NO),
        Column(
            "disability_level",
            "disability (0-3)",
            "失能等级（0-3）",
            "int",
            help_en="0 none, 1 limited mobility, 2 severe, 3 bedridden",
            help_zh="0 无，1 行动不便，2 重度，3 卧床",
        ),
        Column("low_income", "low income", "低收入", "bool", choices=YES_NO),
        Column(
            "languages",
            "languages",
            "语言",
            "list",
            help_en="comma-separated, e.g. mandarin, dialect",
            help_zh="用逗号分隔",
        ),
        Column(
            "preferred_volunteers",
            "preferred volunteers",
            "希望的志愿者",
            "list",
            help_en="volunteer ids",
            help_zh="志愿者编号",
        ),
        Column(
            "excluded_volunteers",
            "excluded volunteers",
            "拒绝的志愿者",
            "list",
            help_en="volunteer ids",
            help_zh="志愿者编号",
        ),
        Column(
            "priority",
            "priority",
            "优先级",
            "float",
            help_en="empty: from the policy (age, living alone, disability)",
            help_zh="空：按政策计算（年龄、独居、失能）",
        ),
        Column(
            "time_bank_credits",
            "time-bank credits",
            "时间银行积分",
            "float",
            help_en="credits earned by serving; they raise the priority",
            help_zh="服务他人获得的积分，会提高优先级",
        ),
    ),
    "Home hours go in the Availability sheet (for: recipient).",
    "在家时间填在空闲时间表中（对象：服务对象）。",
    (
        (
            "e001",
            "Wang Fang",
            "elder",
            "B1",
            "2-301",
            None,
            None,
            None,
            None,
            82,
            "female",
            "yes",
            1,
            "no",
            "mandarin",
            None,
            None,
            None,
        ),
    ),
)

NEEDS = Sheet(
    "needs",
    "Needs",
    "需求",
    (
        Column(
            "id",
            "need",
            "需求编号",
            required=True,
            help_en="short id, e.g. e001-meal",
            help_zh="简短编号，例如 e001-meal",
        ),
        Column(
            "recipient",
            "recipient",
            "服务对象",
            required=True,
            help_en="id from the Recipients sheet",
            help_zh="服务对象表中的编号",
        ),
        Column(
            "service",
            "service",
            "服务项目",
            required=True,
            drop_down="service",
            help_en="id from the Services sheet",
            help_zh="服务项目表中的编号",
        ),
        Column(
            "visits_per_week",
            "visits a week",
            "每周次数",
            "int",
            help_en="default 1",
            help_zh="默认 1",
        ),
        Column(
            "duration_min",
            "minutes",
            "时长（分钟）",
            "int",
            help_en="empty: the service's",
            help_zh="空：按服务项目",
        ),
        Column(
            "min_gap_days",
            "days apart",
            "间隔天数",
            "int",
            help_en="default 1 (consecutive days allowed)",
            help_zh="默认 1（可连续两天）",
        ),
        Column("same_volunteer", "same volunteer", "固定志愿者", "bool", choices=YES_NO),
        Column("preferred_gender", "helper's gender", "希望的性别", "choice", choices=GENDERS),
        Column("language", "helper's language", "希望的语言"),
        Column("priority", "priority", "优先级", "float"),
        Column("mandatory", "must be planned", "必须安排", "bool", choices=YES_NO),
        Column("soft_window", "may start late", "可以晚到", "bool", choices=YES_NO),
        Column("max_lateness_min", "most minutes late", "最多晚到（分钟）", "int"),
        Column(
            "load",
            "load",
            "携带量",
            "int",
            help_en="e.g. meal boxes carried",
            help_zh="例如携带的餐盒数",
        ),
    ),
    "Visit windows go in the Availability sheet (for: need); none means whenever the recipient "
    "is at home.",
    "服务时段填在空闲时间表中（对象：需求）；不填表示服务对象在家即可。",
    (("e001-meal", "e001", "meal", 1, None, None, "no", None, None, None, "no", "no", None, None),),
)

VOLUNTEERS = Sheet(
    "volunteers",
    "Volunteers",
    "志愿者和工作人员",
    (
        Column("id", "id", "编号", required=True),
        Column("name", "name", "姓名"),
        Column(
            "kind",
            "volunteer or staff",
            "志愿者或工作人员",
            "choice",
            choices=("volunteer", "staff"),
            help_en="default volunteer",
            help_zh="默认志愿者",
        ),
        Column(
            "travel_mode",
            "travel mode",
            "出行方式",
            "choice",
            choices=TRAVEL_MODES,
            help_en="default walk",
            help_zh="默认步行",
        ),
        *_location_columns(),
        *_location_columns("start_"),
        Column("skills", "skills", "技能", "list", help_en="comma-separated", help_zh="用逗号分隔"),
        Column("verified", "verified", "已核验", "bool", choices=YES_NO),
        Column(
            "background_checked",
            "background check",
            "背景审查",
            "bool",
            choices=YES_NO,
            help_en="needed to visit children",
            help_zh="探访儿童需要",
        ),
        Column("gender", "gender", "性别", "choice", choices=GENDERS),
        Column("languages", "languages", "语言", "list"),
        Column(
            "max_minutes_per_week",
            "minutes a week",
            "每周分钟上限",
            "int",
            help_en="visits and travel together",
            help_zh="服务加路程",
        ),
        Column("max_visits_per_day", "visits a day", "每天次数上限", "int"),
        Column(
            "speed_m_per_min",
            "speed (m/min)",
            "速度（米/分钟）",
            "float",
            help_en="empty: the travel mode's",
            help_zh="空：按出行方式",
        ),
        Column("max_trip_distance_m", "longest trip (m)", "单程上限（米）", "float"),
        Column("capacity", "can carry", "携带上限", "int"),
        Column(
            "max_outing_distance_m",
            "longest outing (m)",
            "单次外出上限（米）",
            "float",
            help_en="the whole walk of one outing, there and back",
            help_zh="一次外出的全程，往返合计",
        ),
        Column(
            "cost_per_hour",
            "cost per hour",
            "每小时成本",
            "float",
            help_en="empty: the policy's for volunteers or staff",
            help_zh="空：按政策中志愿者或工作人员的成本",
        ),
    ),
    "Free hours go in the Availability sheet (for: volunteer).",
    "空闲时间填在空闲时间表中（对象：志愿者）。",
    (
        (
            "v01",
            "Li Na",
            "volunteer",
            "walk",
            "B2",
            "1-102",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "no",
            "no",
            "female",
            "mandarin",
            600,
            6,
            None,
            None,
            None,
        ),
    ),
)

AVAILABILITY = Sheet(
    "availability",
    "Availability",
    "空闲时间",
    (
        Column(
            "for",
            "for",
            "对象",
            "choice",
            True,
            ("volunteer", "recipient", "need"),
            help_en="volunteer: free hours; recipient: at home; need: when the visit may be",
            help_zh="志愿者：空闲时间；服务对象：在家时间；需求：服务时段",
        ),
        Column(
            "id",
            "id",
            "编号",
            required=True,
            help_en="the volunteer's, recipient's or need's id",
            help_zh="志愿者、服务对象或需求的编号",
        ),
        Column("day", "day", "星期", "day", True, WEEKDAYS),
        Column(
            "start",
            "from",
            "开始",
            "time",
            True,
            help_en="e.g. 9:30, 09:30 or 9:30 AM",
            help_zh="例如 9:30、09:30 或 9:30 AM",
        ),
        Column("end", "to", "结束", "time", True),
    ),
    "One row per window.",
    "每个时段一行。",
    (
        ("volunteer", "v01", "mon", "9:00", "12:00"),
        ("need", "e001-meal", "mon", "11:00", "12:30"),
    ),
)

BUILDINGS = Sheet(
    "buildings",
    "Buildings",
    "楼栋",
    (
        Column(
            "id",
            "building",
            "楼栋编号",
            required=True,
            help_en="short id, used in the Recipients and Volunteers sheets",
            help_zh="简短编号，服务对象表和志愿者表中使用",
        ),
        Column("name", "name", "名称"),
        Column("lat", "latitude", "纬度", "float"),
        Column("lon", "longitude", "经度", "float"),
        Column("x_m", "x (m)", "x（米）", "float"),
        Column("y_m", "y (m)", "y（米）", "float"),
    ),
    "The point of each building: latitude/longitude, or site-plan metres.",
    "每栋楼的位置：经纬度，或平面图坐标（米）。",
    (
        ("B1", "Building 1", 38.9905, 121.5512, None, None),
        ("B2", "Building 2", 38.9912, 121.5530, None, None),
    ),
)

PINNED = Sheet(
    "pinned",
    "Pinned",
    "固定安排",
    (
        Column(
            "need",
            "need",
            "需求编号",
            required=True,
            help_en="a visit the plan must keep exactly: the need's id",
            help_zh="计划必须原样保留的服务：需求编号",
        ),
        Column("day", "day", "星期", "day", True, WEEKDAYS),
        Column("start", "from", "开始", "time", True, help_en="e.g. 9:30", help_zh="例如 9:30"),
        Column(
            "volunteers",
            "volunteers",
            "志愿者",
            "list",
            True,
            help_en="volunteer ids, comma-separated (a team: all of them)",
            help_zh="志愿者编号，用逗号分隔（多人服务：全部填写）",
        ),
    ),
    "Optional: visits fixed by the coordinator.",
    "可选：协调员固定的服务。",
)

HISTORY = Sheet(
    "history",
    "History",
    "服务记录",
    (
        Column(
            "recipient",
            "recipient",
            "服务对象",
            required=True,
            help_en="who was visited in an earlier week (the plan keeps pairings when it can)",
            help_zh="之前几周被探访的服务对象（计划会尽量保持结对）",
        ),
        Column("volunteer", "volunteer", "志愿者", required=True),
        Column("need", "need", "需求编号"),
        Column("week_start", "week starts", "周起始日", "date"),
        Column("visits", "visits", "次数", "int", help_en="default 1", help_zh="默认 1"),
    ),
    "Optional: who visited whom before.",
    "可选：以前谁探访了谁。",
)

SHEETS: tuple[Sheet, ...] = (
    SETTINGS,
    SERVICES,
    RECIPIENTS,
    NEEDS,
    VOLUNTEERS,
    AVAILABILITY,
    BUILDINGS,
    PINNED,
    HISTORY,
)
"""Every sheet, in the workbook's order."""
