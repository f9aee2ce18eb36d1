"""Data tables of the demo city: problem categories, point kinds, campaigns, descriptions.

The codes, deadlines, usual point kinds and campaign categories mirror data/taxonomy.toml
(tests/scripts/test_make_demo_city.py checks that they agree); the generator itself stays
standalone. Units: deadlines in days (natural or working), point sizes in metres
(EPSG:32651), shares and weights are relative (they need not sum to anything).
"""

from __future__ import annotations

from dataclasses import dataclass

# category: (share among problems not linked to a point, deadline, "natural"|"working" days)
CATEGORIES: dict[str, tuple[float, int, str]] = {
    "illegal_ads": (16, 1, "natural"),
    "disorderly_parking": (15, 7, "natural"),
    "non_motor_parking": (12, 7, "natural"),
    "litter": (16, 1, "natural"),
    "street_vending": (8, 3, "natural"),
    "corridor_clutter": (3, 7, "natural"),
    "unsafe_charging": (2, 3, "natural"),
    "fire_access_blocked": (2, 1, "natural"),
    "overhead_cables": (4, 30, "working"),
    "pet_nuisance": (3, 7, "natural"),
    "public_smoking": (1.5, 3, "working"),
    "missing_psa": (4, 15, "working"),
    "greenbelt_damage": (5, 15, "working"),
    "broken_facility": (5, 15, "working"),
    "construction_dust": (1, 3, "natural"),
    "traffic_violation": (4, 7, "natural"),
    "food_hygiene": (0.5, 5, "working"),
}
# Days off for "working" deadlines: weekends and the National Day week (approximate: the
# official adjusted working weekends are not modelled).
HOLIDAYS = frozenset(f"2026-10-0{d}" for d in range(1, 8))
# share of hard cases per category: their rectification drags on for weeks (mean 45 days
# extra); a tenth of those are still stuck at the snapshot however old they are
SLOW: dict[str, float] = {"overhead_cables": 0.45, "greenbelt_damage": 0.25, "missing_psa": 0.2,
                          "broken_facility": 0.22, "unsafe_charging": 0.15}  # fmt: skip
SLOW_DEFAULT = 0.16

# point kind -> category weights for problems found at a point of that kind (only the
# categories whose usual point kinds include the kind)
KIND_CATEGORIES: dict[str, dict[str, float]] = {
    "market": {"litter": 18, "street_vending": 18, "disorderly_parking": 14,
               "non_motor_parking": 12, "illegal_ads": 10, "food_hygiene": 8,
               "missing_psa": 4, "fire_access_blocked": 3},
    "back_alley": {"illegal_ads": 18, "litter": 18, "overhead_cables": 12,
                   "disorderly_parking": 10, "street_vending": 8, "broken_facility": 6,
                   "greenbelt_damage": 3},
    "school_surroundings": {"disorderly_parking": 16, "street_vending": 14,
                            "non_motor_parking": 12, "illegal_ads": 12,
                            "traffic_violation": 10, "missing_psa": 5, "food_hygiene": 3},
    "old_residential": {"corridor_clutter": 16, "litter": 14, "unsafe_charging": 12,
                        "overhead_cables": 12, "illegal_ads": 12, "non_motor_parking": 10,
                        "fire_access_blocked": 8, "pet_nuisance": 6, "greenbelt_damage": 6,
                        "disorderly_parking": 6, "broken_facility": 5},
    "residential": {"corridor_clutter": 12, "disorderly_parking": 12, "non_motor_parking": 10,
                    "litter": 10, "illegal_ads": 10, "unsafe_charging": 9,
                    "fire_access_blocked": 9, "pet_nuisance": 9, "greenbelt_damage": 7,
                    "broken_facility": 4, "missing_psa": 3},
    "commercial_street": {"street_vending": 18, "non_motor_parking": 16, "illegal_ads": 14,
                          "disorderly_parking": 12, "litter": 12, "missing_psa": 5,
                          "overhead_cables": 3, "fire_access_blocked": 2,
                          "greenbelt_damage": 2},
    "main_road": {"disorderly_parking": 18, "non_motor_parking": 14, "illegal_ads": 12,
                  "litter": 12, "greenbelt_damage": 10, "broken_facility": 8,
                  "street_vending": 8, "traffic_violation": 8, "missing_psa": 4},
    "intersection": {"traffic_violation": 30, "non_motor_parking": 14,
                     "disorderly_parking": 12, "broken_facility": 6},
    "construction_site": {"construction_dust": 40, "litter": 15, "missing_psa": 6},
    "hotel": {"public_smoking": 16, "disorderly_parking": 14, "fire_access_blocked": 8},
    "internet_cafe": {"public_smoking": 30, "fire_access_blocked": 10},
    "small_restaurant": {"street_vending": 18, "food_hygiene": 16, "public_smoking": 6},
    "public_place": {"litter": 18, "pet_nuisance": 12, "greenbelt_damage": 12,
                     "broken_facility": 12, "public_smoking": 8, "missing_psa": 8,
                     "illegal_ads": 8, "non_motor_parking": 8},
    "service_window": {"missing_psa": 14, "public_smoking": 12, "broken_facility": 12,
                       "non_motor_parking": 12, "disorderly_parking": 10},
    "practice_station": {"missing_psa": 30, "broken_facility": 20, "public_smoking": 4},
    "village": {"litter": 26, "illegal_ads": 10, "overhead_cables": 10, "greenbelt_damage": 10,
                "unsafe_charging": 6, "missing_psa": 6},
}  # fmt: skip


@dataclass(frozen=True)
class KindSpec:
    """How to draw one inspection-point kind: count, geometry, placement, size in metres."""

    count: int
    geom: str  # "point" | "line" | "polygon"
    where: str  # "urban" | "any" | "rural" | "community"
    size: tuple[float, float]  # line length or polygon extent, metres
    suffixes: tuple[str, ...]
    attract: float  # relative pull on problems found nearby


KINDS: dict[str, KindSpec] = {
    "market": KindSpec(30, "polygon", "urban", (50, 80), ("农贸市场", "菜市场", "集贸市场"), 3.0),
    "back_alley": KindSpec(80, "line", "urban", (100, 400), ("巷", "弄", "里"), 2.0),
    "school_surroundings": KindSpec(
        45, "point", "any", (0, 0), ("实验小学", "小学", "中学", "实验学校", "幼儿园"), 1.5
    ),
    "old_residential": KindSpec(60, "polygon", "urban", (120, 260), ("新村", "一村", "二村"), 2.5),
    "residential": KindSpec(
        95, "polygon", "any", (150, 400), ("花园", "家园", "苑", "名邸", "雅居"), 1.5
    ),
    "commercial_street": KindSpec(
        20, "line", "urban", (300, 800), ("商业街", "步行街", "美食街"), 2.0
    ),
    "main_road": KindSpec(45, "line", "any", (500, 2000), ("路", "大道"), 2.0),
    "intersection": KindSpec(55, "point", "urban", (0, 0), ("交叉口",), 1.5),
    "construction_site": KindSpec(
        30, "polygon", "any", (90, 250), ("安置房项目工地", "商住项目工地", "学校扩建工地"), 1.5
    ),
    "hotel": KindSpec(40, "point", "urban", (0, 0), ("大酒店", "宾馆", "商务酒店"), 0.6),
    "internet_cafe": KindSpec(25, "point", "urban", (0, 0), ("网咖", "网吧"), 0.6),
    "small_restaurant": KindSpec(
        90, "point", "urban", (0, 0), ("面馆", "小吃店", "饭店", "馄饨店", "快餐店"), 1.5
    ),
    "public_place": KindSpec(
        40, "polygon", "any", (80, 350), ("公园", "广场", "汽车站", "体育公园"), 1.5
    ),
    "service_window": KindSpec(
        35, "point", "urban", (0, 0),
        ("公交首末站", "人民医院", "社区卫生服务中心", "地铁站", "政务服务中心"), 1.0,
    ),
    "practice_station": KindSpec(0, "point", "community", (0, 0), ("新时代文明实践站",), 0.6),
    "village": KindSpec(40, "polygon", "rural", (200, 500), ("家庄", "家宅", "家埭", "家湾"), 1.5),
}  # fmt: skip

_RESIDENTIAL = frozenset({"residential", "old_residential"})
CAMPAIGN_RULES: tuple[tuple[str, frozenset[str] | None, frozenset[str]], ...] = (
    # (campaign, point kinds or None for any, categories) -- first match wins
    ("practice_station_upgrade", frozenset({"practice_station"}),
     frozenset({"missing_psa", "broken_facility", "public_smoking"})),
    ("school_surroundings", frozenset({"school_surroundings"}),
     frozenset({"street_vending", "traffic_violation", "food_hygiene", "disorderly_parking",
                "non_motor_parking", "illegal_ads", "litter"})),
    ("market_environment", frozenset({"market"}),
     frozenset({"litter", "street_vending", "disorderly_parking", "non_motor_parking",
                "food_hygiene", "illegal_ads"})),
    ("village_environment", frozenset({"village"}),
     frozenset({"litter", "illegal_ads", "overhead_cables", "greenbelt_damage",
                "unsafe_charging", "missing_psa"})),
    ("residential_governance", _RESIDENTIAL,
     frozenset({"litter", "illegal_ads", "greenbelt_damage", "corridor_clutter",
                "unsafe_charging", "fire_access_blocked", "disorderly_parking",
                "non_motor_parking", "pet_nuisance"})),
    ("main_road_management", frozenset({"main_road", "intersection", "commercial_street"}),
     frozenset({"disorderly_parking", "non_motor_parking", "street_vending", "illegal_ads",
                "litter", "greenbelt_damage", "broken_facility", "traffic_violation"})),
    ("psa_upgrade", None, frozenset({"missing_psa"})),
    ("residential_governance", None,
     frozenset({"corridor_clutter", "unsafe_charging", "fire_access_blocked"})),
    ("non_motor_governance", None, frozenset({"non_motor_parking"})),
    ("overhead_cable_governance", None, frozenset({"overhead_cables"})),
    ("pet_civility", None, frozenset({"pet_nuisance"})),
    ("public_smoking_ban", None, frozenset({"public_smoking"})),
)  # fmt: skip
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "illegal_ads": ("{p}墙面张贴小广告", "{p}电线杆上乱贴办证广告", "{p}有乱涂写、喷涂广告",
                    "{p}宣传栏外乱张贴"),
    "disorderly_parking": ("{p}机动车乱停放，占用人行道", "{p}车辆违停堵塞通道",
                           "{p}机动车未按泊位停放"),
    "non_motor_parking": ("{p}非机动车停放无序", "{p}共享单车乱停乱放", "{p}电动车占用盲道停放"),
    "litter": ("{p}暴露垃圾未及时清运", "{p}垃圾桶满溢，周边脏乱", "{p}有白色垃圾",
               "{p}积存建筑垃圾"),
    "street_vending": ("{p}流动摊贩占道经营", "{p}店外经营占用人行道", "{p}早餐摊点占道经营"),
    "corridor_clutter": ("{p}楼道堆放杂物", "{p}楼道堆放纸箱、旧家具", "{p}单元门口堆物"),
    "unsafe_charging": ("{p}私拉电线飞线充电", "{p}电动车停放楼道充电", "{p}电动自行车入户充电"),
    "fire_access_blocked": ("{p}消防通道被车辆占用", "{p}消防通道堆放杂物"),
    "overhead_cables": ("{p}空中线缆杂乱下垂", "{p}废弃线缆未清理", "{p}线缆私拉乱接"),
    "pet_nuisance": ("{p}遛狗未牵绳", "{p}宠物粪便未清理"),
    "public_smoking": ("{p}有人吸烟无人劝阻", "{p}禁烟标识缺失"),
    "missing_psa": ("{p}公益广告缺失", "{p}公益广告破损褪色", "{p}未按要求设置公益宣传"),
    "greenbelt_damage": ("{p}绿化带被踩踏损毁", "{p}绿地被占用种菜", "{p}行道树缺株未补植"),
    "broken_facility": ("{p}路灯不亮", "{p}护栏破损", "{p}窨井盖缺失", "{p}宣传栏玻璃破损"),
    "construction_dust": ("{p}裸土未覆盖", "{p}出入口车辆带泥上路", "{p}围挡破损，扬尘明显"),
    "traffic_violation": ("{p}行人闯红灯", "{p}电动车逆向行驶", "{p}机动车不礼让行人"),
    "food_hygiene": ("{p}食品未离地存放", "{p}从业人员未戴口罩", "{p}餐具消毒不到位"),
}  # fmt: skip
HOUSING_CATEGORIES = frozenset({"corridor_clutter", "unsafe_charging", "fire_access_blocked"})
PLACE_WORDS = {
    "polygon": ("东门口", "西门", "南侧", "北侧", "内", "出入口"),
    "line": ("沿线", "东段", "西段", "中段", "路口"),
    "road": ("人行道上", "沿线", "路口", "公交站旁", "沿街店铺前", "绿化带旁"),
    "intersection": ("东北角", "西南角", "东南角", "西北角", "人行横道处"),
    "school_surroundings": ("校门口", "东侧", "周边", "门前"),
    "hotel": ("门前", "大堂", "停车场", "周边"),
    "internet_cafe": ("门前", "店内", "周边"),
    "small_restaurant": ("门前", "店内", "后厨", "周边"),
    "service_window": ("门前", "候车区", "出入口", "周边"),
    "practice_station": ("门前", "室内", "周边"),
}
