"""Chinese city facts (城市概况): fictional towns whose names share characters."""

from __future__ import annotations

import random
import string

from bench.retrieval_quality.common import Draft, Q, pair, sentences, unique

DOMAIN = "cities"

FIRST = list("青白云临安东望清长永丰宁江凤石柳")
SECOND = list("岚川溪州阳平泉山湖河桥原")
SUFFIX = ["市", "县", "镇"]
PROVINCES = ["云岭省", "江汉省", "北原省", "东海省", "南屏省"]
FOUNDERS = [("盐商", "贩盐的商人"), ("驻军", "守城的士兵"), ("织布匠人", "织布的手艺人"),
            ("渔民", "打鱼的人家"), ("银矿矿工", "挖银子的人"), ("僧人", "出家的和尚")]  # fmt: skip
DISASTERS = [("地震", "山摇地动"), ("大火", "一场火灾"), ("洪水", "河水泛滥"),
             ("瘟疫", "疫病流行"), ("战乱", "兵荒马乱")]  # fmt: skip
INDUSTRIES = [("造船业", "造船"), ("玻璃制造", "做玻璃"), ("葡萄酒酿造", "酿酒"),
              ("软件开发", "互联网公司"), ("纺织业", "织布厂"), ("旅游业", "接待游客"),
              ("铜矿开采", "挖铜矿"), ("造纸业", "造纸厂"), ("茶叶种植", "种茶"),
              ("水产加工", "加工鱼虾")]  # fmt: skip
LANDMARKS = [("钟楼", "带大钟的塔"), ("石拱桥", "老桥"), ("灯塔", "海边的塔"),
             ("大剧院", "看演出的地方"), ("文庙", "祭孔的庙"), ("古城墙", "老城墙")]  # fmt: skip
ARCHITECTS = ["周明远", "林书华", "陈景行", "许慕白", "沈若愚", "顾清和", "梁思远", "韩素云"]
FESTIVALS = [("灯会", "人们在河上放花灯", "在水上放灯"),
             ("丰收节", "农民在街头摆摊出售当季农产品", "卖新收的庄稼"),
             ("风筝节", "数百只风筝飞满天空", "大家一起放风筝"),
             ("龙舟赛", "各村龙舟队在江上竞渡", "划船比赛"),
             ("庙会", "街头摆满小吃和手工艺品摊位", "逛吃逛买的集市"),
             ("斗茶会", "茶农在广场上斗茶评茶", "比谁家的茶好")]  # fmt: skip
FILLER = [
    "夏季旅游旺季住宿紧张，建议游客提前预订。",
    "市中心广场旁的游客中心可免费领取地图，并提供导览服务。",
    "文中数据取自最新一期的地方统计年鉴。",
    "城郊山水秀丽，是徒步和骑行爱好者的好去处。",
    "和省内许多城镇一样，这里保留着较为完整的老城格局。",
]


def cities(rng: random.Random, count: int) -> list[tuple[str, str]]:
    names: set[str] = set()
    out: list[tuple[str, str]] = []
    while len(out) < count:
        head = rng.choice(FIRST)
        for second in rng.sample(SECOND, rng.choice([1, 2, 2, 3])):
            stem = head + second
            name = stem + rng.choice(SUFFIX)
            if stem not in names and len(out) < count:
                names.add(stem)
                out.append((name, rng.choice(PROVINCES)))
    return out


def _history(rng: random.Random, city: str, prov: str, used: dict[str, set[str]]) -> Draft:
    founded = rng.randrange(900, 1650)
    founder, founder_q = pair(rng, FOUNDERS)
    disaster, disaster_q = pair(rng, DISASTERS)
    year = founded + rng.randrange(40, 350)
    texts = [
        f"{city}始建于{founded}年前后，最早由{founder}在河畔聚居而成。{year}年，一场{disaster}"
        f"几乎摧毁了老城，此后数十年间城区以砖石重建。",
        f"{city}（{prov}）历史沿革：{founded}年左右，{founder}在此定居，逐渐形成集镇。{year}年"
        f"的{disaster}使大半房屋化为废墟，是当地历史上最惨痛的一年。",
    ]
    facts = {"founder": founder, "disaster": disaster, "year": str(year)}
    qs = [
        Q("lexical", f"{city}最早是由谁建立的？", ("entity",)),
        Q("paraphrase", f"{city}历史上遭过什么大难？是哪一年？", ("entity",)),
        Q("exact", f"哪座城镇在{year}年遭受重创？", ("year",)),
        Q(
            "descriptive",
            f"哪座城最早是{founder_q}聚居形成的，后来又因{disaster_q}毁于一旦？",
            ("founder", "disaster"),
        ),  # fmt: skip
    ]
    return _draft(rng, city, prov, "history", "历史沿革", texts, qs, facts)


def _climate(rng: random.Random, city: str, prov: str, used: dict[str, set[str]]) -> Draft:
    warm = rng.choice([6, 7, 8])
    temp = rng.randrange(24, 36)
    wet = rng.randrange(4, 10)
    rain = rng.randrange(380, 2200, 10)
    texts = [
        f"{city}气候温和，最热的月份是{warm}月，平均最高气温{temp}℃；降水集中在{wet}月，"
        f"年降水量约{rain}毫米。",
        f"气候：{city}属季风气候，{warm}月最为炎热，月平均最高气温约{temp}℃。{wet}月雨水最多，"
        f"全年降水量在{rain}毫米左右。",
    ]
    facts = {"rain": str(rain)}
    qs = [
        Q("paraphrase", f"{city}哪个月下雨最多？", ("entity",)),
        Q("paraphrase", f"{city}夏天有多热？", ("entity",)),
        Q("lexical", f"{city}的年降水量是多少？", ("entity",)),
        Q("exact", f"哪座城市年降水量约{rain}毫米？", ("rain",)),
    ]
    return _draft(rng, city, prov, "climate", "气候", texts, qs, facts)


def _transport(rng: random.Random, city: str, prov: str, used: dict[str, set[str]]) -> Draft:
    iata = unique(rng, lambda r: "".join(r.choices(string.ascii_uppercase, k=3)), used["iata"])
    km = rng.randrange(8, 60)
    minutes = rng.randrange(20, 80)
    lines = rng.randrange(2, 9)
    texts = [
        f"{city}距最近的机场（代码{iata}）约{km}公里，乘机场大巴约需{minutes}分钟。市内共有"
        f"{lines}条地铁线路，运营时间为早6点至晚11点。",
        f"交通：{city}机场，三字代码{iata}，位于城外{km}公里处，坐大巴约{minutes}分钟进城。"
        f"城市轨道交通共{lines}条线。",
    ]
    facts = {"iata": iata}
    qs = [
        Q("exact", f"机场代码{iata}对应的是哪座城市？", ("iata",)),
        Q("lexical", f"{city}的机场代码是什么？", ("entity",)),
        Q("paraphrase", f"从机场到{city}市区要坐多久的车？", ("entity",)),
        Q("paraphrase", f"{city}有几条地铁？", ("entity",)),
    ]
    return _draft(rng, city, prov, "transport", "交通", texts, qs, facts)


def _economy(rng: random.Random, city: str, prov: str, used: dict[str, set[str]]) -> Draft:
    population = rng.randrange(20, 900) * 1000 + rng.randrange(1, 10) * 100
    first, first_q = pair(rng, INDUSTRIES)
    second, _ = pair(rng, [i for i in INDUSTRIES if i[0] != first])
    rate = rng.randrange(25, 90) / 10
    texts = [
        f"{city}常住人口{population}人。当地经济长期以{first}为支柱，近年来{second}发展迅速。"
        f"城镇登记失业率为{rate}%。",
        f"经济与人口：{city}共有常住人口{population}人，第一大产业是{first}，{second}次之，"
        f"失业率{rate}%。",
    ]
    facts = {"first": first, "population": str(population)}
    qs = [
        Q("lexical", f"{city}的常住人口有多少？", ("entity",)),
        Q("paraphrase", f"{city}的人大多靠什么谋生？", ("entity",)),
        Q("exact", f"哪座城市常住人口为{population}人？", ("population",)),
        Q("paraphrase", f"{city}找不到工作的人占多大比例？", ("entity",)),
    ]
    return _draft(rng, city, prov, "economy", "经济与人口", texts, qs, facts)


def _landmark(rng: random.Random, city: str, prov: str, used: dict[str, set[str]]) -> Draft:
    landmark, landmark_q = pair(rng, LANDMARKS)
    architect = rng.choice(ARCHITECTS)
    year = rng.randrange(1650, 2015)
    height = rng.randrange(12, 120)
    texts = [
        f"{city}的{landmark}由{architect}设计，于{year}年建成，是当地最有名的景点，高{height}米，"
        f"每天对游客开放。",
        f"名胜古迹：{city}{landmark}高{height}米，按照{architect}的方案修建，{year}年完工。"
        f"入口处每小时有一场讲解。",
    ]
    facts = {"landmark": landmark, "architect": architect, "year": str(year)}
    qs = [
        Q("lexical", f"{city}的{landmark}是谁设计的？", ("entity",)),
        Q("paraphrase", f"{city}那座有名的{landmark_q}有多高？", ("entity",)),
        Q("exact", f"{architect}在{year}年建成的是哪座{landmark}？", ("architect", "year")),
        Q("paraphrase", f"{city}的{landmark_q}是哪年盖好的？", ("entity",)),
    ]
    return _draft(rng, city, prov, "landmark", "名胜古迹", texts, qs, facts)


def _festival(rng: random.Random, city: str, prov: str, used: dict[str, set[str]]) -> Draft:
    name, what, what_q = FESTIVALS[rng.randrange(len(FESTIVALS))]
    month = rng.randrange(1, 13)
    since = rng.randrange(1700, 2000)
    texts = [
        f"每年{month}月，{city}都会举办{name}，届时{what}。这一传统始于{since}年，吸引着"
        f"{prov}各地的游客。",
        f"节庆民俗：{city}{name}在每年{month}月举行，{since}年首次举办，当天{what}。",
    ]
    facts = {"festival": name, "month": str(month)}
    qs = [
        Q("lexical", f"{city}的{name}在几月举行？", ("entity",)),
        Q("paraphrase", f"{city}每年最热闹的节日活动是什么？", ("entity",)),
        Q("descriptive", f"哪座城市每年{month}月有{what_q}的活动？", ("festival", "month")),
        Q("paraphrase", f"{city}的{name}有多少年的历史了？", ("entity",)),
    ]
    return _draft(rng, city, prov, "festival", "节庆民俗", texts, qs, facts)


def _draft(
    rng: random.Random,
    city: str,
    prov: str,
    aspect: str,
    topic: str,
    texts: list[str],
    qs: list[Q],
    facts: dict[str, str],
) -> Draft:
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4, sep="")
    return Draft(DOMAIN, aspect, f"{city}（{prov}）：{topic}", text, {"entity": city, **facts}, qs)


GENERIC = [
    "区域交通：各省会城市之间每小时都有列车往来，多数城镇开通了前往最近机场的大巴。",
    "本省气候受季风影响，降水多集中在夏季，冬季干燥少雨。",
    "省内不少城镇在明清时期遭受过火灾和洪水，老城多为灾后重建。",
    "各地节庆活动信息刊登在每年一月发布的全省节庆日历上。",
    "近二十年来，省内各城镇人口总体保持稳定。",
]


def build(rng: random.Random, count: int = 40) -> list[Draft]:
    used: dict[str, set[str]] = {"iata": set()}
    aspects = (_history, _climate, _transport, _economy, _landmark, _festival)
    drafts = [
        aspect(rng, city, prov, used) for city, prov in cities(rng, count) for aspect in aspects
    ]
    drafts += [Draft(DOMAIN, "generic", "地区概况", text) for text in GENERIC]
    return drafts
