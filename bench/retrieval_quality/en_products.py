"""English product manuals: battery-powered devices in families of near-identical models."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from bench.retrieval_quality.common import Draft, Q, pair, sentences, unique

DOMAIN = "products"

# type, what the battery powers, parts as (manual wording, everyday wording)
TYPES: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("robot vacuum", "cleaning on carpet", [
        ("side brush", "spinning corner brush"), ("dust bin", "dirt container"),
        ("HEPA filter", "fine-dust filter"), ("main roller brush", "rotating brush bar")]),
    ("cordless drill", "continuous drilling", [
        ("keyless chuck", "bit holder"), ("carbon brushes", "motor brushes"),
        ("battery contacts", "charging terminals"), ("LED work light", "little lamp")]),
    ("e-bike", "pedal-assisted riding in eco mode", [
        ("brake pads", "brake shoes"), ("drive chain", "chain"),
        ("handlebar display", "screen on the handlebars"), ("rear hub motor", "back wheel motor")]),
    ("label printer", "continuous printing", [
        ("print head", "thermal head"), ("platen roller", "rubber feed roller"),
        ("cutter blade", "tape cutter"), ("label cassette", "tape cartridge")]),
    ("hedge trimmer", "cutting at full speed", [
        ("blade assembly", "cutting blades"), ("blade guard", "protective cover"),
        ("front handle", "forward grip"), ("debris shield", "clippings deflector")]),
    ("electric toothbrush", "brushing twice a day", [
        ("brush head", "bristle head"), ("charging base", "dock"),
        ("pressure sensor", "too-hard warning light"), ("drive shaft", "metal pin")]),
    ("portable speaker", "playback at half volume", [
        ("passive radiator", "bass membrane"), ("USB-C port", "charging socket"),
        ("carry strap", "lanyard"), ("control buttons", "keys on top")]),
    ("stick vacuum", "cleaning in standard power mode", [
        ("cyclone bin", "dust cup"), ("washable filter", "rinseable filter"),
        ("motorised floor head", "powered nozzle"), ("crevice tool", "narrow gap attachment")]),
]  # fmt: skip

BRANDS = ["Kestrel", "Ardent", "Novalux", "Bramble", "Quorra", "Tessar", "Halden", "Vireo",
          "Corvid", "Lumen", "Saltmarsh", "Ortega"]  # fmt: skip

FAULTS = [
    ("is jammed by debris", "is stuck", "Switch the unit off, remove the obstruction by hand and restart it"),
    ("is overheating", "is getting too hot", "Let the device cool down for at least 30 minutes before using it again"),
    ("is not seated correctly", "has come loose", "Take the part out and push it back until it clicks"),
    ("has worn beyond its service limit", "is worn out", "Fit a new one; the old part cannot be repaired"),
    ("has lost its connection to the main board", "is not connected", "Reconnect the ribbon cable or have the unit serviced"),
    ("reports an out-of-range reading", "is giving strange readings", "Clean the sensor window and run the calibration routine"),
    ("draws too much current", "is pulling too much power", "Stop using it immediately and send it in for inspection"),
]  # fmt: skip

INTERVALS = [("every week", "weekly"), ("every two weeks", "fortnightly"),
             ("once a month", "monthly"), ("every three months", "quarterly"),
             ("after every 20 hours of use", "after twenty hours of running"),
             ("every six months", "twice a year")]  # fmt: skip
AGENTS = [("a dry, soft brush", "a soft bristle brush"),
          ("lukewarm water and a drop of mild soap", "warm soapy water"),
          ("isopropyl alcohol on a lint-free cloth", "rubbing alcohol"),
          ("short bursts of compressed air", "an air duster"),
          ("a slightly damp microfibre cloth", "a wet rag")]  # fmt: skip
FORBIDDEN = [("put it in a dishwasher", "machine-wash"), ("use solvents such as acetone", "use harsh chemicals"),
             ("submerge the electronics", "dunk it in water"), ("dry it with a hair dryer", "blow-dry it"),
             ("lubricate it with cooking oil", "oil it")]  # fmt: skip
EXCLUSIONS = [("water damage", "damage from liquid spills"), ("cosmetic scratches", "surface scuffs"),
              ("consumables such as filters and brushes", "wear items"),
              ("damage caused by unauthorised repairs", "repairs done by a third-party shop"),
              ("commercial or rental use", "use in a business"),
              ("batteries older than 12 months", "an old battery")]  # fmt: skip
TOOLS = ["a Phillips PH1 screwdriver", "a 2.5 mm hex key", "a T10 Torx driver", "no tools",
         "the plastic lever included in the box", "a coin"]  # fmt: skip
SURFACES = ["a flat, dry floor", "a stable workbench", "a level shelf", "a hard, non-slip surface"]

FILLER = [
    "Read all safety instructions before first use and keep this manual for future reference.",
    "Use only original spare parts and accessories approved by the manufacturer.",
    "Lithium-ion batteries must not be exposed to temperatures above 45 °C.",
    "Keep the device out of the reach of children and pets while it is charging.",
    "Dispose of worn batteries at a certified collection point, never with household waste.",
    "Firmware updates may change the behaviour described in this section.",
    "If in doubt, contact an authorised service centre before opening the housing.",
    "The illustrations in this manual may differ slightly from your model.",
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
        return f"{self.brand} {self.code}"

    @property
    def full(self) -> str:
        return f"{self.brand} {self.code} {self.kind}"


def _stem(letters: str, rng: random.Random) -> str:
    return f"{letters}-{rng.randrange(10, 99)}0"


def products(rng: random.Random, families: int) -> list[Product]:
    """Model families: two or three models of one type sharing a brand and a code stem."""
    out: list[Product] = []
    stems: set[str] = set()
    for _ in range(families):
        brand = rng.choice(BRANDS)
        kind, activity, parts = rng.choice(TYPES)
        letters = brand[0] + rng.choice("KXSTVMRZ")
        stem = unique(rng, functools.partial(_stem, letters), stems)
        number = int(stem.split("-")[1])
        variants = [stem, f"{stem}S", f"{letters}-{number + 10}", f"{stem} Pro"]
        codes = variants[: rng.choice([2, 3, 3, 4])]
        for i, code in enumerate(codes):
            sibling = codes[(i + 1) % len(codes)]
            out.append(Product(brand, code, kind, activity, parts, f"{brand} {sibling}"))
    return out


def _battery(rng: random.Random, p: Product, used: dict[str, set[str]]) -> Draft:
    cap = rng.randrange(1200, 7000, 50)
    hours = rng.choice(["1.5", "2", "2.5", "3", "4", "5", "6", "8", "10", "12"])
    minutes = rng.randrange(60, 300, 15)
    watts = rng.choice([10, 18, 20, 25, 36, 45, 65])
    texts = [
        f"The {p.full} runs on a {cap} mAh lithium-ion battery. On a full charge it delivers "
        f"roughly {hours} hours of {p.activity}. Recharging from empty with the bundled {watts} W "
        f"adapter takes about {minutes} minutes; the status light turns solid green when done.",
        f"Battery and charging. A complete charge of the {p.full} takes around {minutes} minutes "
        f"with the {watts} W charger supplied in the box. Its {cap} mAh cell is rated for about "
        f"{hours} hours of {p.activity} before the low-battery warning appears.",
    ]
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4)
    facts = {"entity": p.short, "cap": str(cap)}
    qs = [
        Q("lexical", f"How long does it take to charge the {p.short} battery?", ("entity",)),
        Q("paraphrase", f"How many minutes until my {p.code} is topped up from flat?", ("entity",)),
        Q(
            "paraphrase",
            f"How long will the {p.short} keep going before it needs the plug again?",
            ("entity",),
        ),  # fmt: skip
        Q("exact", f"Which {p.kind} has a {cap} mAh battery?", ("cap",)),
    ]
    return Draft(DOMAIN, "battery", f"{p.full}: battery and charging", text, facts, qs)


def _error(rng: random.Random, p: Product, used: dict[str, set[str]]) -> Draft:
    code = unique(rng, lambda r: f"E{r.randrange(100, 999)}", used.setdefault("error", set()))
    part, part_q = pair(rng, [(a, b) for a, b in p.parts])
    fault, fault_q, remedy = FAULTS[rng.randrange(len(FAULTS))]
    restarts = rng.choice(["two", "three", "five"])
    texts = [
        f"Error {code} on the {p.full} means the {part} {fault}. {remedy}. If {code} appears "
        f"again after {restarts} restarts, contact customer service.",
        f"Troubleshooting the {p.short}: when the display shows {code}, the {part} {fault}. "
        f"{remedy}. Repeated {code} messages (more than {restarts} in a day) need a technician.",
    ]
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.3)
    facts = {"entity": p.short, "code": code, "part": part, "fault": fault}
    qs = [
        Q("exact", f"What does error {code} mean?", ("code",)),
        Q("exact", f"My {p.code} shows {code}. What should I do?", ("code",)),
        Q(
            "paraphrase",
            f"What is wrong with my {p.short} when the {part_q} {fault_q}?",
            ("entity", "part", "fault"),
        ),  # fmt: skip
        Q(
            "descriptive",
            f"Which {p.kind} error code says the {part_q} {fault_q}?",
            ("part", "fault"),
        ),  # fmt: skip
    ]
    return Draft(DOMAIN, "error", f"{p.full}: error {code}", text, facts, qs)


def _cleaning(rng: random.Random, p: Product, used: dict[str, set[str]]) -> Draft:
    part, part_q = pair(rng, p.parts)
    interval, interval_q = pair(rng, INTERVALS)
    agent, agent_q = pair(rng, AGENTS)
    forbidden, forbidden_q = pair(rng, FORBIDDEN)
    texts = [
        f"Maintenance of the {p.full}: clean the {part} {interval} using {agent}. Never "
        f"{forbidden}, as this damages the seals. Let every part dry completely before reassembly.",
        f"To keep the {p.short} working well, the {part} should be cleaned {interval}. "
        f"{agent[0].upper()}{agent[1:]} is all you need; do not {forbidden}.",
    ]
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4)
    facts = {"entity": p.short, "part": part, "interval": interval, "agent": agent}
    qs = [
        Q(
            "lexical",
            f"How often should the {part} of the {p.short} be cleaned?",
            ("entity", "part"),
        ),  # fmt: skip
        Q(
            "paraphrase",
            f"How frequently do I need to wash the {part_q} on my {p.code}?",
            ("entity", "part"),
        ),  # fmt: skip
        Q("paraphrase", f"Can I {forbidden_q} the {part_q} of the {p.short}?", ("entity", "part")),
        Q(
            "descriptive",
            f"For which {p.kind} should the {part_q} be cleaned {interval_q} with {agent_q}?",
            ("part", "interval", "agent"),
        ),  # fmt: skip
    ]
    return Draft(DOMAIN, "cleaning", f"{p.full}: cleaning the {part}", text, facts, qs)


def _warranty(rng: random.Random, p: Product, used: dict[str, set[str]]) -> Draft:
    years = rng.choice(["one", "two", "three", "five"])
    days = rng.choice([14, 28, 30, 60, 90])
    exclusion, exclusion_q = pair(rng, EXCLUSIONS)
    texts = [
        f"The {p.full} carries a {years}-year limited warranty from the date of purchase. "
        f"Register the product within {days} days to extend coverage by twelve months. "
        f"The warranty does not cover {exclusion}.",
        f"Warranty terms for the {p.short}: {years} years of cover against manufacturing "
        f"defects, provided the product is registered within {days} days of purchase. "
        f"Excluded: {exclusion}.",
    ]
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.3)
    facts = {"entity": p.short, "exclusion": exclusion, "days": str(days)}
    qs = [
        Q("lexical", f"What does the {p.short} warranty not cover?", ("entity",)),
        Q("paraphrase", f"How long is the {p.code} guaranteed for?", ("entity",)),
        Q(
            "paraphrase",
            f"Is {exclusion_q} covered by the guarantee on the {p.short}?",
            ("entity",),
        ),  # fmt: skip
        Q(
            "paraphrase",
            f"By when do I have to sign up my new {p.short} to get extra cover?",
            ("entity",),
        ),  # fmt: skip
    ]
    return Draft(DOMAIN, "warranty", f"{p.full}: warranty", text, facts, qs)


def _parts(rng: random.Random, p: Product, used: dict[str, set[str]]) -> Draft:
    part, part_q = pair(rng, p.parts)
    prefix = p.code.split("-")[0]
    pn = unique(
        rng,
        lambda r: f"{prefix}-{r.randrange(1000, 9999)}-{r.choice('ABCDEFGH')}",
        used.setdefault("pn", set()),
    )
    minutes = rng.choice([5, 10, 15, 20, 30])
    tool = rng.choice(TOOLS)
    texts = [
        f"Spare parts for the {p.full}: the replacement {part} is ordered as part number {pn}. "
        f"It is not interchangeable with the part used in the {p.sibling}. Fitting takes about "
        f"{minutes} minutes and needs {tool}.",
        f"Replacing the {part} on the {p.short}. Order part {pn} from an authorised dealer "
        f"(the {p.sibling} uses a different one). Allow {minutes} minutes; you will need {tool}.",
    ]
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.3)
    facts = {"entity": p.short, "part": part, "pn": pn}
    qs = [
        Q("exact", f"Which model is part number {pn} for?", ("pn",)),
        Q("exact", f"What tool do I need to fit {pn}?", ("pn",)),
        Q(
            "lexical",
            f"What is the part number of the replacement {part} for the {p.short}?",
            ("entity", "part"),
        ),  # fmt: skip
        Q(
            "paraphrase",
            f"I need a new {part_q} for my {p.code}; what do I order?",
            ("entity", "part"),
        ),  # fmt: skip
    ]
    return Draft(DOMAIN, "parts", f"{p.full}: spare {part}", text, facts, qs)


def _setup(rng: random.Random, p: Product, used: dict[str, set[str]]) -> Draft:
    cm = rng.choice([5, 10, 15, 20, 30, 50])
    kg = f"{rng.randrange(4, 95) / 10:.1f}" if p.kind != "e-bike" else str(rng.randrange(18, 29))
    db = rng.randrange(38, 92)
    surface = rng.choice(SURFACES)
    texts = [
        f"Setting up the {p.full}: place it on {surface} with at least {cm} cm of clearance on "
        f"every side. The unit weighs {kg} kg and produces about {db} dB at its highest setting.",
        f"Technical data, {p.short}: weight {kg} kg; noise level {db} dB(A) at maximum power. "
        f"Store and charge it on {surface}, keeping {cm} cm free around the vents.",
    ]
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4)
    facts = {"entity": p.short, "kg": kg, "db": str(db)}
    qs = [
        Q("paraphrase", f"How loud is the {p.short} when running flat out?", ("entity",)),
        Q("paraphrase", f"How heavy is the {p.code}?", ("entity",)),
        Q("paraphrase", f"How much room should I leave around my {p.short}?", ("entity",)),
        Q("exact", f"Which {p.kind} weighs {kg} kg?", ("kg",)),
    ]
    return Draft(DOMAIN, "setup", f"{p.full}: installation and technical data", text, facts, qs)


GENERIC = [
    "Charging tips: charge lithium-ion batteries at room temperature and unplug the charger once "
    "the indicator turns green. Storing a battery fully charged for months shortens its life.",
    "General cleaning advice: switch the device off and unplug it before cleaning. Filters and "
    "brushes are consumables; replace them when they no longer come clean.",
    "About error codes: most error messages clear after a restart. Write down the code before "
    "calling support, together with the serial number on the rating plate.",
    "Warranty claims must include proof of purchase. Products bought second-hand are covered "
    "only for the remainder of the original period.",
    "Spare parts can be ordered online or through an authorised dealer. Always quote the full "
    "part number printed in the parts list.",
    "Noise levels are measured at one metre in a quiet room. Actual noise depends on the surface "
    "and the power setting.",
]


def build(rng: random.Random, families: int = 28) -> list[Draft]:
    used: dict[str, set[str]] = {}
    drafts = [
        aspect(rng, p, used)
        for p in products(rng, families)
        for aspect in (_battery, _error, _cleaning, _warranty, _parts, _setup)
    ]
    drafts += [Draft(DOMAIN, "generic", "General guidance", text) for text in GENERIC]
    return drafts
