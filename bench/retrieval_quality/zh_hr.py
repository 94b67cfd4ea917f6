"""Chinese HR policies (人事制度): companies sharing name stems, each with numbered policies."""

from __future__ import annotations

import random

from bench.retrieval_quality.common import Draft, Q, sentences, unique

DOMAIN = "hr"

STEMS = ["华岳", "北辰", "金桥", "明远", "东湖", "嘉禾", "瑞丰", "恒泰", "远航", "同舟", "青松",
         "云帆", "博雅", "星河", "天衡", "润泽"]  # fmt: skip
SECTORS = ["物流", "科技", "医疗", "食品", "传媒", "保险", "制药", "能源", "教育", "建设"]
FILLER = [
    "各部门负责人应在本部门内统一执行本制度。",
    "对本制度有疑问的，可通过人事系统向人力资源部咨询。",
    "本制度每年复核一次，经职工代表讨论后方可修订。",
    "如当地法律法规规定的待遇更优，以法律法规为准。",
    "非全日制员工按实际工作时间折算享受以下待遇。",
]


def companies(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        stem = rng.choice(STEMS)
        for _ in range(rng.choice([1, 2, 2, 3])):
            name = f"{stem}{rng.choice(SECTORS)}"
            if name not in names and len(out) < count:
                names.add(name)
                out.append(name)
    return out


def _leave(rng: random.Random, c: str, pid: str) -> Draft:
    days = rng.randrange(5, 21)
    carry = rng.randrange(2, 6)
    month = rng.randrange(3, 7)
    texts = [
        f"{c}年休假管理办法（{pid}）：全职员工每年享有{days}天带薪年休假。当年未休完的假期最多"
        f"可结转{carry}天至次年，须在次年{month}月底前休完，逾期作废。",
        f"{c}员工年休假规定（{pid}）：全职员工每年{days}天带薪年假；未休部分至多结转{carry}天，"
        f"最迟于次年{month}月31日前使用。",
    ]
    qs = [
        Q("lexical", f"{c}全职员工每年有多少天带薪年休假？", ("entity",)),
        Q("paraphrase", f"在{c}，今年没休完的假能留到明年吗？最多几天？", ("entity",)),
        Q("paraphrase", f"{c}去年剩下的假最晚什么时候要用掉？", ("entity",)),
        Q("exact", f"{pid}关于假期结转是怎么规定的？", ("pid",)),
    ]
    return _draft(rng, c, pid, "leave", "年休假", texts, qs)


def _parental(rng: random.Random, c: str, pid: str) -> Draft:
    weeks = rng.randrange(14, 27)
    partner = rng.randrange(2, 5)
    pay = rng.choice([70, 80, 90, 100])
    texts = [
        f"{c}生育假制度（{pid}）：主要照护人可享受{weeks}周产假，期间按基本工资的{pay}%发放。"
        f"配偶可享受{partner}周带薪陪产假，须在孩子出生或领养后六个月内休完。",
        f"{c}规定（{pid}），生育或领养子女的主要照护人可休假{weeks}周，薪酬按{pay}%发放；"
        f"另一方享有{partner}周陪产假，可集中休也可分散休。",
    ]
    qs = [
        Q("paraphrase", f"在{c}当爸爸能休多久的假？", ("entity",)),
        Q("paraphrase", f"{c}的女员工生孩子可以歇多久？工资照发吗？", ("entity",)),
        Q("lexical", f"{c}主要照护人的产假有几周？", ("entity",)),
        Q(
            "descriptive",
            f"哪家公司给主要照护人{weeks}周、按{pay}%发薪的假，配偶还有{partner}周？",
            ("weeks", "pay", "partner"),
        ),  # fmt: skip
    ]
    facts = {"weeks": str(weeks), "pay": str(pay), "partner": str(partner)}
    return _draft(rng, c, pid, "parental", "生育假", texts, qs, facts)


def _remote(rng: random.Random, c: str, pid: str) -> Draft:
    days = rng.randrange(1, 4)
    amount = rng.choice([500, 800, 1000, 1500, 2000, 3000])
    core = rng.choice(["10:00至15:00", "9:30至14:30", "10:00至16:00", "13:00至17:00"])
    texts = [
        f"{c}远程办公规定（{pid}）：经主管同意，员工每周最多可居家办公{days}天。核心工作时间为"
        f"{core}，期间须保持在线。公司一次性发放{amount}元居家办公设备补贴。",
        f"{c}混合办公制度（{pid}）：员工每周可远程工作{days}天，{core}须能随时联系到。"
        f"新开始远程办公的员工可报销{amount}元，用于购买桌椅或显示器。",
    ]
    qs = [
        Q("paraphrase", f"在{c}一周可以在家上几天班？", ("entity",)),
        Q("paraphrase", f"在家干活的话，{c}给不给买桌子椅子？", ("entity",)),
        Q("lexical", f"{c}远程办公的核心工作时间是几点到几点？", ("entity",)),
        Q("exact", f"{pid}规定的补贴是多少钱？", ("pid",)),
    ]
    return _draft(rng, c, pid, "remote", "远程办公", texts, qs)


def _expenses(rng: random.Random, c: str, pid: str) -> Draft:
    meal = rng.choice([60, 80, 100, 120, 150, 200])
    within = rng.choice([15, 30, 45, 60])
    receipt = rng.choice([50, 100, 200, 500])
    texts = [
        f"{c}差旅费用报销办法（{pid}）：出差期间餐费每天报销上限为{meal}元。费用发生后{within}天内"
        f"须提交报销申请，单笔超过{receipt}元的须附明细发票。",
        f"{c}（{pid}）：差旅费用须在{within}天内提交报销，逾期不予受理。出差伙食标准为每日{meal}元，"
        f"单笔{receipt}元以上须提供发票。",
    ]
    qs = [
        Q("paraphrase", f"在{c}出差一天吃饭最多能报多少钱？", ("entity",)),
        Q("paraphrase", f"{c}花出去的钱要多久之内找公司报账？", ("entity",)),
        Q("lexical", f"{c}报销时什么情况下需要附明细发票？", ("entity",)),
        Q("exact", f"{pid}里的餐费上限是多少？", ("pid",)),
    ]
    return _draft(rng, c, pid, "expenses", "差旅报销", texts, qs)


def _sick(rng: random.Random, c: str, pid: str) -> Draft:
    note = rng.randrange(2, 6)
    paid = rng.randrange(5, 16)
    call = rng.choice(["9:00", "9:30", "10:00", "上班开始"])
    texts = [
        f"{c}病假管理规定（{pid}）：员工因病不能上班的，须在当天{call}前告知直属主管。连续病假满"
        f"{note}天须提供医院证明。每年{paid}天以内的病假全额发放工资。",
        f"{c}员工生病请假（{pid}）：请于{call}前电话通知主管；病假连续{note}天及以上须出具"
        f"诊断证明。每年前{paid}天病假工资照发。",
    ]
    qs = [
        Q("paraphrase", f"在{c}生病请假，什么时候要交医生开的单子？", ("entity",)),
        Q("paraphrase", f"{c}一年里生病几天不扣钱？", ("entity",)),
        Q("lexical", f"{c}员工病假须在几点前告知主管？", ("entity",)),
        Q("exact", f"按照{pid}，连续病假满几天需要证明？", ("pid",)),
    ]
    return _draft(rng, c, pid, "sick", "病假", texts, qs)


def _notice(rng: random.Random, c: str, pid: str) -> Draft:
    probation = rng.choice([1, 2, 3, 6])
    notice = 30
    np_days = rng.choice([3, 7])
    texts = [
        f"{c}试用期及离职规定（{pid}）：新员工试用期为{probation}个月，试用期内任何一方提前"
        f"{np_days}天通知即可解除合同。转正后解除劳动合同须提前{notice}天书面通知。",
        f"{c}（{pid}）：入职前{probation}个月为试用期，期间提前{np_days}天通知即可离职；"
        f"转正后须提前{notice}天书面提出。",
    ]
    qs = [
        Q("paraphrase", f"我想从{c}辞职，要提前多久说？", ("entity",)),
        Q("paraphrase", f"{c}的新人要考察多长时间才转正？", ("entity",)),
        Q("lexical", f"{c}试用期内解除合同要提前几天通知？", ("entity",)),
        Q("exact", f"{pid}规定的试用期是几个月？", ("pid",)),
    ]
    return _draft(rng, c, pid, "notice", "试用期与离职", texts, qs)


def _training(rng: random.Random, c: str, pid: str) -> Draft:
    budget = rng.choice([2000, 3000, 5000, 8000, 10000])
    days = rng.randrange(2, 8)
    repay = rng.choice([6, 12, 24])
    texts = [
        f"{c}员工培训管理办法（{pid}）：每位员工每年有{budget}元培训经费和{days}天学习假。参加费用"
        f"超过经费一半的课程后{repay}个月内离职的，须按比例退还费用。",
        f"{c}支持员工职业发展（{pid}）：每人每年{budget}元，可用于课程、书籍和行业会议，另有"
        f"{days}天学习假。参加高价课程后{repay}个月内离职的，须退还部分费用。",
    ]
    qs = [
        Q("paraphrase", f"{c}每年给员工多少钱去上课、参加会议？", ("entity",)),
        Q("paraphrase", f"从{c}离职的话，公司出钱的课程要退钱吗？", ("entity",)),
        Q("lexical", f"{c}员工每年有几天学习假？", ("entity",)),
        Q(
            "descriptive",
            f"哪家公司每年给员工{budget}元进修费，外加{days}天学习假？",
            ("budget", "days"),
        ),  # fmt: skip
    ]
    facts = {"budget": str(budget), "days": str(days)}
    return _draft(rng, c, pid, "training", "培训", texts, qs, facts)


def _draft(
    rng: random.Random,
    company: str,
    pid: str,
    aspect: str,
    topic: str,
    texts: list[str],
    qs: list[Q],
    facts: dict[str, str] | None = None,
) -> Draft:
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4, sep="")
    all_facts = {"entity": company, "pid": pid, **(facts or {})}
    return Draft(DOMAIN, aspect, f"{company}：{topic}（{pid}）", text, all_facts, qs)


ASPECTS = (_leave, _parental, _remote, _expenses, _sick, _notice, _training)
GENERIC = [
    "请假须至少提前两周在人事系统中提交申请，主管应在五个工作日内审批。",
    "差旅预订指引：选择合理范围内最经济的票价，出国出差须事先审批，所有票据请妥善保存以便报销。",
    "居家办公安全提示：屏幕应与视线平齐，并定时起身休息。设备故障请报告信息部门。",
    "员工离职时，主管将安排离职面谈并收回公司设备。未休年假折算工资随最后一个月工资发放。",
    "员工可申请弹性工作时间或缩短工时，公司将根据实际情况审批。",
]


def build(rng: random.Random, count: int = 40) -> list[Draft]:
    used: set[str] = set()
    drafts: list[Draft] = []
    for company in companies(rng, count):
        for aspect in rng.sample(ASPECTS, 6):
            pid = unique(rng, lambda r: f"RS-{r.randrange(100, 999)}", used)
            drafts.append(aspect(rng, company, pid))
    drafts += [Draft(DOMAIN, "generic", "人事通知", text) for text in GENERIC]
    return drafts
