"""English animal facts: fictional species whose common names overlap heavily."""

from __future__ import annotations

import random

from bench.retrieval_quality.common import Draft, Q, pair, sentences, unique

DOMAIN = "animals"

COLOURS = ["amber", "ash", "copper", "dusky", "ember", "frost", "golden", "grey", "ivory",
           "olive", "rust", "slate", "sooty", "tawny", "violet"]  # fmt: skip
BODY = ["throated", "crested", "tailed", "winged", "backed", "bellied", "capped", "eyed"]
# common name, genus, class word, young, what it eats (passage, paraphrase) x several
ANIMALS: list[tuple[str, str, str, str, list[tuple[str, str]]]] = [
    ("shrike", "Lanius", "bird", "eggs", [("beetles and grasshoppers", "hard-shelled insects"),
        ("small lizards", "little reptiles"), ("berries in autumn", "fruit")]),
    ("warbler", "Sylvia", "bird", "eggs", [("caterpillars", "moth larvae"),
        ("aphids", "tiny sap-sucking bugs"), ("nectar", "the sugary liquid in flowers")]),
    ("tree frog", "Hyla", "amphibian", "eggs", [("mosquitoes", "biting flies"),
        ("ants", "small colony insects"), ("spiders", "eight-legged prey")]),
    ("pipistrelle", "Pipistrellus", "bat", "pups", [("midges", "tiny flying insects"),
        ("moths", "night-flying insects"), ("mayflies", "insects that hatch from rivers")]),
    ("marsh vole", "Microtus", "rodent", "young", [("sedge shoots", "marsh grasses"),
        ("roots and tubers", "underground plant parts"), ("seeds", "grain")]),
    ("skink", "Scincella", "lizard", "eggs", [("crickets", "chirping insects"),
        ("snails", "shelled molluscs"), ("termites", "wood-eating insects")]),
    ("loach", "Cobitis", "fish", "eggs", [("worm larvae", "grubs in the mud"),
        ("algae", "green slime on stones"), ("water fleas", "tiny crustaceans")]),
    ("hawk-moth", "Sphinx", "moth", "eggs", [("honeysuckle nectar", "sweet flower juice"),
        ("jasmine nectar", "the nectar of fragrant night flowers")]),
]  # fmt: skip
HABITATS = [("reed beds along slow rivers", "riverside reeds"),
            ("montane beech forest", "mountain woodland"), ("limestone scree", "rocky slopes"),
            ("coastal salt marsh", "marshes by the sea"), ("dry thorn scrub", "bushland"),
            ("upland peat bogs", "high moorland bogs"), ("old orchards and parks", "gardens with fruit trees")]  # fmt: skip
THREATS = [("drainage of wetlands", "marshes being drained"), ("pesticide use", "farm chemicals"),
           ("logging", "trees being cut down"), ("predation by feral cats", "stray cats"),
           ("road traffic", "cars"), ("climate warming", "rising temperatures")]  # fmt: skip
STATUS = ["Least Concern", "Near Threatened", "Vulnerable", "Endangered", "Critically Endangered"]
NESTS = [("in hollow trees", "inside tree cavities"), ("under loose bark", "beneath bark"),
         ("in burrows dug into banks", "in tunnels in riverbanks"),
         ("among dense reeds", "in thick reeds"), ("under flat stones", "beneath rocks"),
         ("on the undersides of leaves", "under leaves")]  # fmt: skip

FILLER = [
    "Field observations were collected by volunteers of the regional wildlife survey.",
    "Much remains unknown about this species, and estimates may change with new surveys.",
    "Like related species, it is most easily seen at dawn and dusk.",
    "Photographs should be taken from a distance to avoid disturbing the animals.",
    "Records from neighbouring provinces have not yet been confirmed.",
]

SYLLABLES = ["ve", "lor", "an", "tis", "mar", "qu", "ol", "dra", "sen", "ix", "ur", "bel"]


def species(rng: random.Random, count: int) -> list[tuple[str, str, tuple[str, ...]]]:
    """(common name, scientific name, animal entry); colours and body parts are reused."""
    names: set[str] = set()
    latin: set[str] = set()
    out: list[tuple[str, str, tuple[str, ...]]] = []
    while len(out) < count:
        animal = ANIMALS[rng.randrange(len(ANIMALS))]
        name = f"{rng.choice(COLOURS)}-{rng.choice(BODY)} {animal[0]}"
        if name in names:
            continue
        names.add(name)
        epithet = unique(
            rng, lambda r: "".join(r.sample(SYLLABLES, 3)) + r.choice(["ensis", "us", "ii"]), latin
        )
        out.append((name, f"{animal[1]} {epithet}", (animal[0],)))
    return out


def _animal(name: str) -> tuple[str, str, str, str, list[tuple[str, str]]]:
    return next(a for a in ANIMALS if name.endswith(a[0]))


def _diet(rng: random.Random, name: str, latin: str) -> Draft:
    kind = _animal(name)
    food, food_q = pair(rng, kind[4])
    when = rng.choice(["at night", "at dawn", "in the late afternoon", "throughout the day"])
    share = rng.randrange(40, 91)
    texts = [
        f"The {name} ({latin}) feeds mainly on {food}, which make up about {share}% of its diet. "
        f"It forages {when}, often returning to the same spots.",
        f"Diet: {food} account for roughly {share}% of what the {name} ({latin}) eats. This "
        f"{kind[2]} hunts {when}.",
    ]
    facts = {"food": food}
    qs = [
        Q("lexical", f"What does the {name} feed on?", ("entity",)),
        Q("paraphrase", f"What is the main food of the {name}?", ("entity",)),
        Q("exact", f"What does {latin} eat?", ("entity",)),
        Q("paraphrase", f"At what time of day does the {name} look for food?", ("entity",)),
    ]
    return _draft(rng, name, latin, "diet", "diet", texts, qs, facts)


def _habitat(rng: random.Random, name: str, latin: str) -> Draft:
    habitat, habitat_q = pair(rng, HABITATS)
    low = rng.randrange(0, 1500, 50)
    high = low + rng.randrange(200, 1200, 50)
    texts = [
        f"Habitat: the {name} lives in {habitat} between {low} and {high} m above sea level. "
        f"It avoids open farmland.",
        f"{latin}, the {name}, is found in {habitat}, at altitudes from {low} to {high} metres.",
    ]
    facts = {"habitat": habitat, "high": str(high)}
    qs = [
        Q("lexical", f"Where does the {name} live?", ("entity",)),
        Q("paraphrase", f"How high up in the mountains can you find the {name}?", ("entity",)),
        Q("exact", f"Which species lives up to {high} m in {habitat}?", ("high", "habitat")),
        Q(
            "descriptive",
            f"Which {kind_word(name)} is found in {habitat_q} up to {high} metres?",
            ("habitat", "high"),
        ),  # fmt: skip
    ]
    return _draft(rng, name, latin, "habitat", "habitat", texts, qs, facts)


def kind_word(name: str) -> str:
    return _animal(name)[2]


def _breeding(rng: random.Random, name: str, latin: str) -> Draft:
    kind = _animal(name)
    nest, nest_q = pair(rng, NESTS)
    clutch = rng.randrange(2, 9)
    month = rng.choice(["March", "April", "May", "June", "July"])
    days = rng.randrange(10, 35)
    texts = [
        f"Breeding of the {name}: mating starts in {month}. The female lays {clutch} {kind[3]} "
        f"{nest}, and they hatch after about {days} days.",
        f"The {name} breeds once a year from {month}. A typical clutch holds {clutch} {kind[3]}, "
        f"hidden {nest}; the young emerge after {days} days.",
    ]
    if kind[3] != "eggs":
        texts = [
            f"Breeding of the {name}: mating starts in {month}. Females give birth to {clutch} "
            f"{kind[3]} in roosts {nest} after a pregnancy of about {days} days.",
        ]
    facts = {"nest": nest, "clutch": str(clutch)}
    qs = [
        Q("lexical", f"When does the {name} breed?", ("entity",)),
        Q("paraphrase", f"How many babies does the {name} have at a time?", ("entity",)),
        Q("paraphrase", f"Where does the {name} raise its young?", ("entity",)),
        Q("descriptive", f"Which {kind[2]} rears {clutch} offspring {nest_q}?", ("nest", "clutch")),
    ]
    return _draft(rng, name, latin, "breeding", "breeding", texts, qs, facts)


def _size(rng: random.Random, name: str, latin: str) -> Draft:
    length = rng.randrange(3, 40)
    weight = rng.randrange(2, 400)
    years = rng.randrange(2, 21)
    texts = [
        f"The {name} measures about {length} cm from head to tail and weighs around {weight} g. "
        f"In the wild it lives up to {years} years.",
        f"Size and lifespan: adults of {latin} reach {length} cm and {weight} g. The oldest "
        f"recorded {name} was {years} years old.",
    ]
    facts = {"weight": str(weight), "length": str(length)}
    qs = [
        Q("paraphrase", f"How long does the {name} live?", ("entity",)),
        Q("paraphrase", f"How big does the {name} get?", ("entity",)),
        Q(
            "exact",
            f"Which species weighs around {weight} g and reaches {length} cm?",
            ("weight", "length"),
        ),  # fmt: skip
        Q("lexical", f"How much does the {name} weigh?", ("entity",)),
    ]
    return _draft(rng, name, latin, "size", "size and lifespan", texts, qs, facts)


def _conservation(rng: random.Random, name: str, latin: str) -> Draft:
    status = rng.choice(STATUS)
    population = rng.randrange(300, 60_000, 10)
    threat, threat_q = pair(rng, THREATS)
    texts = [
        f"Conservation: the {name} is listed as {status}. Surveys estimate {population:,} "
        f"mature individuals. The main threat is {threat}.",
        f"Status of {latin} ({name}): {status}, with roughly {population:,} adults left. "
        f"Numbers are falling mainly because of {threat}.",
    ]
    facts = {"population": f"{population:,}", "threat": threat}
    qs = [
        Q("lexical", f"What is the conservation status of the {name}?", ("entity",)),
        Q("paraphrase", f"Why is the {name} declining?", ("entity",)),
        Q(
            "exact",
            f"Which species has about {population:,} mature individuals left?",
            ("population",),
        ),  # fmt: skip
        Q("paraphrase", f"How rare is the {name} these days?", ("entity",)),
    ]
    return _draft(rng, name, latin, "conservation", "conservation", texts, qs, facts)


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
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4)
    return Draft(DOMAIN, aspect, f"{name} ({latin}): {topic}", text, {"entity": name, **facts}, qs)


GENERIC = [
    "Many small birds of the region feed on insects in summer and switch to berries in autumn.",
    "Wetland species have declined sharply since the drainage schemes of the last century.",
    "Bats roost in hollow trees and old buildings; all species are legally protected.",
    "Clutch sizes vary with food supply: in poor years many pairs lay fewer eggs.",
    "Lifespan records come from ringing studies and are usually far above the average.",
]


def build(rng: random.Random, count: int = 72) -> list[Draft]:
    aspects = (_diet, _habitat, _breeding, _size, _conservation)
    drafts = [
        aspect(rng, name, latin) for name, latin, _ in species(rng, count) for aspect in aspects
    ]
    drafts += [Draft(DOMAIN, "generic", "Wildlife notes", text) for text in GENERIC]
    return drafts
