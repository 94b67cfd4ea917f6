"""English city facts: fictional towns (many sharing a name stem) in fictional provinces."""

from __future__ import annotations

import random
import string

from bench.retrieval_quality.common import Draft, Q, pair, sentences, unique

DOMAIN = "cities"

HEADS = ["Var", "Quel", "Ost", "Bram", "Cal", "Dorn", "Ell", "Fen", "Gal", "Hal", "Isk", "Kor",
         "Lun", "Mar", "Nor", "Pell", "Rav", "Sel", "Tor", "Wyn", "Ald", "Brem"]  # fmt: skip
MIDS = ["", "ro", "en", "a", "is", "ow", "ing"]
TAILS = ["mere", "ford", "holm", "wick", "stad", "gate", "by", "dale", "haven", "port", "burg",
         "minster"]  # fmt: skip
PROVINCES = ["Estmark", "Valdoria", "Northreach", "Corrin", "Lowmoor", "Sarrant", "Ithel"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip
FOUNDERS = [("Cistercian monks", "an order of monks"), ("salt traders", "merchants dealing in salt"),
            ("a garrison of river guards", "soldiers guarding the river"),
            ("Flemish weavers", "cloth makers from Flanders"),
            ("herring fishermen", "a fishing community"), ("silver miners", "people mining for silver")]  # fmt: skip
DISASTERS = [("an earthquake", "the ground shook"), ("a great fire", "a blaze swept through"),
             ("a flood", "the river burst its banks"), ("an outbreak of plague", "disease killed many"),
             ("a siege", "an army surrounded the walls")]  # fmt: skip
INDUSTRIES = [("shipbuilding", "building ships"), ("glassmaking", "making glass"),
              ("wine production", "vineyards and winemaking"), ("software development", "tech companies"),
              ("textile mills", "cloth factories"), ("tourism", "visitors and hotels"),
              ("copper mining", "digging for copper"), ("paper manufacturing", "paper mills"),
              ("fish processing", "canning fish"), ("biotechnology", "life-science labs")]  # fmt: skip
LANDMARKS = [("cathedral", "church"), ("lighthouse", "beacon tower"), ("suspension bridge", "bridge"),
             ("clock tower", "tower with a clock"), ("opera house", "concert venue"),
             ("covered market hall", "indoor market")]  # fmt: skip
ARCHITECTS = ["Elias Brandt", "Maria Okonkwo", "Tomas Vell", "Ingrid Sorensen", "Paolo Vance",
              "Agnes Whitlow", "Kenji Arai", "Lucia Ferrand", "Oskar Lindqvist", "Hana Petrak"]  # fmt: skip
FESTIVALS = [("lantern festival", "paper lights are floated on the river", "people float lights on the water"),
             ("harvest fair", "farmers sell the season's produce", "a market for the year's crops"),
             ("kite festival", "hundreds of kites fill the sky", "people fly kites"),
             ("jazz week", "bands play in every square", "live music in the streets"),
             ("cheese market", "wheels of cheese are weighed in the square", "a fair for cheese"),
             ("boat race", "rowing crews race along the harbour", "a rowing competition")]  # fmt: skip

FILLER = [
    "Visitors are advised to book accommodation early in the summer months.",
    "The tourist office near the main square offers free maps and guided walks.",
    "Figures are taken from the most recent regional statistics yearbook.",
    "The surrounding countryside is popular with hikers and cyclists.",
    "Like many towns in the province, it has a well-preserved medieval core.",
    "Local museums are closed on Mondays outside the high season.",
]


def cities(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(name, province); stems repeat so that look-alike names exist."""
    names: set[str] = set()
    out: list[tuple[str, str]] = []
    while len(out) < count:
        head = rng.choice(HEADS) + rng.choice(MIDS)
        for tail in rng.sample(TAILS, rng.choice([1, 2, 2, 3])):
            name = head + tail
            if name not in names and len(out) < count:
                names.add(name)
                out.append((name, rng.choice(PROVINCES)))
    return out


def _history(rng: random.Random, city: str, prov: str, used: dict[str, set[str]]) -> Draft:
    founded = rng.randrange(900, 1650)
    founder, founder_q = pair(rng, FOUNDERS)
    disaster, disaster_q = pair(rng, DISASTERS)
    year = founded + rng.randrange(40, 350)
    texts = [
        f"{city} was founded around {founded} by {founder}, who settled on the banks of the river. "
        f"In {year} {disaster} destroyed much of the old town, which was rebuilt in stone over "
        f"the following decades.",
        f"History of {city} ({prov}): the first settlement was established by {founder} in about "
        f"{founded}. The town's darkest year was {year}, when {disaster} left most houses in ruins.",
    ]
    facts = {"founder": founder, "disaster": disaster, "year": str(year)}
    qs = [
        Q("lexical", f"Who founded {city}?", ("entity",)),
        Q("paraphrase", f"What catastrophe hit {city} and when?", ("entity",)),
        Q("exact", f"Which town was struck by disaster in {year}?", ("year",)),
        Q(
            "descriptive",
            f"Which town was started by {founder_q} and later wrecked when {disaster_q}?",
            ("founder", "disaster"),
        ),  # fmt: skip
    ]
    return _draft(rng, city, prov, "history", "history", texts, qs, facts)


def _climate(rng: random.Random, city: str, prov: str, used: dict[str, set[str]]) -> Draft:
    warm = rng.choice(MONTHS[5:8])
    temp = rng.randrange(16, 31)
    wet = rng.choice(MONTHS)
    rain = rng.randrange(380, 2200, 10)
    snow = rng.choice(["rarely sees snow", "gets snow most winters", "is snowbound for weeks"])
    texts = [
        f"Climate of {city}: the warmest month is {warm}, with an average high of {temp} °C. "
        f"Most precipitation falls in {wet}, and the annual total is about {rain} mm. The town "
        f"{snow}.",
        f"{city} has a temperate climate. Summers peak in {warm} at around {temp} °C on average; "
        f"{wet} is the wettest month, and yearly rainfall reaches roughly {rain} mm.",
    ]
    facts = {"rain": str(rain)}
    qs = [
        Q("paraphrase", f"When does it rain the most in {city}?", ("entity",)),
        Q("paraphrase", f"How hot does {city} get in summer?", ("entity",)),
        Q("lexical", f"What is the annual rainfall in {city}?", ("entity",)),
        Q("exact", f"Which town gets about {rain} mm of rain a year?", ("rain",)),
    ]
    return _draft(rng, city, prov, "climate", "climate", texts, qs, facts)


def _transport(rng: random.Random, city: str, prov: str, used: dict[str, set[str]]) -> Draft:
    iata = unique(rng, lambda r: "".join(r.choices(string.ascii_uppercase, k=3)), used["iata"])
    km = rng.randrange(4, 40)
    trams = rng.randrange(2, 12)
    minutes = rng.randrange(12, 55)
    texts = [
        f"Getting to {city}: the nearest airport ({iata}) lies {km} km from the centre, and a "
        f"shuttle bus covers the trip in about {minutes} minutes. Within town, {trams} tram lines "
        f"run from 5 a.m. until midnight.",
        f"Transport in {city}. {city} airport, code {iata}, is {km} km outside town; allow "
        f"{minutes} minutes by shuttle. The local network has {trams} tram lines.",
    ]
    facts = {"iata": iata}
    qs = [
        Q("exact", f"Which town is served by airport code {iata}?", ("iata",)),
        Q("lexical", f"What is the airport code of {city}?", ("entity",)),
        Q("paraphrase", f"How long is the ride from the airport into {city}?", ("entity",)),
        Q("paraphrase", f"How many tram routes does {city} have?", ("entity",)),
    ]
    return _draft(rng, city, prov, "transport", "transport", texts, qs, facts)


def _economy(rng: random.Random, city: str, prov: str, used: dict[str, set[str]]) -> Draft:
    population = rng.randrange(8_000, 900_000, 100)
    first, first_q = pair(rng, INDUSTRIES)
    second, _ = pair(rng, [i for i in INDUSTRIES if i[0] != first])
    rate = rng.randrange(25, 120) / 10
    texts = [
        f"{city} has a population of {population:,}. Its economy has long relied on {first}, "
        f"while {second} has grown in recent years. Unemployment stands at {rate}%.",
        f"Economy and population: {population:,} people live in {city}, {prov}. The largest "
        f"sector is {first}; {second} comes second. The jobless rate is {rate}%.",
    ]
    facts = {"first": first, "population": f"{population:,}"}
    qs = [
        Q("lexical", f"What is the population of {city}?", ("entity",)),
        Q("paraphrase", f"How do most people in {city} earn a living?", ("entity",)),
        Q("exact", f"Which town has {population:,} inhabitants?", ("population",)),
        Q("paraphrase", f"What share of people in {city} are out of work?", ("entity",)),
    ]
    return _draft(rng, city, prov, "economy", "economy", texts, qs, facts)


def _landmark(rng: random.Random, city: str, prov: str, used: dict[str, set[str]]) -> Draft:
    landmark, landmark_q = pair(rng, LANDMARKS)
    architect = rng.choice(ARCHITECTS)
    year = rng.randrange(1650, 2015)
    height = rng.randrange(18, 160)
    texts = [
        f"The {landmark} of {city}, designed by {architect} and completed in {year}, is the "
        f"town's best-known sight. It rises {height} metres and is open to visitors daily.",
        f"Sights in {city}: the {height}-metre {landmark} was built to plans by {architect} and "
        f"finished in {year}. Guided tours start every hour from the entrance.",
    ]
    facts = {"landmark": landmark, "architect": architect, "year": str(year)}
    qs = [
        Q("lexical", f"Who designed the {landmark} in {city}?", ("entity",)),
        Q("paraphrase", f"How tall is the famous {landmark_q} in {city}?", ("entity",)),
        Q(
            "exact", f"Which {landmark} did {architect} complete in {year}?", ("architect", "year")
        ),  # fmt: skip
        Q("paraphrase", f"When was {city}'s {landmark_q} finished?", ("entity",)),
    ]
    return _draft(rng, city, prov, "landmark", "landmarks", texts, qs, facts)


def _festival(rng: random.Random, city: str, prov: str, used: dict[str, set[str]]) -> Draft:
    name, what, what_q = FESTIVALS[rng.randrange(len(FESTIVALS))]
    month = rng.choice(MONTHS)
    since = rng.randrange(1700, 2000)
    texts = [
        f"Every {month}, {city} holds its {name}, when {what}. The tradition dates back to "
        f"{since} and draws visitors from across {prov}.",
        f"Festivals: the {city} {name} takes place in {month}. First held in {since}, it is the "
        f"night when {what}.",
    ]
    facts = {"festival": name, "month": month}
    qs = [
        Q("lexical", f"When is the {name} held in {city}?", ("entity",)),
        Q("paraphrase", f"What happens at {city}'s yearly celebration?", ("entity",)),
        Q(
            "descriptive",
            f"In which town is there a {month} event where {what_q}?",
            ("festival", "month"),
        ),  # fmt: skip
        Q("paraphrase", f"How old is the {name} tradition in {city}?", ("entity",)),
    ]
    return _draft(rng, city, prov, "festival", "festivals", texts, qs, facts)


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
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4)
    return Draft(DOMAIN, aspect, f"{city} ({prov}): {topic}", text, {"entity": city, **facts}, qs)


GENERIC = [
    "Regional travel: trains connect the provincial capitals every hour, and most towns have a "
    "bus link to the nearest airport.",
    "The province's climate is shaped by westerly winds that bring rain in autumn and winter.",
    "Many towns in the region were rebuilt in stone after fires and floods in the early modern "
    "period.",
    "Local festivals are listed in the provincial events calendar, published each January.",
    "Population figures for towns in the region have been stable for two decades.",
]


def build(rng: random.Random, count: int = 66) -> list[Draft]:
    used: dict[str, set[str]] = {"iata": set()}
    aspects = (_history, _climate, _transport, _economy, _landmark, _festival)
    drafts = [
        aspect(rng, city, prov, used) for city, prov in cities(rng, count) for aspect in aspects
    ]
    drafts += [Draft(DOMAIN, "generic", "Regional notes", text) for text in GENERIC]
    return drafts
