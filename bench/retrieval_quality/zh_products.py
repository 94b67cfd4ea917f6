"""Chinese product manuals (产品说明书): battery-powered devices in families of look-alike models."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from bench.retrieval_quality.common import Draft, Q, pair, sentences, unique

DOMAIN = "products"

# 类型, 续航场景, 部件（说明书用语, 口语说法）
TYPES: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("扫地机器人", "标准模式清扫", [("边刷", "转角的小刷子"), ("尘盒", "装垃圾的盒子"),
        ("滤网", "过滤层"), ("主刷", "中间的滚刷")]),
    ("无线吸尘器", "标准档吸尘", [("集尘杯", "装灰的桶"), ("海帕滤芯", "过滤棉"),
        ("电动地刷", "吸头"), ("缝隙吸嘴", "扁嘴配件")]),
    ("电动牙刷", "每天刷牙两次", [("刷头", "牙刷头"), ("充电座", "底座"),
        ("压力传感器", "用力过猛提醒"), ("传动轴", "金属杆")]),
    ("蓝牙音箱", "半音量播放", [("低音振膜", "喇叭膜"), ("充电接口", "充电口"),
        ("挂绳", "提手绳"), ("控制按键", "按钮")]),
    ("电动剃须刀", "每天剃须", [("刀网", "外层网罩"), ("内刀头", "里面的刀片"),
        ("修鬓刀", "鬓角修剪器"), ("充电触点", "充电金属片")]),
    ("便携榨汁杯", "连续榨汁", [("刀座", "底部刀片"), ("杯体", "杯子本身"),
        ("密封圈", "橡胶圈"), ("磁吸充电口", "充电接口")]),
]  # fmt: skip
BRANDS = [("澜风", "LF"), ("禾木", "HM"), ("极光", "JG"), ("青禾", "QH"), ("远岫", "YX"),
          ("星岚", "XL"), ("云雀", "YQ"), ("松果", "SG"), ("朗月", "LY"), ("白桦", "BH")]  # fmt: skip
FAULTS = [
    ("被异物卡住", "卡住不动了", "请关机后清除异物，再重新启动"),
    ("温度过高", "摸着特别烫", "请立即停止使用，冷却30分钟以上再开机"),
    ("未安装到位", "好像松了", "请取下后重新安装，直到听到“咔哒”一声"),
    ("磨损已超出使用寿命", "已经用坏了", "请更换新件，旧件无法修复"),
    ("与主板的连接中断", "没有连上", "请重新插好排线，或送至售后网点检修"),
    ("读数异常", "数据不太对劲", "请擦拭传感器窗口并重新校准"),
]  # fmt: skip
INTERVALS = [("每周", "一星期一次"), ("每两周", "半个月一次"), ("每月", "一个月一回"),
             ("每三个月", "一个季度一次"), ("每使用20小时", "用满二十个钟头")]  # fmt: skip
AGENTS = [("干燥的软毛刷", "软刷子"), ("温水加少量中性洗涤剂", "兑了洗洁精的温水"),
          ("蘸有酒精的无尘布", "酒精棉"), ("压缩空气", "气吹"), ("微湿的超细纤维布", "湿抹布")]  # fmt: skip
FORBIDDEN = [("放入洗碗机清洗", "用洗碗机洗"), ("使用丙酮等有机溶剂", "用强效化学清洁剂"),
             ("用吹风机烘干", "拿电吹风吹干"), ("将主机浸入水中", "整个泡进水里")]  # fmt: skip
EXCLUSIONS = [("进水造成的损坏", "泡过水"), ("外观划痕", "表面刮花"),
              ("滤网、刷头等耗材", "易损件"), ("非授权维修造成的损坏", "自己找外面的店修过"),
              ("商业用途", "放在店里商用")]  # fmt: skip
TOOLS = ["十字螺丝刀", "2.5毫米内六角扳手", "T10梅花螺丝刀", "随附的塑料撬片", "一枚硬币"]
FILLER = [
    "使用前请仔细阅读全部安全说明，并妥善保管本说明书。",
    "请仅使用原厂配件及经认证的附件。",
    "锂电池请勿置于45℃以上的高温环境中。",
    "充电时请将产品放在儿童和宠物接触不到的地方。",
    "废旧电池请交由专门的回收点处理，切勿混入生活垃圾。",
    "固件升级后，部分功能可能与本节描述略有不同。",
    "如有疑问，请先联系官方售后，切勿自行拆机。",
]


@dataclass
class Product:
    brand: str
    code: str
    kind: str
    activity: str
    parts: list[tuple[str, str]]
    sibling: str

    @property
    def short(self) -> str:
        return f"{self.brand}{self.code}"

    @property
    def full(self) -> str:
        return f"{self.brand}{self.code}{self.kind}"


def _stem(letters: str, rng: random.Random) -> str:
    return f"{letters}-{rng.randrange(10, 99)}0"


def products(rng: random.Random, families: int) -> list[Product]:
    out: list[Product] = []
    stems: set[str] = set()
    for _ in range(families):
        brand, letters = BRANDS[rng.randrange(len(BRANDS))]
        kind, activity, parts = TYPES[rng.randrange(len(TYPES))]
        stem = unique(rng, functools.partial(_stem, letters), stems)
        number = int(stem.split("-")[1])
        variants = [stem, f"{stem}S", f"{letters}-{number + 10}", f"{stem} Pro"]
        codes = variants[: rng.choice([2, 3, 3, 4])]
        for i, code in enumerate(codes):
            sibling = codes[(i + 1) % len(codes)]
            out.append(Product(brand, code, kind, activity, parts, f"{brand}{sibling}"))
    return out


def _battery(rng: random.Random, p: Product, used: dict[str, set[str]]) -> Draft:
    cap = rng.randrange(800, 6000, 50)
    hours = rng.choice(["1.5", "2", "2.5", "3", "4", "5", "6", "8", "10"])
    minutes = rng.randrange(60, 300, 15)
    watts = rng.choice([5, 10, 18, 20, 25, 36])
    texts = [
        f"{p.full}内置{cap}毫安时锂电池，充满电后可{p.activity}约{hours}小时。使用随机附带的"
        f"{watts}瓦充电器，从电量耗尽到充满约需{minutes}分钟，充满后指示灯常亮绿色。",
        f"续航与充电：{p.full}电池容量为{cap}毫安时，{p.activity}时续航约{hours}小时。"
        f"充电时长约{minutes}分钟（{watts}瓦适配器）。",
    ]
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4, sep="")
    facts = {"entity": p.short, "cap": str(cap)}
    qs = [
        Q("lexical", f"{p.short}的充电时长是多少？", ("entity",)),
        Q("paraphrase", f"{p.code}从没电到充满要等多长时间？", ("entity",)),
        Q("paraphrase", f"{p.short}充一次电能用几个钟头？", ("entity",)),
        Q("exact", f"哪款{p.kind}的电池是{cap}毫安时的？", ("cap",)),
    ]
    return Draft(DOMAIN, "battery", f"{p.full}：续航与充电", text, facts, qs)


def _error(rng: random.Random, p: Product, used: dict[str, set[str]]) -> Draft:
    code = unique(rng, lambda r: f"E{r.randrange(10, 99)}", used.setdefault("error", set()))
    code = f"{p.code.split('-')[0]}{code}"
    part, part_q = pair(rng, p.parts)
    fault, fault_q, remedy = FAULTS[rng.randrange(len(FAULTS))]
    texts = [
        f"故障代码{code}：表示{p.full}的{part}{fault}。{remedy}。若重启后仍反复出现{code}，"
        f"请联系客服。",
        f"{p.short}故障排除：屏幕显示{code}时，说明{part}{fault}。处理方法：{remedy}。",
    ]
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.3, sep="")
    facts = {"entity": p.short, "code": code, "part": part, "fault": fault}
    qs = [
        Q("exact", f"故障代码{code}是什么意思？", ("code",)),
        Q("exact", f"我的{p.code}显示{code}，该怎么办？", ("code",)),
        Q("paraphrase", f"{p.short}的{part_q}{fault_q}，是怎么回事？", ("entity", "part", "fault")),
        Q("descriptive", f"哪个{p.kind}报错代码表示{part_q}{fault_q}？", ("part", "fault")),
    ]
    return Draft(DOMAIN, "error", f"{p.full}：故障代码{code}", text, facts, qs)


def _cleaning(rng: random.Random, p: Product, used: dict[str, set[str]]) -> Draft:
    part, part_q = pair(rng, p.parts)
    interval, interval_q = pair(rng, INTERVALS)
    agent, agent_q = pair(rng, AGENTS)
    forbidden, forbidden_q = pair(rng, FORBIDDEN)
    texts = [
        f"{p.full}的保养：{part}应{interval}清洁一次，使用{agent}即可。请勿{forbidden}，"
        f"以免损坏密封件。各部件完全晾干后再装回。",
        f"为保持{p.short}性能良好，建议{interval}清理{part}。清洁时用{agent}，不要{forbidden}。",
    ]
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4, sep="")
    facts = {"entity": p.short, "part": part, "interval": interval, "agent": agent}
    qs = [
        Q("lexical", f"{p.short}的{part}多久清洁一次？", ("entity", "part")),
        Q("paraphrase", f"我的{p.code}的{part_q}隔多长时间要洗一下？", ("entity", "part")),
        Q("paraphrase", f"{p.short}的{part_q}可以{forbidden_q}吗？", ("entity", "part")),
        Q(
            "descriptive",
            f"哪款{p.kind}的{part_q}要{interval_q}用{agent_q}清理？",
            ("part", "interval", "agent"),
        ),  # fmt: skip
    ]
    return Draft(DOMAIN, "cleaning", f"{p.full}：{part}的清洁", text, facts, qs)


def _warranty(rng: random.Random, p: Product, used: dict[str, set[str]]) -> Draft:
    years = rng.choice(["一", "两", "三"])
    days = rng.choice([15, 30, 60, 90])
    exclusion, exclusion_q = pair(rng, EXCLUSIONS)
    texts = [
        f"{p.full}自购买之日起享受{years}年有限保修。购买后{days}天内完成产品注册，"
        f"保修期可延长十二个月。以下情况不在保修范围内：{exclusion}。",
        f"{p.short}保修条款：非人为故障保修{years}年，前提是购买后{days}天内完成注册。"
        f"{exclusion}不予保修。",
    ]
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.3, sep="")
    facts = {"entity": p.short, "exclusion": exclusion}
    qs = [
        Q("lexical", f"{p.short}哪些情况不在保修范围内？", ("entity",)),
        Q("paraphrase", f"{p.code}质保多长时间？", ("entity",)),
        Q("paraphrase", f"{p.short}{exclusion_q}还能免费修吗？", ("entity",)),
        Q("paraphrase", f"新买的{p.short}要在多少天内登记才能多保一年？", ("entity",)),
    ]
    return Draft(DOMAIN, "warranty", f"{p.full}：保修政策", text, facts, qs)


def _parts(rng: random.Random, p: Product, used: dict[str, set[str]]) -> Draft:
    part, part_q = pair(rng, p.parts)
    prefix = p.code.split("-")[0]
    pn = unique(
        rng,
        lambda r: f"{prefix}-{r.randrange(1000, 9999)}-{r.choice('ABCDEFGH')}",
        used.setdefault("pn", set()),
    )
    minutes = rng.choice([5, 10, 15, 20])
    tool = rng.choice(TOOLS)
    texts = [
        f"{p.full}备件：替换用{part}的配件编号为{pn}，与{p.sibling}所用的配件不通用。"
        f"更换约需{minutes}分钟，需要{tool}。",
        f"更换{p.short}的{part}：请向授权经销商订购配件{pn}（{p.sibling}使用的是另一款）。"
        f"预留{minutes}分钟，准备好{tool}。",
    ]
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.3, sep="")
    facts = {"entity": p.short, "part": part, "pn": pn}
    qs = [
        Q("exact", f"配件{pn}适用于哪个型号？", ("pn",)),
        Q("exact", f"安装{pn}需要什么工具？", ("pn",)),
        Q("lexical", f"{p.short}替换用{part}的配件编号是多少？", ("entity", "part")),
        Q("paraphrase", f"我的{p.code}的{part_q}坏了，该买哪个零件？", ("entity", "part")),
    ]
    return Draft(DOMAIN, "parts", f"{p.full}：{part}备件", text, facts, qs)


def _setup(rng: random.Random, p: Product, used: dict[str, set[str]]) -> Draft:
    cm = rng.choice([5, 10, 15, 20, 30])
    kg = f"{rng.randrange(2, 60) / 10:.1f}"
    db = rng.randrange(38, 85)
    texts = [
        f"{p.full}的放置：请放在平整干燥的台面上，四周至少留出{cm}厘米空间。整机重{kg}公斤，"
        f"最高档运行噪音约{db}分贝。",
        f"技术参数（{p.short}）：重量{kg}公斤；最大功率下噪音{db}分贝。存放和充电时，"
        f"出风口周围需预留{cm}厘米。",
    ]
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4, sep="")
    facts = {"entity": p.short, "kg": kg}
    qs = [
        Q("paraphrase", f"{p.short}开到最大档有多吵？", ("entity",)),
        Q("paraphrase", f"{p.code}有多沉？", ("entity",)),
        Q("paraphrase", f"{p.short}周围要空出多大地方？", ("entity",)),
        Q("exact", f"哪款{p.kind}重{kg}公斤？", ("kg",)),
    ]
    return Draft(DOMAIN, "setup", f"{p.full}：放置与技术参数", text, facts, qs)


GENERIC = [
    "充电小贴士：锂电池宜在室温下充电，指示灯变绿后请拔下充电器。长期满电存放会缩短电池寿命。",
    "通用清洁建议：清洁前请关机并断开电源。滤网、刷头属于耗材，清洗后仍不干净时请及时更换。",
    "关于故障代码：多数报错重启后即可消除。联系客服前，请记下故障代码和铭牌上的序列号。",
    "申请保修时须提供购买凭证。二手购买的产品仅在原保修期剩余时间内享受保修。",
    "配件可在官方商城或授权经销商处购买，订购时请提供配件清单上的完整编号。",
]


def build(rng: random.Random, families: int = 16) -> list[Draft]:
    used: dict[str, set[str]] = {}
    drafts = [
        aspect(rng, p, used)
        for p in products(rng, families)
        for aspect in (_battery, _error, _cleaning, _warranty, _parts, _setup)
    ]
    drafts += [Draft(DOMAIN, "generic", "通用说明", text) for text in GENERIC]
    return drafts
