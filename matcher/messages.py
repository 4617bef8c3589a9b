"""The one message catalogue: reason codes and explanation sentences, in English and Chinese.

Each entry is a code with one `str.format` template per language. Reason codes (why a visit is
not planned) are the plain codes of `matcher.models.ReasonCode`; everything else is namespaced:
`candidate.*` (why one volunteer cannot make a visit), `rule.*` (short names of those rules),
`explain.*`, `whatif.*`, `qualification.*`, `score.*`, `term.*` (the objective's terms) and
`day.*`.

>>> message("too_far", "en").startswith("The qualified volunteers")
True
>>> message("candidate.lacks_skill", "zh", skills="理发")
'缺少技能：理发'
"""

from __future__ import annotations

from collections.abc import Iterable
from string import Formatter
from typing import get_args

from matcher.models.common import Language
from matcher.models.plan import ReasonCode

LANGUAGES: tuple[Language, ...] = get_args(Language)
"""The catalogue's languages (`matcher.models.Language`): English and Simplified Chinese."""

REASON_CODES: tuple[ReasonCode, ...] = get_args(ReasonCode)
"""The reason codes, in the order they are diagnosed: those of `matcher.models.ReasonCode`, the
one source (the catalogue below has a sentence for each)."""

CATALOGUE: dict[str, dict[Language, str]] = {
    # Why a visit is not planned (the plan's reason codes).
    "no_qualified_volunteer": {
        "en": "No volunteer has the skills and checks this visit needs "
        "(or the recipient has excluded everyone who has).",
        "zh": "没有志愿者具备这次服务所需的技能和资质（或者具备的人都被服务对象拒绝了）。",
    },
    "no_shared_window": {
        "en": "No qualified volunteer is available at a time when this visit can take place.",
        "zh": "在这次服务可以进行的时间里，没有合格的志愿者有空。",
    },
    "too_far": {
        "en": "The qualified volunteers who are free then live too far away or cannot get "
        "there in time.",
        "zh": "有空的合格志愿者住得太远，或者来不及赶到。",
    },
    "volunteers_full": {
        "en": "Every qualified volunteer who could come is already fully booked this week.",
        "zh": "本周能来的合格志愿者都已经排满了。",
    },
    "not_planned": {
        "en": "The solver did not plan this visit.",
        "zh": "求解器没有安排这次服务。",
    },
    # Why one volunteer cannot make the visit (one sentence per rule, in rule order).
    "candidate.lacks_skill": {
        "en": "lacks the skill(s): {skills}",
        "zh": "缺少技能：{skills}",
    },
    "candidate.not_verified": {
        "en": "is not verified (money, documents and medicine need a verified helper)",
        "zh": "未经核验（涉及钱款、证件或药品的服务需要经核验的志愿者）",
    },
    "candidate.no_background_check": {
        "en": "has no background check (needed to visit a child)",
        "zh": "未做背景审查（探访儿童需要）",
    },
    "candidate.excluded": {
        "en": "is excluded by the recipient {recipient}",
        "zh": "被服务对象 {recipient} 拒绝",
    },
    "candidate.load_too_heavy": {
        "en": "can carry {capacity} a day, and this visit alone takes {load}",
        "zh": "每天最多能携带 {capacity}，而这次服务就需要 {load}",
    },
    "candidate.not_available": {
        "en": "is not available while the visit can take place on {days}",
        "zh": "在{days}可以服务的时段里没有空",
    },
    "candidate.no_open_day": {
        "en": "has no day left: the other visits of this need leave no day far enough apart",
        "zh": "没有可用的日子：这项需求的其他服务已排定，剩下的日子间隔都不够",
    },
    "candidate.window_too_short": {
        "en": "is free on {days}, but never for the {duration} minutes the visit takes "
        "inside its window",
        "zh": "在{days}有空，但在服务时段内凑不出所需的 {duration} 分钟",
    },
    "candidate.too_far_distance": {
        "en": "one trip would be {distance_km} km, more than their limit of {limit_km} km",
        "zh": "单程 {distance_km} 公里，超过其上限 {limit_km} 公里",
    },
    "candidate.too_far_time": {
        "en": "needs {minutes_there} min there and {minutes_back} min back, which their free "
        "time on {days} cannot hold",
        "zh": "去程 {minutes_there} 分钟、回程 {minutes_back} 分钟，{days}的空闲时间容纳不下",
    },
    "candidate.no_way": {
        "en": "has no way to get there",
        "zh": "没有路可以到达",
    },
    "candidate.weekly_minutes": {
        "en": "has {left} of their {cap} minutes a week left, and the visit needs at least "
        "{needed} with travel",
        "zh": "每周 {cap} 分钟的上限只剩 {left} 分钟，而这次服务连同路程至少需要 {needed} 分钟",
    },
    "candidate.visits_per_day": {
        "en": "already makes {visits} visit(s) on {days}, their most a day",
        "zh": "{days}已有 {visits} 次服务，达到每天上限",
    },
    "candidate.capacity_used": {
        "en": "already carries {carried} of their {capacity} on {days}",
        "zh": "{days}已携带 {carried}，上限为 {capacity}",
    },
    "candidate.time_taken": {
        "en": "has their free time on {days} taken by: {visits}",
        "zh": "{days}的空闲时间已被这些服务占用：{visits}",
    },
    "candidate.would_fit": {
        "en": "could still make it on {day} at {time}; the solver gave them other visits "
        "instead: {visits}",
        "zh": "仍可在{day} {time} 前往；求解器给他们安排了其他服务：{visits}",
    },
    "candidate.would_fit_idle": {
        "en": "could still make it on {day} at {time}; the solver left it out ({reason})",
        "zh": "仍可在{day} {time} 前往；求解器没有安排（{reason}）",
    },
    # Short names of the rules, for counts.
    "rule.lacks_skill": {"en": "lack a skill", "zh": "缺少技能"},
    "rule.not_verified": {"en": "not verified", "zh": "未经核验"},
    "rule.no_background_check": {"en": "no background check", "zh": "未做背景审查"},
    "rule.excluded": {"en": "excluded by the recipient", "zh": "被服务对象拒绝"},
    "rule.load_too_heavy": {"en": "cannot carry the load", "zh": "携带量不够"},
    "rule.not_available": {"en": "not available then", "zh": "那时没空"},
    "rule.window_too_short": {"en": "free time too short", "zh": "空闲时间太短"},
    "rule.too_far": {"en": "too far", "zh": "太远"},
    "rule.weekly_minutes": {"en": "weekly minutes used up", "zh": "每周时长已用完"},
    "rule.visits_per_day": {"en": "visits a day used up", "zh": "每天次数已满"},
    "rule.capacity_used": {"en": "carrying capacity used up", "zh": "携带量已满"},
    "rule.time_taken": {"en": "busy with other visits", "zh": "时间被其他服务占用"},
    "rule.would_fit": {"en": "would fit", "zh": "可以安排"},
    # The explanation of one unplanned visit.
    "explain.counts": {
        "en": "{considered} volunteer(s) considered: {counts}.",
        "zh": "共考虑 {considered} 名志愿者：{counts}。",
    },
    "explain.count": {"en": "{count} {rule}", "zh": "{rule} {count} 人"},
    "explain.closest": {
        "en": "Closest: {volunteer} {detail}.",
        "zh": "最接近的是 {volunteer}：{detail}。",
    },
    "explain.no_volunteers": {
        "en": "There are no volunteers.",
        "zh": "没有任何志愿者。",
    },
    "explain.team": {
        "en": "The visit needs a team of {team_size}.",
        "zh": "这次服务需要 {team_size} 人同时到场。",
    },
    "explain.visit": {
        "en": "{need} #{occurrence} ({day} {start}-{end})",
        "zh": "{need} 第 {occurrence} 次（{day} {start}-{end}）",
    },
    "explain.none": {"en": "none", "zh": "无"},
    # What-if: single changes that would plan more visits.
    "whatif.add_volunteer": {
        "en": "Add one volunteer ({qualifications}) free on {day} {start}-{end}, starting "
        "from {place}",
        "zh": "增加一名志愿者（{qualifications}），{day} {start}-{end} 有空，从{place}出发",
    },
    "whatif.widen_earlier": {
        "en": "Let the visits of {need} start up to {minutes} minutes earlier",
        "zh": "让 {need} 的服务时段提前 {minutes} 分钟开始",
    },
    "whatif.widen_later": {
        "en": "Let the visits of {need} end up to {minutes} minutes later",
        "zh": "让 {need} 的服务时段推迟 {minutes} 分钟结束",
    },
    "whatif.raise_weekly_cap": {
        "en": "Raise {volunteer}'s weekly limit from {old} to {new} minutes",
        "zh": "把 {volunteer} 每周的服务上限从 {old} 分钟提高到 {new} 分钟",
    },
    "whatif.switch_to_bike": {
        "en": "Give {volunteer} a bike instead of walking",
        "zh": "让 {volunteer} 骑自行车代替步行",
    },
    "whatif.result": {
        "en": "{description}: {visits} more visit(s), priority-weighted +{weighted}: {planned}",
        "zh": "{description}：可多安排 {visits} 次服务，按优先级加权 +{weighted}：{planned}",
    },
    "whatif.drops": {
        "en": "; it would drop {visits} visit(s) planned now: {dropped}",
        "zh": "；但会取消现已安排的 {visits} 次服务：{dropped}",
    },
    "whatif.no_drops": {
        "en": "; it drops no visit planned now",
        "zh": "；不会取消现已安排的服务",
    },
    "whatif.building": {"en": "building {building}", "zh": "{building} 号楼"},
    "whatif.home_of": {"en": "the home of {recipient}", "zh": "{recipient} 家"},
    "qualification.none": {"en": "no special skill", "zh": "无需特殊技能"},
    "qualification.verified": {"en": "verified", "zh": "经核验"},
    "qualification.background_checked": {"en": "background-checked", "zh": "有背景审查"},
    # Plan mode: a coordinator's plan beside the optimizer's.
    "score.title": {
        "en": "Your plan beside the {solver} optimizer's plan",
        "zh": "您的方案与 {solver} 优化方案对比",
    },
    "score.yours": {"en": "your plan", "zh": "您的方案"},
    "score.optimizer": {"en": "optimizer", "zh": "优化方案"},
    "score.rules_broken": {"en": "rules broken", "zh": "违反规则"},
    "score.visits_planned": {"en": "visits planned", "zh": "已安排服务"},
    "score.weighted_coverage": {"en": "weighted coverage %", "zh": "加权覆盖率 %"},
    "score.travel_km": {"en": "travel km", "zh": "路程（公里）"},
    "score.continuity": {"en": "continuity %", "zh": "延续性 %"},
    "score.load_gini": {"en": "load Gini", "zh": "负担基尼系数"},
    "score.objective": {"en": "objective: {term}", "zh": "目标值：{term}"},
    "term.coverage": {"en": "coverage", "zh": "覆盖"},
    "term.continuity": {"en": "continuity", "zh": "延续性"},
    "term.travel": {"en": "travel", "zh": "路程"},
    "term.cost": {"en": "cost", "zh": "费用"},
    "term.lateness": {"en": "lateness", "zh": "迟到"},
    "term.fairness": {"en": "fairness", "zh": "公平"},
    "term.total": {"en": "total", "zh": "合计"},
    "score.violation": {"en": "broken: {rule}: {message}", "zh": "违反 {rule}：{message}"},
    "score.more_visits": {
        "en": "The optimizer plans {visits} more visit(s) (priority-weighted {weighted:+.1f}).",
        "zh": "优化方案多安排 {visits} 次服务（按优先级加权 {weighted:+.1f}）。",
    },
    "score.fewer_visits": {
        "en": "Your plan has {visits} more visit(s) than the optimizer's "
        "(priority-weighted {weighted:+.1f}).",
        "zh": "您的方案比优化方案多 {visits} 次服务（按优先级加权 {weighted:+.1f}）。",
    },
    "score.same_visits": {
        "en": "Both plans make as many visits (priority-weighted difference {weighted:+.1f}).",
        "zh": "两个方案的服务次数相同（按优先级加权差 {weighted:+.1f}）。",
    },
    "score.ok": {"en": "Your plan keeps every rule.", "zh": "您的方案遵守全部规则。"},
    # Weekdays.
    "day.mon": {"en": "Monday", "zh": "周一"},
    "day.tue": {"en": "Tuesday", "zh": "周二"},
    "day.wed": {"en": "Wednesday", "zh": "周三"},
    "day.thu": {"en": "Thursday", "zh": "周四"},
    "day.fri": {"en": "Friday", "zh": "周五"},
    "day.sat": {"en": "Saturday", "zh": "周六"},
    "day.sun": {"en": "Sunday", "zh": "周日"},
}

SEAT_CATALOGUE: dict[str, dict[Language, str]] = {
    # Why a seat an attendance wish asks for is not planned (`matcher.models.SeatReason`).
    "seat.cannot_walk": {
        "en": "They do not walk to group sessions (bedridden, or severely disabled without an "
        "escort); a home visit is the way to reach them.",
        "zh": "服务对象无法步行参加集体活动（卧床，或行动严重不便且没有陪同），需要上门服务。",
    },
    "seat.too_far_to_walk": {
        "en": "Every venue of this activity is farther than they can walk (or has steps they "
        "cannot take).",
        "zh": "这项活动的所有场地都超出了服务对象的步行距离（或有台阶无法通行）。",
    },
    "seat.no_venue_open": {
        "en": "No venue of this activity is open while it may be held.",
        "zh": "在这项活动可以举办的时间里，没有开放的场地。",
    },
    "seat.no_shared_window": {
        "en": "No time a venue they can reach is open suits them.",
        "zh": "服务对象能到达的场地开放时，服务对象都没有空。",
    },
    "seat.busy_with_visits": {
        "en": "The times they could attend are taken by their own home visits or other sessions.",
        "zh": "服务对象能参加的时间已经安排了上门服务或其他活动。",
    },
    "seat.no_lead_free": {
        "en": "No volunteer who can lead this activity (or help at it) is free then.",
        "zh": "那时没有能带领（或协助）这项活动的志愿者有空。",
    },
    "seat.no_escort": {
        "en": "No volunteer is free to walk them there and back.",
        "zh": "没有志愿者有空陪同服务对象往返。",
    },
    "seat.below_minimum": {
        "en": "Too few people could attend a session they can reach for it to be held.",
        "zh": "能参加的人数不足，活动达不到最低人数，无法举办。",
    },
    "seat.session_full": {
        "en": "The sessions they could attend are full.",
        "zh": "服务对象能参加的场次已经满员。",
    },
    "seat.held_elsewhere": {
        "en": "This week's sessions of this activity are held where or when they cannot come.",
        "zh": "本周这项活动的场次安排在服务对象去不了的地点或时间。",
    },
    "seat.not_planned": {
        "en": "The solver did not plan this seat.",
        "zh": "求解器没有安排这个座位。",
    },
    # One more session that would seat unseated wishes (`matcher.explain.seat_whatif`).
    "seat.suggestion": {
        "en": "Another {service} at {venue} on {day} at {start} would seat {seats} more; "
        "{lead} could lead it.",
        "zh": "在{venue}于{day} {start}再办一场{service}，可多安排{seats}人；{lead}可以带领。",
    },
    "seat.no_suggestion": {
        "en": "No other session fits: at no slot enough unseated wishers can reach does a "
        "qualified lead have room.",
        "zh": "没有可以加办的场次：在足够多未安排的人能参加的时段，没有合格的带领人有空。",
    },
    # The facts behind a seat's reason (`matcher.explain.seats`).
    "seat.detail.nearest": {
        "en": "the nearest venue, {venue}, is {distance_m} m away; they walk at most {limit_m} m",
        "zh": "最近的场地{venue}相距{distance_m}米，服务对象最多步行{limit_m}米",
    },
    "seat.detail.no_walk": {
        "en": "disability level {level}: they do not walk to sessions",
        "zh": "残疾等级{level}：无法步行参加活动",
    },
    "seat.detail.full": {
        "en": "session {session} ({day} {start}) at {venue} has {seats} of {capacity} seats taken",
        "zh": "{venue}的场次{session}（{day} {start}）已坐{seats}人，共{capacity}个座位",
    },
    "seat.detail.leads": {
        "en": "{count} volunteer(s) can lead {service}",
        "zh": "有{count}位志愿者能带领{service}",
    },
    "seat.detail.lead_rule": {
        "en": "{volunteer} cannot lead it: {rules}",
        "zh": "{volunteer}不能带领：{rules}",
    },
    "seat.detail.held": {
        "en": "{service} is held {held} time(s) a week, as wanted: {where}",
        "zh": "{service}每周举办{held}次，已达到计划次数：{where}",
    },
}
"""The sentence of each reason a seat is not planned, as `seat.<reason>`."""
CATALOGUE.update(SEAT_CATALOGUE)


def seat_message(reason: str, language: str = "en") -> str:
    """The sentence of a seat reason (`matcher.models.SeatReason`) in `language`."""
    return message(f"seat.{reason}", language)


LIST_SEPARATOR: dict[Language, str] = {"en": ", ", "zh": "、"}


def message(code: str, language: str = "en", **details: object) -> str:
    """The catalogue's sentence for `code` in `language`, with the details filled in.

    Raises KeyError for an unknown code or a detail the sentence needs but was not given, and
    ValueError for a language the catalogue does not have.
    """
    checked = checked_language(language)
    if code not in CATALOGUE:
        raise KeyError(f"no message {code!r} in the catalogue")
    template = CATALOGUE[code][checked]
    missing = sorted(set(placeholders(code)) - set(details))
    if missing:
        raise KeyError(f"message {code!r} needs the detail(s): {', '.join(missing)}")
    return template.format(**details)


def checked_language(language: str) -> Language:
    """The language as a catalogue language; ValueError when the catalogue does not have it."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose one of: {', '.join(LANGUAGES)}")
    return language


def placeholders(code: str) -> list[str]:
    """The names of the details a message needs (the same in every language)."""
    names: list[str] = []
    for language in LANGUAGES:
        for _, name, _, _ in Formatter().parse(CATALOGUE[code][language]):
            if name and name not in names:
                names.append(name)
    return names


def reason_messages(language: str = "en") -> dict[str, str]:
    """Every reason code's sentence in one language."""
    return {code: message(code, language) for code in REASON_CODES}


REASON_MESSAGES: dict[str, str] = reason_messages("en")
"""The English sentence of every reason code."""


def join(items: Iterable[str], language: str = "en") -> str:
    """Items joined the way the language lists them ('a, b' or 'a、b')."""
    return LIST_SEPARATOR[checked_language(language)].join(items)


def day_name(day: str, language: str = "en") -> str:
    """A weekday ('mon') written out ('Monday', '周一')."""
    return message(f"day.{day}", language)


__all__ = [
    "CATALOGUE",
    "LANGUAGES",
    "REASON_CODES",
    "REASON_MESSAGES",
    "SEAT_CATALOGUE",
    "Language",
    "checked_language",
    "day_name",
    "join",
    "message",
    "placeholders",
    "reason_messages",
    "seat_message",
]
