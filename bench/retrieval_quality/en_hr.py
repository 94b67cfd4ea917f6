"""English HR policies: companies (some sharing a name stem) each with numbered policies."""

from __future__ import annotations

import random

from bench.retrieval_quality.common import Draft, Q, sentences, unique

DOMAIN = "hr"

STEMS = ["Norwell", "Brightmoor", "Castellan", "Dunmore", "Elmstead", "Farrowgate", "Glenhaven",
         "Harlow", "Ironbridge", "Juniper", "Kingsmead", "Larkspur", "Merriton", "Northcote",
         "Oakhurst", "Pemberton", "Quayside", "Redfern", "Stonebrook", "Thornbury", "Upton",
         "Westerly", "Yarrow", "Ashgrove", "Bellhaven", "Coldwater"]  # fmt: skip
SECTORS = ["Logistics", "Health", "Analytics", "Foods", "Engineering", "Insurance", "Media",
           "Robotics", "Pharma", "Energy", "Textiles", "Software"]  # fmt: skip
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip
CURRENCY = ["€", "£", "$"]

FILLER = [
    "Managers are responsible for applying this policy consistently within their teams.",
    "Questions about this policy can be raised with the People team through the HR portal.",
    "This policy is reviewed every year and may be amended after consultation with staff.",
    "Where local law grants more generous terms, the law takes precedence over this policy.",
    "Part-time employees receive the entitlements below on a pro-rata basis.",
    "Records are kept in the HR system in line with the data-retention schedule.",
]


def companies(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        stem = rng.choice(STEMS)
        for _ in range(rng.choice([1, 2, 2, 3])):
            name = f"{stem} {rng.choice(SECTORS)}"
            if name not in names and len(out) < count:
                names.add(name)
                out.append(name)
    return out


def _leave(rng: random.Random, c: str, pid: str) -> Draft:
    days = rng.randrange(20, 31)
    carry = rng.randrange(2, 11)
    month = rng.choice(MONTHS[:6])
    texts = [
        f"Policy {pid} (Annual leave), {c}. Full-time employees are entitled to {days} days of "
        f"paid annual leave per calendar year. Up to {carry} unused days may be carried over to "
        f"the following year and must be taken by the end of {month}; any other unused days lapse.",
        f"{c} annual leave policy ({pid}): every full-time employee receives {days} days of paid "
        f"leave a year. A maximum of {carry} days can be carried forward, to be used before "
        f"{month} ends.",
    ]
    qs = [
        Q(
            "lexical",
            f"How many days of annual leave do full-time employees get at {c}?",
            ("entity",),
        ),  # fmt: skip
        Q(
            "paraphrase",
            f"How much unused vacation can I roll over into next year at {c}?",
            ("entity",),
        ),  # fmt: skip
        Q(
            "paraphrase",
            f"Until when can {c} staff use holiday left over from last year?",
            ("entity",),
        ),  # fmt: skip
        Q("exact", f"What does policy {pid} say about carrying over days?", ("pid",)),
    ]
    return _draft(rng, c, pid, "leave", "Annual leave", texts, qs)


def _parental(rng: random.Random, c: str, pid: str) -> Draft:
    weeks = rng.randrange(12, 27)
    partner = rng.randrange(2, 9)
    pay = rng.choice([60, 70, 80, 90, 100])
    texts = [
        f"Policy {pid} (Parental leave), {c}. The primary caregiver may take {weeks} weeks of "
        f"parental leave at {pay}% of base salary. The other parent is entitled to {partner} "
        f"weeks of paid partner leave, to be taken within six months of the birth or adoption.",
        f"At {c}, birth and adoptive parents who are the main carer receive {weeks} weeks of "
        f"leave paid at {pay}% of salary ({pid}). Partners get {partner} weeks, usable in one "
        f"block or in separate weeks during the first six months.",
    ]
    qs = [
        Q("paraphrase", f"How much paid time off does a new father get at {c}?", ("entity",)),
        Q("paraphrase", f"How long is maternity leave at {c}, and is it fully paid?", ("entity",)),
        Q(
            "lexical",
            f"How many weeks of parental leave does the primary caregiver get at {c}?",
            ("entity",),
        ),  # fmt: skip
        Q(
            "descriptive",
            f"Which company gives main carers {weeks} weeks off on {pay}% pay and "
            f"partners {partner} weeks?",
            ("weeks", "pay", "partner"),
        ),  # fmt: skip
    ]
    facts = {"weeks": str(weeks), "pay": str(pay), "partner": str(partner)}
    return _draft(rng, c, pid, "parental", "Parental leave", texts, qs, facts)


def _remote(rng: random.Random, c: str, pid: str) -> Draft:
    days = rng.randrange(1, 5)
    stipend = rng.choice([150, 200, 250, 300, 400, 500, 600])
    cur = rng.choice(CURRENCY)
    core = rng.choice(["10:00 to 15:00", "9:30 to 14:30", "11:00 to 16:00", "10:00 to 16:00"])
    texts = [
        f"Policy {pid} (Remote work), {c}. Employees may work from home up to {days} days per "
        f"week with their manager's agreement. Core hours are {core}, when everyone must be "
        f"reachable. A one-off allowance of {cur}{stipend} is paid towards a home-office setup.",
        f"Hybrid working at {c} ({pid}): staff can work remotely for {days} days a week. "
        f"Colleagues must be available during core hours ({core}). New remote workers can claim {cur}{stipend} "
        f"for a desk, chair or monitor.",
    ]
    qs = [
        Q("paraphrase", f"How many days a week can I do home office at {c}?", ("entity",)),
        Q("paraphrase", f"Does {c} pay for furniture if I work from my flat?", ("entity",)),
        Q("lexical", f"What are the core hours for remote work at {c}?", ("entity",)),
        Q("exact", f"What allowance does policy {pid} pay?", ("pid",)),
    ]
    return _draft(rng, c, pid, "remote", "Remote work", texts, qs)


def _expenses(rng: random.Random, c: str, pid: str) -> Draft:
    meal = rng.choice([25, 30, 35, 40, 45, 50, 60])
    within = rng.choice([14, 30, 45, 60, 90])
    receipt = rng.choice([10, 15, 20, 25, 50])
    cur = rng.choice(CURRENCY)
    texts = [
        f"Policy {pid} (Business expenses), {c}. Meals while travelling are reimbursed up to "
        f"{cur}{meal} per day. Claims must be submitted within {within} days of the expense, "
        f"and itemised receipts are required for any single item above {cur}{receipt}.",
        f"Expense claims at {c} ({pid}) are paid back if filed within {within} days. The daily "
        f"meal limit on business trips is {cur}{meal}; keep receipts for anything over "
        f"{cur}{receipt}.",
    ]
    qs = [
        Q(
            "paraphrase",
            f"How much can I spend on food per day on a work trip for {c}?",
            ("entity",),
        ),  # fmt: skip
        Q(
            "paraphrase", f"What's the deadline for getting my costs paid back at {c}?", ("entity",)
        ),  # fmt: skip
        Q(
            "lexical",
            f"When are itemised receipts required for business expenses at {c}?",
            ("entity",),
        ),  # fmt: skip
        Q("exact", f"What is the meal limit in {pid}?", ("pid",)),
    ]
    return _draft(rng, c, pid, "expenses", "Business expenses", texts, qs)


def _sick(rng: random.Random, c: str, pid: str) -> Draft:
    note = rng.randrange(2, 8)
    paid = rng.randrange(5, 31)
    call = rng.choice(["9:00", "9:30", "10:00", "the start of the shift"])
    texts = [
        f"Policy {pid} (Sickness absence), {c}. Employees who are ill must inform their manager "
        f"by {call} on the first day. A doctor's certificate is needed from day {note} of "
        f"absence. Up to {paid} sick days per year are paid in full.",
        f"If you are unwell and cannot work ({c}, {pid}), call your manager before {call}. "
        f"A medical certificate is required once you have been off for {note} days. The company pays "
        f"{paid} sick days a year at full salary.",
    ]
    qs = [
        Q(
            "paraphrase",
            f"When do I need a note from the doctor if I'm off ill at {c}?",
            ("entity",),
        ),  # fmt: skip
        Q("paraphrase", f"How many days of illness per year does {c} pay for?", ("entity",)),
        Q(
            "lexical", f"By what time must sick employees inform their manager at {c}?", ("entity",)
        ),  # fmt: skip
        Q("exact", f"Under {pid}, from which day is a certificate required?", ("pid",)),
    ]
    return _draft(rng, c, pid, "sick", "Sickness absence", texts, qs)


def _notice(rng: random.Random, c: str, pid: str) -> Draft:
    probation = rng.choice([3, 4, 6])
    notice = rng.choice([2, 4, 6, 8, 12])
    notice_prob = rng.choice([1, 2])
    texts = [
        f"Policy {pid} (Probation and notice), {c}. New hires serve a probation period of "
        f"{probation} months, during which either side may end the contract with {notice_prob} "
        f"week(s) of notice. After probation the notice period is {notice} weeks.",
        f"{c}: the first {probation} months of employment are a probation period ({pid}). "
        f"Notice during probation is {notice_prob} week(s); afterwards employees and the company "
        f"must give {notice} weeks' notice to terminate.",
    ]
    qs = [
        Q(
            "paraphrase",
            f"If I want to quit {c}, how far in advance must I tell them?",
            ("entity",),
        ),  # fmt: skip
        Q("paraphrase", f"How long is the trial period for new starters at {c}?", ("entity",)),
        Q("lexical", f"What is the notice period during probation at {c}?", ("entity",)),
        Q("exact", f"How long is probation under policy {pid}?", ("pid",)),
    ]
    return _draft(rng, c, pid, "notice", "Probation and notice", texts, qs)


def _training(rng: random.Random, c: str, pid: str) -> Draft:
    budget = rng.choice([500, 750, 1000, 1200, 1500, 2000, 2500, 3000])
    cur = rng.choice(CURRENCY)
    days = rng.randrange(2, 8)
    repay = rng.choice([6, 12, 18, 24])
    texts = [
        f"Policy {pid} (Learning and development), {c}. Each employee has a training budget of "
        f"{cur}{budget} per year and {days} study days. Employees who leave within {repay} months "
        f"of a course costing more than half the budget repay its cost pro rata.",
        f"{c} supports professional development ({pid}): {cur}{budget} a year per person for "
        f"courses, books and conferences, plus {days} days of study leave. Leaving within "
        f"{repay} months of an expensive course means paying part of it back.",
    ]
    qs = [
        Q(
            "paraphrase",
            f"How much money does {c} give me for courses and conferences?",
            ("entity",),
        ),  # fmt: skip
        Q("paraphrase", f"Do I have to refund a course if I resign from {c}?", ("entity",)),
        Q("lexical", f"How many study days do employees get at {c}?", ("entity",)),
        Q(
            "descriptive",
            f"Which employer offers {cur}{budget} a year for professional "
            f"development and {days} days of study leave?",
            ("budget", "days"),
        ),  # fmt: skip
    ]
    facts = {"budget": f"{cur}{budget}", "days": str(days)}
    return _draft(rng, c, pid, "training", "Learning and development", texts, qs, facts)


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
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4)
    all_facts = {"entity": company, "pid": pid, **(facts or {})}
    return Draft(DOMAIN, aspect, f"{company}: {topic} ({pid})", text, all_facts, qs)


ASPECTS = (_leave, _parental, _remote, _expenses, _sick, _notice, _training)

GENERIC = [
    "Holiday requests should be entered in the HR portal at least two weeks in advance. "
    "Managers approve or decline within five working days.",
    "Travel booking guidance: book the cheapest reasonable fare, and get approval before "
    "booking any trip abroad. Keep all receipts for your expense claim.",
    "Working from home safely: set up your desk so that the screen is at eye level and take "
    "regular breaks. Report any equipment faults to IT.",
    "Absence management: repeated short absences are discussed in a return-to-work meeting. "
    "The aim is to support the employee, not to penalise illness.",
    "Leaving the company: your manager will arrange an exit interview and the return of "
    "equipment. Unused leave is paid out with the final salary.",
    "Family-friendly working: parents may request flexible hours or a reduced schedule. "
    "Requests are considered on their merits.",
]


def build(rng: random.Random, count: int = 60) -> list[Draft]:
    used: set[str] = set()
    drafts: list[Draft] = []
    for company in companies(rng, count):
        for aspect in rng.sample(ASPECTS, 6):
            pid = unique(rng, lambda r: f"HR-{r.randrange(100, 999)}", used)
            drafts.append(aspect(rng, company, pid))
    drafts += [Draft(DOMAIN, "generic", "HR guidance", text) for text in GENERIC]
    return drafts
