"""A small two-hop corpus: sixteen chains "thing → maker → answer", facts split across files.

A chain's first fact ("The MV Petrel was built by Harland Yard.") opens a paragraph of a
catalogue file; its second fact, about the maker, opens a paragraph of a register file, with the
maker's name spelled slightly differently in a good half of the chains (a plural "s", a space,
an apostrophe, a hyphen, the case of a letter: "Harland Yards was founded by Greta Lind.").
Each paragraph (one chunk) goes on with two sentences of its kind's vocabulary and no names.

A question names the thing (sometimes shortened) and asks for the answer through the maker,
never naming the maker or the answer: "Who founded the shipyard that built the MV Petrel?".
Chains come in pairs that ask the same second-hop relation ("founded by", "based in"…), so the
second chunk cannot be told from its twin by the question's words: it takes the bridge.
"""

from __future__ import annotations

from dataclasses import dataclass

# kind -> two filler sentences (no capitalised names) for the first-hop paragraph.
THING_FILLER: dict[str, str] = {
    "ship": "Its hull is painted dark blue and it carries two lifeboats. The crew keep a log "
    "of every crossing and every repair.",
    "book": "It runs to some four hundred pages and was reprinted twice. Reviewers praised "
    "its careful prose and its maps.",
    "bridge": "It spans the river in three arches of dressed stone. The deck carries two lanes "
    "and a footpath on each side.",
    "painting": "It is oil on canvas and hangs in the east gallery. The colours were restored "
    "after a flood damaged the frame.",
    "software": "It is released under a permissive licence and runs on most systems. Its "
    "manual explains every command with an example.",
    "ferry": "It carries cars and foot passengers and sails in most weather. Tickets are sold "
    "on the quay before boarding.",
    "album": "It holds eleven songs recorded over three weeks. The sleeve shows a photograph "
    "of the sea at low water.",
    "probe": "It weighs some four hundred kilograms and runs on solar power. Its instruments "
    "measure dust, light and magnetic fields.",
}
# second-hop relation -> two filler sentences for the register paragraph.
MAKER_FILLER: dict[str, str] = {
    "founded": "The firm keeps its early ledgers in a fireproof room. Staff still use the "
    "workshop of the first years.",
    "based": "Its offices fill two floors above a row of shops. Visitors are welcome on "
    "weekdays by appointment.",
    "studied": "The engineer later taught a course on load and stress. Students remember the "
    "long drawings pinned to every wall.",
    "trained": "The architect drew by hand all through a long career. Sketchbooks from those "
    "years are kept in an archive.",
    "born": "The painter worked mostly in small formats and bright colours. Exhibitions of "
    "the work toured for many years.",
    "acquired": "The studio released tools for programmers for many years. Its support forum "
    "is still read by thousands of users.",
    "headquartered": "The operator runs a fleet of small vessels on island routes. Timetables "
    "change with the seasons and the tides.",
    "opened": "The studio has a large live room and a vintage mixing desk. Bands book it "
    "months ahead for the acoustics.",
    "funded": "The agency publishes its budget each spring. Its engineers work from a control "
    "room that never closes.",
}


@dataclass(frozen=True)
class Chain:
    kind: str  # THING_FILLER key
    hop1: str  # first fact, naming the thing and the maker (as spelled here)
    maker: tuple[str, ...]  # the maker's spellings: as in hop1, then as in hop2 when different
    relation: str  # MAKER_FILLER key
    hop2: str  # second fact, naming the maker (second spelling) and the answer
    answer: str
    question: str


CHAINS: list[Chain] = [
    Chain(
        "ship",
        "The MV Petrel was built by Harland Yard.",
        ("Harland Yard", "Harland Yards"),
        "founded",
        "Harland Yards was founded by Greta Lind.",
        "Greta Lind",
        "Who founded the shipyard that built the MV Petrel?",
    ),
    Chain(
        "ship",
        "The MV Fulmar was built by McCorran Works.",
        ("McCorran Works", "Mccorran Works"),
        "founded",
        "Mccorran Works was founded by Piet Ansel.",
        "Piet Ansel",
        "Who founded the yard that built the Fulmar?",
    ),
    Chain(
        "book",
        "The novel Salt Orchard was published by O'Hara Press.",
        ("O'Hara Press", "OHara Press"),
        "based",
        "OHara Press is based in Galway.",
        "Galway",
        "In which city is the publisher of the novel Salt Orchard based?",
    ),
    Chain(
        "book",
        "The novel Winter Ledger was published by Greyfield Books.",
        ("Greyfield Books", "Greyfield Book"),
        "based",
        "Greyfield Book is based in Dundee.",
        "Dundee",
        "Where is the publisher of Winter Ledger based?",
    ),
    Chain(
        "bridge",
        "The Tolland Bridge was designed by Mary Ann Holt.",
        ("Mary Ann Holt", "Maryann Holt"),
        "studied",
        "Maryann Holt studied engineering at Lund University.",
        "Lund University",
        "Where did the engineer who designed the Tolland Bridge study?",
    ),
    Chain(
        "bridge",
        "The Ashby Bridge was designed by Tomas Brenner.",
        ("Tomas Brenner",),
        "studied",
        "Tomas Brenner studied engineering at Delft University.",
        "Delft University",
        "At which university did the designer of the Ashby Bridge study engineering?",
    ),
    Chain(
        "bridge",
        "The Corvid Tower was designed by Jean Luc Marchand.",
        ("Jean Luc Marchand", "Jean-Luc Marchand"),
        "trained",
        "Jean-Luc Marchand was trained by Oskar Brandt.",
        "Oskar Brandt",
        "Who trained the architect of the Corvid Tower?",
    ),
    Chain(
        "bridge",
        "The Selby Hall was designed by Nadia Rahimi.",
        ("Nadia Rahimi",),
        "trained",
        "Nadia Rahimi was trained by Hugo Lindqvist.",
        "Hugo Lindqvist",
        "Who trained the architect who designed Selby Hall?",
    ),
    Chain(
        "painting",
        "The painting Blue Heron was painted by Lena Okafor.",
        ("Lena Okafor", "Lena OKafor"),
        "born",
        "Lena OKafor was born in Accra.",
        "Accra",
        "Where was the painter of Blue Heron born?",
    ),
    Chain(
        "painting",
        "The painting Red Quarry was painted by Ivo Sandor.",
        ("Ivo Sandor",),
        "born",
        "Ivo Sandor was born in Szeged.",
        "Szeged",
        "In which town was the painter of the painting Red Quarry born?",
    ),
    Chain(
        "software",
        "The Quill Editor was written by Northgate Labs.",
        ("Northgate Labs", "North Gate Labs"),
        "acquired",
        "North Gate Labs was acquired by Meridian Group.",
        "Meridian Group",
        "Which company acquired the makers of the Quill Editor?",
    ),
    Chain(
        "software",
        "The Lark Compiler was written by Brightwater Studios.",
        ("Brightwater Studios", "Brightwater Studio"),
        "acquired",
        "Brightwater Studio was acquired by Halden Corporation.",
        "Halden Corporation",
        "Who acquired the company that wrote the Lark Compiler?",
    ),
    Chain(
        "ferry",
        "The ferry Kittiwake is operated by Sound Link Ferries.",
        ("Sound Link Ferries", "Soundlink Ferries"),
        "headquartered",
        "Soundlink Ferries is headquartered in Kirkwall.",
        "Kirkwall",
        "Where is the operator of the ferry Kittiwake headquartered?",
    ),
    Chain(
        "ferry",
        "The ferry Guillemot is operated by Westray Shipping.",
        ("Westray Shipping",),
        "headquartered",
        "Westray Shipping is headquartered in Lerwick.",
        "Lerwick",
        "In which town is the company that operates the Guillemot headquartered?",
    ),
    Chain(
        "album",
        "The album Low Tide was recorded at Fenwick Studios.",
        ("Fenwick Studios", "Fenwick Studio"),
        "opened",
        "Fenwick Studio was opened by Ruth Calder.",
        "Ruth Calder",
        "Who opened the studio where the album Low Tide was recorded?",
    ),
    Chain(
        "probe",
        "The Kestrel Probe was launched by the Varen Space Agency.",
        ("Varen Space Agency",),
        "funded",
        "The Varen Space Agency is funded by the Aster Council.",
        "Aster Council",
        "Which council funds the agency that launched the Kestrel Probe?",
    ),
]


def documents() -> dict[str, str]:
    """Four files: two catalogues with the first facts, two registers with the second facts;
    a chain's two facts are never in the same file."""
    files: dict[str, list[str]] = {
        "catalogue-a.txt": [],
        "catalogue-b.txt": [],
        "register-a.txt": [],
        "register-b.txt": [],
    }
    for index, chain in enumerate(CHAINS):
        side = "ab"[index % 2]
        other = "ab"[(index // 2) % 2]
        files[f"catalogue-{side}.txt"].append(f"{chain.hop1} {THING_FILLER[chain.kind]}")
        files[f"register-{other}.txt"].append(f"{chain.hop2} {MAKER_FILLER[chain.relation]}")
    return {name: "\n".join(paras) for name, paras in files.items()}


@dataclass(frozen=True)
class Question:
    text: str
    # Each fact is found when any of its spellings is in the text: the bridge, then the answer.
    facts: tuple[tuple[str, ...], tuple[str, ...]]


def questions() -> list[Question]:
    return [Question(c.question, (c.maker, (c.answer,))) for c in CHAINS]
