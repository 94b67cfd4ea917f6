"""Chinese animal facts (动物知识): fictional species whose names share characters."""

from __future__ import annotations

import random

from bench.retrieval_quality.common import Draft, Q, pair, sentences, unique

DOMAIN = "animals"

COLOURS = list("赤青白黑金灰紫褐橙黄蓝银")
BODY = list("喉冠尾翅背腹眉顶")
# 名称, 属名, 类别, 后代, 食物（书面, 口语）
ANIMALS: list[tuple[str, str, str, str, list[tuple[str, str]]]] = [
    ("山雀", "Parus", "鸟", "卵", [("甲虫和蝗虫", "带硬壳的虫子"), ("松子", "松树的种子"),
        ("秋季的浆果", "野果")]),
    ("林蛙", "Rana", "蛙", "卵", [("蚊子", "叮人的小飞虫"), ("蚂蚁", "成群的小虫"),
        ("蜘蛛", "八条腿的虫子")]),
    ("伏翼", "Pipistrellus", "蝙蝠", "幼崽", [("蠓虫", "极小的飞虫"), ("蛾类", "夜里飞的蛾子"),
        ("蜉蝣", "从河里羽化的飞虫")]),
    ("田鼠", "Microtus", "鼠", "幼崽", [("莎草嫩芽", "湿地里的草"), ("草根和块茎", "地下的根茎"),
        ("草籽", "谷粒")]),
    ("石龙子", "Plestiodon", "蜥蜴", "卵", [("蟋蟀", "会叫的虫子"), ("蜗牛", "背着壳的软体动物"),
        ("白蚁", "啃木头的虫子")]),
    ("鳅", "Cobitis", "鱼", "卵", [("摇蚊幼虫", "泥里的小虫"), ("藻类", "石头上的青苔"),
        ("水蚤", "水里的小甲壳虫")]),
    ("画眉", "Garrulax", "鸟", "卵", [("毛虫", "蛾子的幼虫"), ("蚯蚓", "土里的虫"),
        ("草莓和桑葚", "红色的小果子")]),
]  # fmt: skip
HABITATS = [("河流沿岸的芦苇荡", "河边芦苇丛"), ("山地阔叶林", "山里的树林"),
            ("石灰岩碎石坡", "乱石山坡"), ("沿海盐沼", "海边的湿地"), ("干旱灌丛", "旱地灌木丛"),
            ("高山泥炭沼泽", "高原上的湿地"), ("老果园和城市公园", "有果树的园子")]  # fmt: skip
THREATS = [("湿地排干", "沼泽被填平"), ("农药使用", "田里打的药"), ("森林砍伐", "树被砍光"),
           ("流浪猫捕食", "野猫"), ("道路交通", "路上的汽车"), ("气候变暖", "天气越来越热")]  # fmt: skip
STATUS = ["无危", "近危", "易危", "濒危", "极危"]
NESTS = [("树洞中", "树干里的洞"), ("松动的树皮下", "树皮底下"), ("河岸的洞穴里", "岸边挖的地洞"),
         ("茂密的芦苇丛中", "密密的芦苇里"), ("扁平的石块下", "石头底下"),
         ("叶片背面", "树叶的反面")]  # fmt: skip
FILLER = [
    "以上观察记录由地区野生动物调查志愿者收集。",
    "该物种仍有许多未解之谜，相关数据可能随新的调查而更新。",
    "与近缘种一样，它在清晨和黄昏最容易被观察到。",
    "拍摄时请保持距离，以免惊扰动物。",
]

SYLLABLES = ["ve", "lor", "an", "tis", "mar", "qu", "ol", "dra", "sen", "ix", "ur", "bel"]


def species(rng: random.Random, count: int) -> list[tuple[str, str]]:
    names: set[str] = set()
    latin: set[str] = set()
    out: list[tuple[str, str]] = []
    while len(out) < count:
        animal = ANIMALS[rng.randrange(len(ANIMALS))]
        name = f"{rng.choice(COLOURS)}{rng.choice(BODY)}{animal[0]}"
        if name in names:
            continue
        names.add(name)
        epithet = unique(
            rng, lambda r: "".join(r.sample(SYLLABLES, 3)) + r.choice(["ensis", "us", "ii"]), latin
        )
        out.append((name, f"{animal[1]} {epithet}"))
    return out


def _animal(name: str) -> tuple[str, str, str, str, list[tuple[str, str]]]:
    return next(a for a in ANIMALS if name.endswith(a[0]))


def _diet(rng: random.Random, name: str, latin: str) -> Draft:
    kind = _animal(name)
    food, food_q = pair(rng, kind[4])
    when = rng.choice(["夜间", "清晨", "傍晚", "白天"])
    share = rng.randrange(40, 91)
    texts = [
        f"{name}（{latin}）主要以{food}为食，约占其食物总量的{share}%。它通常在{when}觅食，"
        f"常常回到同一地点。",
        f"食性：{food}约占{name}（{latin}）食物的{share}%。这种{kind[2]}多在{when}外出觅食。",
    ]
    facts = {"food": food}
    qs = [
        Q("lexical", f"{name}以什么为食？", ("entity",)),
        Q("paraphrase", f"{name}平时主要吃啥？", ("entity",)),
        Q("exact", f"{latin}吃什么？", ("entity",)),
        Q("paraphrase", f"{name}一般什么时候出来找吃的？", ("entity",)),
    ]
    return _draft(rng, name, latin, "diet", "食性", texts, qs, facts)


def _habitat(rng: random.Random, name: str, latin: str) -> Draft:
    habitat, habitat_q = pair(rng, HABITATS)
    low = rng.randrange(0, 1500, 50)
    high = low + rng.randrange(200, 1200, 50)
    texts = [
        f"栖息地：{name}栖息于海拔{low}至{high}米的{habitat}，很少出现在开阔农田。",
        f"{latin}即{name}，分布于{habitat}，海拔范围{low}～{high}米。",
    ]
    facts = {"habitat": habitat, "high": str(high)}
    qs = [
        Q("lexical", f"{name}栖息在什么地方？", ("entity",)),
        Q("paraphrase", f"在多高的山上能找到{name}？", ("entity",)),
        Q("exact", f"哪种动物分布在海拔{high}米以下的{habitat}？", ("high", "habitat")),
        Q(
            "descriptive",
            f"哪种{_animal(name)[2]}生活在{habitat_q}，最高能到{high}米？",
            ("habitat", "high"),
        ),  # fmt: skip
    ]
    return _draft(rng, name, latin, "habitat", "栖息地", texts, qs, facts)


def _breeding(rng: random.Random, name: str, latin: str) -> Draft:
    kind = _animal(name)
    nest, nest_q = pair(rng, NESTS)
    clutch = rng.randrange(2, 9)
    month = rng.randrange(3, 8)
    days = rng.randrange(10, 35)
    if kind[3] == "卵":
        texts = [
            f"{name}的繁殖：每年{month}月开始交配，雌性在{nest}产卵{clutch}枚，约{days}天后孵化。",
            f"{name}一年繁殖一次，始于{month}月。每窝通常{clutch}枚卵，藏在{nest}，{days}天左右"
            f"孵出。",
        ]
    else:
        texts = [
            f"{name}的繁殖：每年{month}月开始交配，雌性在{nest}的栖所中产下{clutch}只{kind[3]}，"
            f"孕期约{days}天。",
        ]
    facts = {"nest": nest, "clutch": str(clutch)}
    qs = [
        Q("lexical", f"{name}什么时候繁殖？", ("entity",)),
        Q("paraphrase", f"{name}一次能生几个宝宝？", ("entity",)),
        Q("paraphrase", f"{name}在哪儿养育下一代？", ("entity",)),
        Q("descriptive", f"哪种{kind[2]}会在{nest_q}生{clutch}个后代？", ("nest", "clutch")),
    ]
    return _draft(rng, name, latin, "breeding", "繁殖", texts, qs, facts)


def _size(rng: random.Random, name: str, latin: str) -> Draft:
    length = rng.randrange(3, 40)
    weight = rng.randrange(2, 400)
    years = rng.randrange(2, 21)
    texts = [
        f"{name}从头到尾长约{length}厘米，体重约{weight}克，野外寿命可达{years}年。",
        f"体型与寿命：{name}（{latin}）成体体长{length}厘米，体重{weight}克。有记录的最长寿个体为{years}岁。",
    ]
    facts = {"weight": str(weight), "length": str(length)}
    qs = [
        Q("paraphrase", f"{name}能活多少年？", ("entity",)),
        Q("paraphrase", f"{name}个头有多大？", ("entity",)),
        Q("exact", f"哪种动物体重约{weight}克、体长{length}厘米？", ("weight", "length")),
        Q("lexical", f"{name}的体重是多少？", ("entity",)),
    ]
    return _draft(rng, name, latin, "size", "体型与寿命", texts, qs, facts)


def _conservation(rng: random.Random, name: str, latin: str) -> Draft:
    status = rng.choice(STATUS)
    population = rng.randrange(300, 60_000, 10)
    threat, threat_q = pair(rng, THREATS)
    texts = [
        f"保护现状：{name}被列为{status}物种。调查估计成年个体约{population}只，主要威胁是{threat}。",
        f"{latin}（{name}）：{status}，成年个体仅剩约{population}只，数量下降主要源于{threat}。",
    ]
    facts = {"population": str(population), "threat": threat}
    qs = [
        Q("lexical", f"{name}的保护级别是什么？", ("entity",)),
        Q("paraphrase", f"{name}为什么越来越少了？", ("entity",)),
        Q("exact", f"哪个物种的成年个体约剩{population}只？", ("population",)),
        Q("paraphrase", f"{name}现在还稀有吗？", ("entity",)),
    ]
    return _draft(rng, name, latin, "conservation", "保护现状", texts, qs, facts)


def _draft(
    rng: random.Random,
    name: str,
    latin: str,
    aspect: str,
    topic: str,
    texts: list[str],
    qs: list[Q],
    facts: dict[str, str],
) -> Draft:
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4, sep="")
    return Draft(DOMAIN, aspect, f"{name}（{latin}）：{topic}", text, {"entity": name, **facts}, qs)


GENERIC = [
    "本地区许多小型鸟类夏季以昆虫为食，秋季改吃浆果。",
    "上世纪大规模排水工程以来，湿地物种数量急剧下降。",
    "蝙蝠栖息在树洞和老建筑中，所有种类均受法律保护。",
    "窝卵数随食物多寡而变化，食物匮乏的年份许多个体产卵较少。",
    "寿命记录多来自环志研究，通常远高于平均水平。",
]


def build(rng: random.Random, count: int = 48) -> list[Draft]:
    aspects = (_diet, _habitat, _breeding, _size, _conservation)
    drafts = [aspect(rng, name, latin) for name, latin in species(rng, count) for aspect in aspects]
    drafts += [Draft(DOMAIN, "generic", "野生动物笔记", text) for text in GENERIC]
    return drafts
