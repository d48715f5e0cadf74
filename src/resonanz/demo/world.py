"""The fictional world of the demo: one German mobility company, two competitors, places and people.

Every name here is invented for the demo. Every URL uses a reserved ``.example`` domain
(RFC 2606), so nothing in the demo can ever point at a real site or person.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_MARK = "DEMO DATA"
#: Prefix of every demo source name and author handle, so demo rows are recognisable anywhere.
DEMO_PREFIX = "demo-"
#: Ends the name of every author in the demo feeds (feed authors have names, not handles).
DEMO_AUTHOR_SUFFIX = "(Demo)"


@dataclass(frozen=True)
class Company:
    key: str
    name: str
    short: str
    app: str
    service: str
    subscription: str
    scooter: str
    hashtag: str
    domain: str


OWN = Company(
    key="nordwelle",
    name="Nordwelle Mobil",
    short="Nordwelle",
    app="NordwelleGo",
    service="Nordwelle Kundenservice",
    subscription="WelleAbo 49",
    scooter="Wusel",
    hashtag="#Nordwelle",
    domain="nordwelle.example",
)
COMPETITORS = (
    Company(
        key="rheinkurve",
        name="Rheinkurve Bahn",
        short="Rheinkurve",
        app="Rheinkurve App",
        service="Rheinkurve Service",
        subscription="KurveFlat",
        scooter="Kurvenroller",
        hashtag="#Rheinkurve",
        domain="rheinkurve.example",
    ),
    Company(
        key="alpenblitz",
        name="Alpenblitz Mobility",
        short="Alpenblitz",
        app="Blitz App",
        service="Alpenblitz Hotline",
        subscription="BlitzPass",
        scooter="Blitzer",
        hashtag="#Alpenblitz",
        domain="alpenblitz.example",
    ),
)

CRISIS_HASHTAG = "#NordwelleDown"

CITIES = (
    "Hamburg", "Bremen", "Kiel", "Lübeck", "Hannover", "Rostock", "Oldenburg", "Flensburg", "Lüneburg",
    "Osnabrück", "Schwerin", "Cuxhaven", "Neumünster", "Wilhelmshaven", "Stade",
)  # fmt: skip
LINES = ("RE 1", "RE 4", "RE 7", "RB 31", "RB 42", "S1", "S3", "S21", "IC 2170", "Linie 5", "Bus 112", "Nachtbus N8")

FIRST_NAMES_DE = (
    "Lena", "Jonas", "Mia", "Lukas", "Hannah", "Felix", "Emma", "Paul", "Sophie", "Ben", "Marie", "Tim",
    "Laura", "Jan", "Sarah", "Niklas", "Julia", "Finn", "Anna", "Moritz", "Greta", "Ole", "Frieda", "Hauke",
    "Jürgen", "Sabine", "Uwe", "Birgit", "Dieter", "Petra", "Ayşe", "Mehmet", "Katarzyna", "Dimitri",
)  # fmt: skip
FIRST_NAMES_EN = (
    "Oliver", "Amelia", "Jack", "Isla", "Harry", "Ava", "George", "Emily", "Noah", "Grace", "Liam", "Chloe",
)  # fmt: skip
LAST_INITIALS = "ABCDEFGHJKLMNPRSTVWZ"

#: Accounts with many followers whose posts reach far (handle, name, followers, language).
INFLUENCERS = (
    ("pendlerpeter", "Peter Pendler", 184_000, "de"),
    ("nordreporter", "Nord Reporter", 412_000, "de"),
    ("bahnblog_kim", "Kim vom Bahnblog", 96_000, "de"),
    ("mobility_maven", "Mobility Maven", 250_000, "en"),
    ("verbraucherlotse", "Verbraucherlotse", 133_000, "de"),
    ("techcheck_anna", "TechCheck Anna", 75_000, "de"),
)

NEWS_OUTLETS = (
    ("nordkurier", "Nordküste Kurier", "de"),
    ("hafenblatt", "Hafenblatt", "de"),
    ("mobilitywire", "Mobility Wire", "en"),
)
