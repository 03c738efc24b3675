"""Every number that makes the demo data reproduce `figures.md`, in one place.

Police (scale 1, accepted data, latest version of each quarter):
- 2024 aangiften per delictsvorm (MO-first rule of `taxonomy.md`): aan- en verkoopfraude
  5 503 (EUR 1 350 000), beleggingsfraude 284 (EUR 5 600 000), bankhelpdeskfraude 1 104
  (EUR 4 300 000); together 6 891 aangiften and EUR 11 250 000.
- Trend 2023 -> 2024 in the registered series (all registrations): the 2024 totals of
  cybercrime, gedigitaliseerd and fraude totaal are derived from the 2023 plan by
  :data:`TREND_TARGETS` and reached by one *balancing* cell per series (see
  :data:`BALANCING`), so any change to the volumes below keeps the trends exact.
- Before 2024 (MK2019) labels are set by hand afterwards: part of the online fraud is labelled
  `cybercrime` and part is never labelled (`onbekend`); :data:`MK2019_LABELS`.
- Instroom to the OM (doorgestuurd_om = J, cybercrime + gedigitaliseerd) in 2025 is
  :data:`INSTROOM_GROEI_2025` times 2024: above 2024 but behind the +10% target.

Veiligheidsmonitor and programme registrations are calibrated at the end of this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

YEARS: tuple[int, ...] = (2022, 2023, 2024, 2025)
CLASSIFICATION_CHANGE_YEAR = 2024  # MK2019 before, MK2024 from 1 January 2024
QUARTER_WEIGHTS: tuple[float, ...] = (0.24, 0.24, 0.25, 0.27)  # slight rise towards year end

# Age profiles (0-17, 18-24, 25-44, 45-64, 65+): seniors in helpdesk fraud, young people in
# marketplace fraud and sextortion.
AGE_CLASSES: tuple[str, ...] = ("0-17", "18-24", "25-44", "45-64", "65+")
AGE_PROFILES: dict[str, tuple[float, ...]] = {
    "algemeen": (0.04, 0.14, 0.36, 0.28, 0.18),
    "jong_handel": (0.09, 0.30, 0.37, 0.17, 0.07),
    "senioren": (0.01, 0.03, 0.11, 0.28, 0.57),
    "jong_seksueel": (0.38, 0.37, 0.18, 0.05, 0.02),
    "beleggen": (0.00, 0.06, 0.30, 0.38, 0.26),
    "dating": (0.00, 0.05, 0.25, 0.40, 0.30),
}


@dataclass(frozen=True)
class PoliceForm:
    """One kind of police registration: MO + class, with how its victims and damage look."""

    key: str
    modus_operandi: str
    klasse: str
    aard: str  # online_fraude | online_overig | cyber | offline_fraude | offline_overig
    gem_schade_aangifte: float  # mean damage (EUR) of an aangifte with damage
    gem_schade_melding: float
    zonder_schade: float  # share of rows without a damage amount (NULL)
    spreiding: float  # sigma of the lognormal damage: heavy tail
    leeftijd: str  # key of AGE_PROFILES
    organisatie: float  # share of organisations as victim
    verdachte_bekend: float


F = PoliceForm
POLICE_FORMS: tuple[PoliceForm, ...] = (
    F("av_marktplaats", "marktplaats", "F636", "online_fraude", 230, 150, 0.0, 1.0, "jong_handel", 0.02, 0.35),
    F("av_webwinkel", "webwinkel", "F636", "online_fraude", 280, 180, 0.0, 1.0, "jong_handel", 0.04, 0.15),
    F("av_overig", "overig", "F636", "online_fraude", 300, 200, 0.0, 1.0, "jong_handel", 0.05, 0.10),
    F("beleggen", "beleggen", "F639", "online_fraude", 19_700, 12_000, 0.0, 1.4, "beleggen", 0.03, 0.05),
    F("helpdesk", "helpdesk", "F600", "online_fraude", 3_900, 2_500, 0.0, 1.1, "senioren", 0.01, 0.06),
    F("phishing", "phishing", "F614", "online_fraude", 1_500, 900, 0.05, 1.1, "algemeen", 0.05, 0.05),
    F("vriend_in_nood", "whatsapp", "F600", "online_fraude", 2_200, 1_400, 0.05, 0.9, "senioren", 0.0, 0.05),
    F("dating", "dating", "F600", "online_fraude", 8_000, 5_000, 0.05, 1.3, "dating", 0.0, 0.08),
    F("voorschot", "voorschot", "F637", "online_fraude", 1_500, 800, 0.05, 1.1, "algemeen", 0.03, 0.10),
    F("identiteit", "identiteit", "F617", "online_fraude", 800, 400, 0.3, 1.0, "algemeen", 0.05, 0.10),
    F("factuur", "factuur", "F620", "online_fraude", 9_000, 5_000, 0.05, 1.3, "algemeen", 0.65, 0.10),
    F("vacature", "vacature", "F600", "online_fraude", 700, 300, 0.1, 1.0, "jong_handel", 0.0, 0.05),
    F("fraude_overig", "overig", "F602", "online_fraude", 1_000, 600, 0.1, 1.1, "algemeen", 0.08, 0.10),
    F("bedreiging", "bedreiging", "F530", "online_overig", 300, 200, 0.95, 0.8, "algemeen", 0.05, 0.40),
    F("stalking", "stalking", "F533", "online_overig", 300, 200, 0.95, 0.8, "algemeen", 0.0, 0.70),
    F("sextortion", "sextortion", "A82", "online_overig", 600, 400, 0.7, 1.0, "jong_seksueel", 0.0, 0.10),
    F("shamesexting", "shamesexting", "F5295", "online_overig", 100, 100, 0.98, 0.5, "jong_seksueel", 0.0, 0.60),
    F("gedigitaliseerd_overig", "overig", "F90", "online_overig", 400, 250, 0.8, 1.0, "algemeen", 0.1, 0.15),
    F("hack_account", "hack_account", "F90", "cyber", 500, 200, 0.6, 1.2, "algemeen", 0.1, 0.10),
    F("hack_apparaat", "hack_apparaat", "F90", "cyber", 800, 300, 0.6, 1.2, "algemeen", 0.25, 0.08),
    F("ransomware", "ransomware", "A82", "cyber", 25_000, 10_000, 0.2, 1.4, "algemeen", 0.7, 0.02),
    F("ddos", "ddos", "F90", "cyber", 5_000, 2_000, 0.5, 1.2, "algemeen", 0.9, 0.03),
    F("malware", "malware", "F90", "cyber", 1_500, 600, 0.5, 1.2, "algemeen", 0.3, 0.03),
    F("cyber_overig", "onbekend", "F90", "cyber", 500, 200, 0.7, 1.0, "algemeen", 0.2, 0.05),
    F("offline_fraude", "overig", "F601", "offline_fraude", 700, 400, 0.1, 1.1, "algemeen", 0.2, 0.45),
    F("offline_overig", "onbekend", "F530", "offline_overig", 100, 100, 0.95, 0.5, "algemeen", 0.05, 0.6),
)
del F
FORMS_BY_KEY: dict[str, PoliceForm] = {f.key: f for f in POLICE_FORMS}

# 2024 (aangiften, meldingen) per form at scale 1. The three balancing cells get their 2024
# count from the trend targets; their value here is only the base for the other years.
VOLUME_2024: dict[str, tuple[int, int]] = {
    "av_marktplaats": (3_850, 1_500),
    "av_webwinkel": (1_560, 600),
    "av_overig": (93, 40),
    "beleggen": (284, 60),
    "helpdesk": (1_104, 350),
    "phishing": (700, 500),
    "vriend_in_nood": (420, 250),
    "dating": (160, 60),
    "voorschot": (230, 80),
    "identiteit": (260, 120),
    "factuur": (140, 40),
    "vacature": (90, 50),
    "fraude_overig": (300, 200),
    "bedreiging": (420, 380),
    "stalking": (150, 120),
    "sextortion": (260, 200),
    "shamesexting": (120, 90),
    "gedigitaliseerd_overig": (80, 120),
    "hack_account": (620, 380),
    "hack_apparaat": (180, 120),
    "ransomware": (45, 15),
    "ddos": (25, 20),
    "malware": (90, 80),
    "cyber_overig": (30, 40),
    "offline_fraude": (2_900, 1_100),
    "offline_overig": (900, 500),
}

# Exact 2024 damage totals (EUR) of the aangiften of the calibrated forms (figures.md).
SCHADE_AANGIFTEN_2024: dict[str, float] = {
    "av_marktplaats": 885_000,
    "av_webwinkel": 437_000,
    "av_overig": 28_000,  # together 1 350 000: "ruim 1,3 miljoen"
    "beleggen": 5_600_000,  # "5,6 miljoen"
    "helpdesk": 4_300_000,  # "4,3 miljoen"
}

# Volume of the other years relative to 2024 (2022/2023) or to 2024 as balanced (2025).
VOLUME_FACTOR: dict[int, dict[str, float]] = {
    2022: {"online_fraude": 0.86, "online_overig": 0.80, "cyber": 1.70, "offline_fraude": 0.78, "offline_overig": 1.0},
    2023: {"online_fraude": 0.955, "online_overig": 0.90, "cyber": 1.62, "offline_fraude": 0.85, "offline_overig": 1.0},
    2025: {"online_fraude": 1.05, "online_overig": 1.08, "cyber": 0.97, "offline_fraude": 1.02, "offline_overig": 1.0},
}

# MK2019 years: how the manual labelling turned out, per aard (shares of online_kenmerk).
MK2019_LABELS: dict[int, dict[str, dict[str, float]]] = {
    year: {
        "online_fraude": {"gedigitaliseerd": 0.935 - extra, "cybercrime": 0.05, "onbekend": 0.015 + extra},
        "online_overig": {"gedigitaliseerd": 0.87 - extra, "cybercrime": 0.05, "onbekend": 0.08 + extra},
        "cyber": {"cybercrime": 0.85 - extra, "onbekend": 0.15 + extra},
        "offline_fraude": {"geen": 0.62 - extra, "onbekend": 0.38 + extra},
        "offline_overig": {"geen": 0.62 - extra, "onbekend": 0.38 + extra},
    }
    for year, extra in ((2022, 0.03), (2023, 0.0))
}
MK2024_LABEL: dict[str, str] = {
    "online_fraude": "gedigitaliseerd",
    "online_overig": "gedigitaliseerd",
    "cyber": "cybercrime",
    "offline_fraude": "geen",
    "offline_overig": "geen",
}

# Trend 2023 -> 2024 of the registered series, % at one decimal (figures.md).
TREND_TARGETS: dict[str, float] = {"cybercrime": -42.0, "gedigitaliseerd": 12.0, "fraude_totaal": 9.0}
# Series -> (form, soort) whose 2024 count closes the gap to the target. Each touches only its
# own series: bedreiging is gedigitaliseerd but no fraud class, hack_account is cybercrime in
# class F90, offline_fraude is a fraud class labelled `geen`.
BALANCING: dict[str, tuple[str, str]] = {
    "gedigitaliseerd": ("bedreiging", "melding"),
    "cybercrime": ("hack_account", "melding"),
    "fraude_totaal": ("offline_fraude", "melding"),
}
FRAUD_CLASSES = frozenset({"F600", "F601", "F602", "F614", "F617", "F620", "F636", "F637", "F638", "F639"})

# Share doorgestuurd_om = J: online-labelled rows per year; 2025 follows from the growth target.
DOORGESTUURD_ONLINE: dict[int, float] = {2022: 0.10, 2023: 0.11, 2024: 0.12}
DOORGESTUURD_OFFLINE = 0.15
INSTROOM_GROEI_2025 = 1.04  # +4%: above 2024, behind the +10% target


@dataclass(frozen=True)
class PoliceCell:
    """A number of registrations of one form, soort and label in one year (scale 1)."""

    form: PoliceForm
    soort: str
    online_kenmerk: str
    aantal: int
    schade_totaal: float  # EUR over the rows that have a damage amount
    year_is_mk2024: bool

    @property
    def classificatie(self) -> str:
        return "MK2024" if self.year_is_mk2024 else "MK2019"


def apportion(total: int, weights: tuple[float, ...] | list[float]) -> list[int]:
    """Split an integer exactly by weights (largest remainder, ties to the first)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _volumes(year: int) -> dict[str, tuple[int, int]]:
    if year == 2024:
        return _balanced_2024()
    base = _balanced_2024() if year == 2025 else VOLUME_2024
    factors = VOLUME_FACTOR[year]
    return {
        key: (round(a * factors[FORMS_BY_KEY[key].aard]), round(m * factors[FORMS_BY_KEY[key].aard]))
        for key, (a, m) in base.items()
    }


def _cells_from_volumes(year: int, volumes: dict[str, tuple[int, int]]) -> list[PoliceCell]:
    cells: list[PoliceCell] = []
    mk2024 = year >= CLASSIFICATION_CHANGE_YEAR
    for key, counts in volumes.items():
        form = FORMS_BY_KEY[key]
        for soort, count in zip(("aangifte", "melding"), counts, strict=True):
            labels = {MK2024_LABEL[form.aard]: 1.0} if mk2024 else MK2019_LABELS[year][form.aard]
            for label, n in zip(labels, apportion(count, tuple(labels.values())), strict=True):
                if n == 0:
                    continue
                cells.append(PoliceCell(form, soort, label, n, _damage(year, form, soort, n, count), mk2024))
    return cells


def _damage(year: int, form: PoliceForm, soort: str, n: int, n_form: int) -> float:
    if year == 2024 and soort == "aangifte" and form.key in SCHADE_AANGIFTEN_2024:
        return SCHADE_AANGIFTEN_2024[form.key] * n / n_form
    mean = form.gem_schade_aangifte if soort == "aangifte" else form.gem_schade_melding
    return round(n * (1 - form.zonder_schade)) * mean


def registered_totals(cells: list[PoliceCell]) -> dict[str, int]:
    """The three registered series of figures.md counted over a plan."""
    return {
        "cybercrime": sum(c.aantal for c in cells if c.online_kenmerk == "cybercrime"),
        "gedigitaliseerd": sum(c.aantal for c in cells if c.online_kenmerk == "gedigitaliseerd"),
        "fraude_totaal": sum(c.aantal for c in cells if c.form.klasse in FRAUD_CLASSES),
    }


def trend_pct(new: int, old: int) -> float:
    """Change in % at one decimal, as published."""
    return round(100 * (new - old) / old, 1)


def _target(old: int, pct: float) -> int:
    guess = round(old * (1 + pct / 100))
    for candidate in sorted(range(guess - 3, guess + 4), key=lambda n: abs(n - guess)):
        if trend_pct(candidate, old) == pct:
            return candidate
    raise ValueError(f"geen geheel aantal geeft {pct}% op basis {old}")


@cache
def _balanced_2024() -> dict[str, tuple[int, int]]:
    old = registered_totals(_cells_from_volumes(2023, _volumes(2023)))
    volumes = dict(VOLUME_2024)
    for key, soort in BALANCING.values():
        volumes[key] = (volumes[key][0], 0) if soort == "melding" else (0, volumes[key][1])
    now = registered_totals(_cells_from_volumes(2024, volumes))
    for series, (key, soort) in BALANCING.items():
        gap = _target(old[series], TREND_TARGETS[series]) - now[series]
        if gap <= 0:
            raise ValueError(f"balanscel {key} voor {series} zou negatief worden ({gap})")
        a, m = volumes[key]
        volumes[key] = (a, gap) if soort == "melding" else (gap, m)
    return volumes


@cache
def police_plan(year: int) -> tuple[PoliceCell, ...]:
    """All police cells of a year at scale 1."""
    return tuple(_cells_from_volumes(year, _volumes(year)))


def doorgestuurd_share(year: int) -> float:
    """Share of online-labelled rows sent to the OM; 2025 is derived from the growth target."""
    if year in DOORGESTUURD_ONLINE:
        return DOORGESTUURD_ONLINE[year]

    def online(y: int) -> int:
        return sum(c.aantal for c in police_plan(y) if c.online_kenmerk in ("cybercrime", "gedigitaliseerd"))

    return DOORGESTUURD_ONLINE[2024] * INSTROOM_GROEI_2025 * online(2024) / online(year)


# --- Veiligheidsmonitor -------------------------------------------------------------------
VM_YEARS: tuple[int, ...] = (2021, 2023, 2025)
VM_SUBJECTS: tuple[str, ...] = (
    "slachtoffer_online_totaal",
    "slachtoffer_online_fraude",
    "slachtoffer_hacken",
    "slachtoffer_online_bedreiging",
    "aangifte_online",
    "melding_elders_online",
    "respondenten",
)
# RE03 (police unit Midden-Nederland) value and 95% interval per year; 2023 from figures.md.
VM_RE03: dict[int, dict[str, tuple[float, float, float]]] = {
    2021: {
        "slachtoffer_online_totaal": (14.8, 14.1, 15.5),
        "slachtoffer_online_fraude": (8.9, 8.3, 9.5),
        "slachtoffer_hacken": (4.6, 4.2, 5.0),
        "slachtoffer_online_bedreiging": (3.2, 2.9, 3.5),
        "aangifte_online": (15.8, 14.0, 17.6),
        "melding_elders_online": (38.2, 36.2, 40.2),
    },
    2023: {
        "slachtoffer_online_totaal": (15.6, 14.9, 16.3),
        "slachtoffer_online_fraude": (9.8, 9.2, 10.4),
        "slachtoffer_hacken": (4.3, 3.9, 4.7),
        "slachtoffer_online_bedreiging": (3.4, 3.1, 3.7),
        "aangifte_online": (16.9, 15.2, 18.6),
        "melding_elders_online": (40.0, 38.1, 41.9),
    },
    2025: {
        "slachtoffer_online_totaal": (15.1, 14.4, 15.8),
        "slachtoffer_online_fraude": (9.6, 9.0, 10.2),
        "slachtoffer_hacken": (4.0, 3.6, 4.4),
        "slachtoffer_online_bedreiging": (3.5, 3.2, 3.8),
        "aangifte_online": (17.8, 16.1, 19.5),
        "melding_elders_online": (41.3, 39.4, 43.2),
    },
}
VM_RESPONDENTEN_PER_1000_INWONERS = 4.5  # survey sample size relative to population
VM_MIN_RESPONDENTEN_BETROUWBAAR = 250  # below this CBS publishes "." for percentages
VM_NL01_OFFSET = 0.4  # the Netherlands is a little above Midden-Nederland

# --- Programme registrations 2025 (targets in figures.md; some behind on purpose) ---------
PROGRAMMA_2025: dict[str, int] = {
    "kennisbijeenkomst": 13,  # target >= 12: behaald
    "bestuurlijke_rapportage": 6,  # target >= 5: behaald
    "huisbezoek": 7,  # target >= 10: achter
    "regionale_media": 5,  # target >= 4: behaald
    "echt_nep_bereik": 340,  # seniors reached, target >= 300: behaald
    "actiedag_acties": 118,  # target >= 100: behaald
    "nieuwsbrief": 6,  # target 6: behaald
    "mailupdate": 3,  # target 4: achter
    "ciso_bijeenkomst": 2,  # target 2: behaald
    "gemeenten_met_communicatie": 31,  # target all 38: achter
    "districten_met_riec_casus": 4,  # of 5, target every district: achter
}
# Basisteams that discussed the informatiebeeld only once in 2025 (target >= 2): achter.
INFORMATIEBEELD_EENMAAL: tuple[str, ...] = ("Dronten/Noordoostpolder/Urk", "Vallei", "Utrecht-West")
