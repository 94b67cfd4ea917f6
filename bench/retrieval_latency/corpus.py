"""Seeded English passages (40–120 words) and questions about them, for the latency benchmark.

Each passage is made of template sentences about one topic (its own vocabulary), a place, an
organisation and a person drawn from generated proper names with a Zipf-like skew, so term
frequencies have a long tail as in real text: common words are everywhere, a place name is in a
few hundred chunks, a topic term in a few thousand. Documents have a dominant topic and place.
Questions are half keyword-style ("Dunmere reservoir sediment 2017") and half paraphrases
("What did residents of Dunmere say about the water supply?"), built from real passages' facts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

TOPICS: dict[str, tuple[str, ...]] = {
    "water supply": ("reservoir", "aquifer", "sediment", "pumping station", "water main",
                     "filtration", "chlorine", "leakage", "rainfall", "groundwater"),
    "public transport": ("tram line", "bus route", "timetable", "ridership", "fare", "depot",
                         "signalling", "rolling stock", "interchange", "commuters"),
    "school funding": ("curriculum", "teacher salaries", "enrolment", "classroom", "tuition",
                       "exam results", "school meals", "scholarship", "inspection", "pupils"),
    "healthcare": ("clinic", "waiting list", "vaccination", "nurses", "ambulance", "pharmacy",
                   "outpatient", "diagnosis", "hospital beds", "surgery"),
    "agriculture": ("harvest", "irrigation", "fertiliser", "livestock", "grain silo", "orchard",
                    "soil erosion", "crop yield", "pesticide", "dairy herd"),
    "housing": ("rent", "mortgage", "tenants", "social housing", "building permit", "landlord",
                "eviction", "insulation", "vacancy rate", "apartment block"),
    "energy": ("wind farm", "solar panels", "substation", "power grid", "turbine", "battery",
               "electricity tariff", "outage", "heat pump", "transmission line"),
    "fisheries": ("trawler", "fishing quota", "cod stock", "harbour", "fish market", "net",
                  "spawning ground", "catch limit", "shellfish", "fleet"),
    "archives": ("manuscript", "parish register", "catalogue", "digitisation", "microfilm",
                 "conservation", "charter", "ledger", "reading room", "provenance"),
    "elections": ("ballot", "turnout", "polling station", "candidate", "recount", "voter roll",
                  "campaign finance", "constituency", "referendum", "postal vote"),
    "road maintenance": ("pothole", "resurfacing", "asphalt", "traffic lights", "bridge deck",
                         "road closure", "speed limit", "roundabout", "gritting", "culvert"),
    "tourism": ("hotel occupancy", "visitor numbers", "guided tour", "campsite", "cruise ship",
                "heritage trail", "souvenir", "booking", "festival", "museum pass"),
    "public libraries": ("loan", "opening hours", "e-book", "reading club", "branch library",
                         "late fees", "children's corner", "archive request", "librarian",
                         "study room"),
    "waste management": ("recycling", "landfill", "compost", "collection round", "incinerator",
                         "fly-tipping", "bin", "sorting plant", "plastic waste", "glass bank"),
    "flood defence": ("levee", "flood barrier", "storm surge", "drainage", "sandbags",
                      "river gauge", "embankment", "floodplain", "sluice gate", "evacuation"),
    "policing": ("patrol", "burglary", "arrest", "crime statistics", "custody", "body camera",
                 "neighbourhood watch", "traffic offence", "detective", "emergency call"),
    "taxation": ("property tax", "tax relief", "audit", "revenue", "income tax", "tax return",
                 "exemption", "levy", "assessment", "arrears"),
    "mining": ("quarry", "mine shaft", "ore", "tailings", "blasting", "excavation", "copper",
               "coal seam", "ventilation", "mineral rights"),
    "telecommunications": ("broadband", "fibre cable", "mobile mast", "bandwidth", "coverage",
                           "data centre", "router", "latency", "spectrum licence", "outage map"),
    "wildlife": ("bird survey", "habitat", "nesting site", "deer population", "poaching",
                 "wetland", "otter", "migration route", "nature reserve", "invasive species"),
    "pensions": ("pension fund", "retirement age", "annuity", "contributions", "actuary",
                 "payout", "pension scheme", "beneficiaries", "deficit", "indexation"),
    "aviation": ("runway", "air traffic", "terminal", "flight delay", "cargo", "noise contour",
                 "landing fees", "hangar", "passenger numbers", "control tower"),
    "forestry": ("timber", "logging", "reforestation", "saplings", "bark beetle", "sawmill",
                 "canopy", "firebreak", "woodland", "felling licence"),
    "courts": ("verdict", "appeal", "jury", "magistrate", "sentencing", "court fees",
               "legal aid", "witness", "hearing", "backlog of cases"),
    "urban planning": ("zoning", "land use", "planning application", "green belt", "density",
                       "masterplan", "public square", "pedestrian zone", "setback",
                       "brownfield site"),
    "shipping": ("container terminal", "cargo ship", "dredging", "customs", "tonnage", "quay",
                 "freight rates", "pilotage", "berth", "port authority"),
    "climate research": ("temperature record", "ice core", "carbon dioxide", "weather station",
                         "precipitation", "emissions", "sea level", "climate model",
                         "heatwave", "drought index"),
    "culture": ("theatre", "orchestra", "exhibition", "art grant", "concert hall", "gallery",
                "sculpture", "film festival", "poetry prize", "choir"),
    "labour relations": ("strike", "wage agreement", "trade union", "overtime", "layoffs",
                         "collective bargaining", "shift pattern", "minimum wage",
                         "pay dispute", "workplace safety"),
    "food safety": ("hygiene rating", "food inspection", "salmonella", "recall", "allergen",
                    "cold storage", "slaughterhouse", "labelling", "contamination", "bakery"),
}  # fmt: skip
_ORG_KINDS = ("council", "water board", "transport authority", "health trust", "cooperative",
              "university", "planning office", "chamber of commerce", "regional agency",
              "archive service", "port company", "environment office")  # fmt: skip
_HEADS = ("Kor", "Mil", "Ash", "Bren", "Cal", "Dun", "El", "Fal", "Gar", "Hal", "Ist", "Jor",
          "Kel", "Lor", "Mar", "Nor", "Oak", "Pen", "Quin", "Ros", "Sel", "Tor", "Ul", "Val",
          "Wex", "Yar", "Zen", "Brae", "Cran", "Der")  # fmt: skip
_TAILS = ("brook", "ford", "haven", "vale", "ton", "mere", "wick", "stead", "holm", "ridge",
          "field", "port", "more", "dale", "gate", "by", "thorpe", "combe")  # fmt: skip
_GIVEN = ("Anna", "Ben", "Clara", "David", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas",
          "Karin", "Luis", "Maya", "Nils", "Olga", "Pavel", "Rosa", "Samir", "Tessa", "Viktor")  # fmt: skip
_SUR = ("ington", "ley", "son", "wood", "ridge", "man", "er", "sby", "well", "croft")
_VERBS = ("reviewed", "approved", "delayed", "expanded", "questioned", "funded", "repaired",
          "inspected", "replaced", "criticised", "postponed", "audited", "upgraded", "reduced",
          "extended", "suspended")  # fmt: skip
_ADJ = ("new", "ageing", "costly", "regional", "temporary", "disputed", "overdue", "modest",
        "ambitious", "seasonal", "emergency", "long-term", "controversial", "unexpected")  # fmt: skip
_GROUPS = ("residents", "farmers", "shop owners", "parents", "inspectors", "engineers",
           "local journalists", "councillors", "auditors", "volunteers")  # fmt: skip
_MONTHS = ("January", "March", "April", "June", "August", "October", "November", "December")
_FILLER = (
    "The minutes of the meeting were published a week later.",
    "Several members abstained from the vote.",
    "Officials declined to comment further.",
    "The figures were later revised upwards.",
    "A public consultation is planned for next year.",
    "Critics said the decision came too late.",
)

PLACES = [h + t for h in _HEADS for t in _TAILS]  # 540
PEOPLE = [f"{g} {h}{s}" for g in _GIVEN for h in _HEADS[:12] for s in _SUR[:5]]  # 1200


@dataclass(frozen=True)
class Passage:
    text: str
    topic: str
    place: str
    org: str
    person: str
    terms: tuple[str, ...]
    year: int


def _zipf_weights(n: int, s: float = 1.0) -> list[float]:
    return [1 / (i + 1) ** s for i in range(n)]


_PLACE_W = _zipf_weights(len(PLACES), 0.8)
_PERSON_W = _zipf_weights(len(PEOPLE), 0.6)


class Corpus:
    """`passage(i)` is the same text for the same (seed, i) whatever was generated before."""

    def __init__(self, seed: int = 20240611, docs: int = 100) -> None:
        self.seed = seed
        self.docs = docs
        topic_rng = random.Random(seed)
        topics = list(TOPICS)
        self.doc_topic = [topic_rng.choice(topics) for _ in range(docs)]
        self.doc_place = topic_rng.choices(PLACES, weights=_PLACE_W, k=docs)

    def passage(self, index: int, doc: int) -> Passage:
        rng = random.Random(f"{self.seed}:{index}")
        topic = self.doc_topic[doc] if rng.random() < 0.6 else rng.choice(list(TOPICS))
        place = (
            self.doc_place[doc] if rng.random() < 0.4 else rng.choices(PLACES, weights=_PLACE_W)[0]
        )
        org = f"{rng.choice(PLACES)} {rng.choice(_ORG_KINDS)}"
        person = rng.choices(PEOPLE, weights=_PERSON_W)[0]
        year = rng.randint(1961, 2024)
        vocab = TOPICS[topic]
        used: list[str] = []

        def term() -> str:
            word = rng.choice(vocab)
            used.append(word)
            return word

        def sentence() -> str:
            t = rng.randint(0, 11)
            n = rng.randint(3, 950)
            if t == 0:
                return (f"In {year}, the {org} {rng.choice(_VERBS)} the {term()} near {place} "
                        f"after {n} complaints about the {term()}.")  # fmt: skip
            if t == 1:
                return (f"{person}, who oversees {topic} for the {org}, said the {term()} would "
                        f"be {rng.choice(_VERBS)} by {rng.choice(_MONTHS)}.")  # fmt: skip
            if t == 2:
                return (f"The {rng.choice(_ADJ)} {term()} in {place} cost {n} thousand euros, "
                        f"about {rng.randint(2, 60)} percent more than planned.")  # fmt: skip
            if t == 3:
                return (f"{rng.choice(_GROUPS).capitalize()} in {place} asked whether the "
                        f"{term()} would affect the {term()}.")  # fmt: skip
            if t == 4:
                return (f"A report on the {term()} recommends that {place} review its "
                        f"{term()} before {year + rng.randint(1, 6)}.")  # fmt: skip
            if t == 5:
                return (f"Engineers found that the {term()} and the {term()} were linked to "
                        f"an {rng.choice(('unusual', 'earlier', 'ongoing'))} problem with "
                        f"the {term()}.")  # fmt: skip
            if t == 6:
                return (f"By {rng.choice(_MONTHS)} {year}, {n} {rng.choice(_GROUPS)} had "
                        f"signed a petition about the {term()}.")  # fmt: skip
            if t == 7:
                return (f"The {org} {rng.choice(_VERBS)} a {rng.choice(_ADJ)} plan for the "
                        f"{term()}, citing the {term()} figures from {year - rng.randint(1, 9)}.")  # fmt: skip
            if t == 8:
                return (f"According to {person}, the {term()} remains the main concern of "
                        f"{rng.choice(_GROUPS)} in {place}.")  # fmt: skip
            if t == 9:
                return (f"Spending on the {term()} rose to {n} thousand euros while the "
                        f"{term()} budget was {rng.choice(_VERBS)}.")  # fmt: skip
            if t == 10:
                return f"The {term()} was {rng.choice(_VERBS)} twice that year."
            return rng.choice(_FILLER)

        target = rng.randint(40, 120)
        sentences: list[str] = []
        words = 0
        while words < target:
            s = sentence()
            if words >= 40 and words + len(s.split()) > 120:
                break
            sentences.append(s)
            words += len(s.split())
        return Passage(" ".join(sentences), topic, place, org, person, tuple(used), year)


def questions(corpus: Corpus, passages: list[Passage], count: int, seed: int = 7) -> list[str]:
    """Half keyword-style, half paraphrases; each one is about a real passage's facts."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(count):
        p = passages[rng.randrange(len(passages))]
        terms = list(dict.fromkeys(p.terms)) or [p.topic]
        t1 = rng.choice(terms)
        t2 = rng.choice(terms)
        if i % 2 == 0:
            forms = [
                f"{p.place} {t1} {p.year}",
                f"{t1} {t2} {p.place}",
                f"{p.org} {t1}",
                f"{p.person} {p.topic}",
                f"{t1} cost overrun {p.place}",
            ]
        else:
            forms = [
                f"What did people in {p.place} say about the {t1}?",
                f"Why was the {t1} in {p.place} delayed or criticised?",
                f"How much money was spent on the {t1} and the {t2}?",
                f"Who is responsible for {p.topic} at the {p.org}?",
                f"What problems with {p.topic} were reported around {p.year}?",
                f"Is there a link between the {t1} and the {t2}?",
            ]
        out.append(rng.choice(forms))
    return out
