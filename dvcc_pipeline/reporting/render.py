"""The report as one self-contained Dutch HTML page (inline CSS and SVG, nothing fetched).

Every figure cell carries `data-key` and `data-value` attributes, so the tests can check the
numbers against the published tables without parsing Dutch number formats. A suppressed cell
has an empty `data-value` and reads "afgeschermd": the published tables do not say whether a
cell was small or hidden so a small one cannot be recovered, so the page cannot say either.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from dvcc_pipeline.reporting.charts import Bar, Interval, Series, bar_chart, interval_chart, line_chart
from dvcc_pipeline.reporting.data import KERNCIJFERS, DelictsvormJaar, Profiel, Region, ReportData, Sum

SUPPRESSED = "afgeschermd"
STATUS = {"behaald": "behaald", "op_koers": "op koers", "achter": "achter op schema", "geen_data": "nog geen gegevens"}
BRON = {
    "politie": "Politie",
    "bank": "Banken",
    "fraudehelpdesk": "Fraudehelpdesk",
    "programma": "Programmabureau",
    "veiligheidsmonitor": "Veiligheidsmonitor",
}
FEED = {
    "politie_registraties": "politie",
    "bank_fraudemeldingen": "bank",
    "fraudehelpdesk_meldingen": "fraudehelpdesk",
    "programma_registraties": "programma",
}
VM_LABEL = {
    "slachtoffer_online_totaal": "Slachtoffer van online criminaliteit",
    "aangifte_online": "Deed aangifte bij de politie",
    "melding_elders_online": "Meldde het elders (bank, Fraudehelpdesk, …)",
}
VM_SHORT = {
    "slachtoffer_online_totaal": "slachtoffer",
    "aangifte_online": "aangifte",
    "melding_elders_online": "elders gemeld",
}
HOOFDCATEGORIE = {"cybercrime": "Cybercrime", "gedigitaliseerd": "Gedigitaliseerde criminaliteit"}
LEEFTIJD = {
    "0-17": "0–17 jaar",
    "18-24": "18–24 jaar (jongeren)",
    "25-44": "25–44 jaar",
    "45-64": "45–64 jaar",
    "65+": "65 jaar en ouder (senioren)",
    "onbekend": "onbekend of organisatie",
}
KANAAL = {
    "telefoon": "Telefoon",
    "sms": "Sms",
    "whatsapp": "WhatsApp",
    "email": "E-mail",
    "website": "Website",
    "marktplaats": "Online marktplaats",
    "sociale_media": "Sociale media",
    "overig": "Overig",
    "onbekend": "Onbekend",
}
PROFIEL = {"leeftijdsklasse": ("Leeftijd", LEEFTIJD), "kanaal": ("Contactkanaal", KANAAL)}
# the source each profile chart shows: the police know age best, banks the channel
PROFIEL_GRAFIEK = {"leeftijdsklasse": "politie", "kanaal": "bank"}
ACTIVITEIT = {
    "informatiebeeld_besproken": "Informatiebeeld besproken in de driehoek",
    "kennisbijeenkomst": "Kennisbijeenkomsten",
    "bestuurlijke_rapportage": "Bestuurlijke rapportages",
    "riec_casus": "RIEC-casussen",
    "huisbezoek": "Huisbezoeken aan slachtoffers",
    "communicatie_uiting": "Communicatie-uitingen",
    "regionale_media": "Regionale mediamomenten",
    "echt_nep_bijeenkomst": "Echt-Nep-bijeenkomsten (bereikte mensen)",
    "actiedag_actie": "Acties op de actiedag #echtnietvandaag",
    "nieuwsbrief": "Nieuwsbrieven",
    "mailupdate": "Mailupdates",
    "ciso_bijeenkomst": "Bijeenkomsten CISO-netwerk",
    "cyberoefening": "Cyberoefeningen",
}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d2327;max-width:960px;
margin:0 auto;padding:24px;line-height:1.45;font-size:15px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;border-bottom:2px solid #1f5f8b;padding-bottom:4px;margin-top:32px}
h3{font-size:16px;margin:18px 0 6px}.sub{color:#555;margin:0 0 12px}.intro{font-size:16px;margin:6px 0 12px}
table{border-collapse:collapse;width:100%;margin:8px 0 12px;font-size:14px}
th,td{border-bottom:1px solid #ddd;padding:5px 8px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.onderdrukt{color:#8a5a00;font-style:italic}
.up{color:#a33}.down{color:#276b2f}.note{color:#555;font-size:13px}svg.chart{max-width:100%;height:auto;display:block}
svg.chart text{font-family:inherit;font-size:12px;fill:#1d2327}svg.chart text.marker{font-size:11px}
.box{background:#f3f6f8;border-left:4px solid #1f5f8b;padding:8px 12px;margin:10px 0}
nav.toc a{margin-right:12px}footer{margin-top:40px;color:#555;font-size:13px}
.status-behaald{color:#276b2f;font-weight:600}.status-achter{color:#a33;font-weight:600}
@media print{@page{size:A4;margin:14mm 12mm}body{max-width:none;padding:0;font-size:11pt}nav.toc{display:none}
h2{break-after:avoid;page-break-after:avoid}table,figure,svg,.box{break-inside:avoid;page-break-inside:avoid}
section.page{break-before:page;page-break-before:always}a{color:inherit;text-decoration:none}}
"""


def page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def render_report(data: ReportData) -> str:
    r = data.region
    soort = "Basisteam" if r.niveau == "basisteam" else "Gemeente"
    title = f"Informatiebeeld online criminaliteit — {soort} {r.naam} — {data.jaar} kwartaal {data.kwartaalnummer}"
    members = ", ".join(name for _, name in r.gemeenten)
    where = (
        f"Basisteam {escape(r.naam)} (gemeenten {escape(members)}), district {escape(r.district)}"
        if r.niveau == "basisteam"
        else f"Gemeente {escape(r.naam)}, basisteam {escape(r.basisteam)}, district {escape(r.district)}"
    )
    sections = [
        _kerncijfers(data),
        _delictsvormen(data),
        _trend(data),
        _dark_number(data),
        _doelgroepen(data),
        _voortgang(data),
        _kwaliteit(data),
    ]
    toc = "".join(f'<a href="#{key}">{escape(label)}</a>' for key, label, _ in sections)
    body = (
        f'<header><p class="sub"><a href="index.html">← alle rapporten</a></p><h1>{escape(title)}</h1>'
        f'<p class="sub">{where}. Cijfers tot en met {escape(data.kwartaal)}, uit publicatie '
        f"{escape(data.publicatie_id)} van {escape(data.gepubliceerd_op)} (UTC).</p>"
        '<p class="box">Dit informatiebeeld is bedoeld voor het gesprek in de driehoek over online criminaliteit: '
        "oplichting en fraude via internet en telefoon (gedigitaliseerde criminaliteit) en aanvallen op computers "
        f"(cybercrime). Kleine aantallen (1 tot {data.k}) tonen we niet, zodat niemand te herkennen is: daar staat "
        f"“{SUPPRESSED}”.</p>"
        f'<nav class="toc">{toc}</nav></header>'
        + "".join(html for _, _, html in sections)
        + f"<footer>Bron: gepubliceerde tabellen van de DVCC-informatiepijplijn (publicatie "
        f"{escape(data.publicatie_id)}). Alleen geaggregeerde cijfers; nooit gegevens over personen.</footer>"
    )
    return page(title, body)


def _section(key: str, label: str, intro: str, content: str, new_page: bool = False) -> tuple[str, str, str]:
    cls = ' class="page"' if new_page else ""
    html = f'<section id="{key}"{cls}><h2>{escape(label)}</h2><p class="intro">{intro}</p>{content}</section>'
    return key, label, html


# --- formatting -----------------------------------------------------------------------------------


def fmt_int(value: int | Decimal | float) -> str:
    return f"{round(value):,}".replace(",", ".")


def fmt_eur(value: int | Decimal | float) -> str:
    return f"€ {fmt_int(value)}"


def fmt_pct(value: Decimal | float, sign: bool = False) -> str:
    text = f"{value:+.1f}" if sign else f"{value:.1f}"
    return text.replace(".", ",") + "%"


def _cell(key: str, value: int | Decimal | None, suppressed: bool, kind: str = "int") -> str:
    """A figure cell: the value, or "afgeschermd" when the publication suppressed it."""
    if value is None:
        text = SUPPRESSED if suppressed else "–"
        return f'<td class="n onderdrukt" data-key="{escape(key)}" data-value="">{text}</td>'
    text = fmt_eur(value) if kind == "eur" else fmt_pct(value) if kind == "pct" else fmt_int(value)
    return f'<td class="n" data-key="{escape(key)}" data-value="{value}">{text}</td>'


def _change(now: Sum, before: Sum) -> str:
    if now.waarde is None or not before.waarde:
        return '<td class="n">–</td>'
    pct = 100 * (Decimal(now.waarde) - Decimal(before.waarde)) / Decimal(before.waarde)
    cls = "up" if pct > 0 else "down" if pct < 0 else ""
    return f'<td class="n {cls}">{fmt_pct(pct, sign=True)}</td>'


# --- sections -------------------------------------------------------------------------------------


def _kerncijfers(d: ReportData) -> tuple[str, str, str]:
    r, q = d.region, d.kwartaalnummer
    period = f"{d.jaar} t/m Q{q}" if q < 4 else str(d.jaar)
    head = (
        f'<tr><th>Cijfer</th><th class="n">{escape(r.naam)} {period}</th><th class="n">zelfde periode {d.jaar - 1}'
        f'</th><th class="n">verschil</th><th class="n">district {escape(r.district)}</th>'
        '<th class="n">eenheid Midden-Nederland</th></tr>'
    )
    rows = []
    for c in d.kerncijfers:
        kind = "eur" if c.key.startswith("schade") else "int"
        rows.append(
            f"<tr><td>{escape(c.label)}</td>"
            + _cell(f"kerncijfers/{c.key}/{d.jaar}", c.regio.waarde, False, kind)
            + _cell(f"kerncijfers/{c.key}/{d.jaar - 1}", c.regio_vorig.waarde, False, kind)
            + _change(c.regio, c.regio_vorig)
            + _change(c.district, c.district_vorig)
            + _change(c.eenheid, c.eenheid_vorig)
            + "</tr>"
        )
    suppressed = sum(c.regio.onderdrukt + c.regio_vorig.onderdrukt for c in d.kerncijfers)
    note = (
        f'<p class="note">Verschil: de verandering ten opzichte van dezelfde periode vorig jaar, voor '
        f"{escape(r.naam)}, het district en de hele eenheid. De aantallen tellen de gepubliceerde cellen per "
        f"gemeente, delictsvorm en kwartaal op; {suppressed} afgeschermde cellen tellen niet mee, dus het "
        "werkelijke aantal ligt hoger. Banken en Fraudehelpdesk zien deels "
        "dezelfde slachtoffers als de politie; tel de rijen dus niet bij elkaar op.</p>"
    )
    content = f"<table>{head}{''.join(rows)}</table>{note}"
    content += _per_gemeente(d)
    intro = (
        f"Hoeveel slachtoffers van online criminaliteit en fraude zich in {period} meldden bij politie, banken en "
        "Fraudehelpdesk en hoeveel schade zij opgaven, vergeleken met vorig jaar en met district en eenheid."
    )
    return _section("kerncijfers", "Kerncijfers", intro, content)


def _per_gemeente(d: ReportData) -> str:
    """For a basisteam: the year-to-date counts of each of its municipalities."""
    if not d.per_gemeente:
        return ""
    keys = [key for key, label, *_ in KERNCIJFERS if not key.startswith("schade")]
    labels = {key: label for key, label, *_ in KERNCIJFERS}
    head = "<tr><th>Gemeente</th>" + "".join(f'<th class="n">{escape(labels[k])}</th>' for k in keys) + "</tr>"
    body = "".join(
        f"<tr><td>{escape(name)}</td>"
        + "".join(_cell(f"gemeente/{code}/{k}/{d.jaar}", sums[k].waarde, False) for k in keys)
        + "</tr>"
        for code, name, sums in d.per_gemeente
    )
    return f"<h3>Per gemeente in het basisteam</h3><table>{head}{body}</table>"


def _delictsvormen(d: ReportData) -> tuple[str, str, str]:
    vormen = d.delictsvormen
    shown = [v for v in vormen if v.aangiften != 0]
    by_count = sorted(shown, key=lambda v: (v.aangiften is None, -(v.aangiften or 0), v.label))[:5]
    by_damage = sorted((v for v in vormen if v.schadebedrag_eur), key=lambda v: (-v.schadebedrag_eur, v.label))[:5]

    def table(items: Sequence[DelictsvormJaar]) -> str:
        rows = "".join(
            f"<tr><td>{escape(v.label)}</td>"
            + _cell(f"delictsvormen/{v.delictsvorm}/aangiften", v.aangiften, v.onderdrukt)
            + _cell(f"delictsvormen/{v.delictsvorm}/schade", v.schadebedrag_eur, v.onderdrukt, "eur")
            + _cell(f"delictsvormen/{v.delictsvorm}/bank", v.meldingen_bank, v.onderdrukt)
            + _cell(f"delictsvormen/{v.delictsvorm}/fraudehelpdesk", v.meldingen_fraudehelpdesk, v.onderdrukt)
            + "</tr>"
            for v in items
        )
        return (
            '<table><tr><th>Delictsvorm</th><th class="n">aangiften</th><th class="n">schade in aangiften</th>'
            f'<th class="n">meldingen banken</th><th class="n">meldingen Fraudehelpdesk</th></tr>{rows}</table>'
        )

    def bars(items: Sequence[DelictsvormJaar], damage: bool) -> list[Bar]:
        result = []
        for v in items:
            value = v.schadebedrag_eur if damage else v.aangiften
            text = (fmt_eur(value) if damage else fmt_int(value)) if value is not None else SUPPRESSED
            result.append(Bar(v.label, None if value is None else float(value), text))
        return result

    content = (
        "<h3>Meeste slachtoffers (aangiften bij de politie)</h3>"
        + bar_chart(f"Delictsvormen met de meeste aangiften, {d.jaar}", bars(by_count, False))
        + table(by_count)
        + "<h3>Meeste schade</h3>"
        + bar_chart(f"Delictsvormen met de meeste schade, {d.jaar}", bars(by_damage, True))
        + table(by_damage)
        + '<p class="note">“Niet gepubliceerd” bij schade: één aangifte maakt het grootste deel van het bedrag uit, '
        "dus het bedrag zou iets over één slachtoffer zeggen.</p>"
    )
    intro = f"Welke vormen van online criminaliteit in {d.jaar} de meeste slachtoffers en de meeste schade opleverden."
    return _section("delictsvormen", "Delictsvormen", intro, content)


def _trend(d: ReportData) -> tuple[str, str, str]:
    t = d.trend
    marker = t.kwartalen.index(f"{t.breukjaar}Q1") if t.breukjaar and f"{t.breukjaar}Q1" in t.kwartalen else None
    series = [Series(HOOFDCATEGORIE[h], [None if v is None else float(v) for v in vs]) for h, vs in t.reeksen.items()]
    chart = line_chart(
        f"Politieregistraties per kwartaal, {d.region.naam}",
        t.kwartalen,
        series,
        marker_at=marker,
        marker_text=f"trendbreuk {t.breukjaar}" if t.breukjaar else "",
    )
    rows = "".join(
        f"<tr><td>{jaar}</td><td>{escape(HOOFDCATEGORIE.get(reeks, reeks))}</td>"
        f"<td>{'eigen registratie politie' if methode == 'geregistreerd' else 'vergelijkbare indeling'}</td>"
        + (
            f'<td class="n" data-key="trend/{jaar}/{reeks}/{methode}" data-value="{pct}">{fmt_pct(pct, sign=True)}</td>'
            if pct is not None
            else f'<td class="n onderdrukt" data-key="trend/{jaar}/{reeks}/{methode}" data-value="">'
            f"{'onderdrukt' if onderdrukt else '–'}</td>"
        )
        + "</tr>"
        for jaar, reeks, methode, pct, onderdrukt in t.jaarverandering
    )
    explain = ""
    if t.breukjaar:
        explain = (
            f'<div class="box"><strong>Trendbreuk in {t.breukjaar}.</strong> De politie legt sinds {t.breukjaar} '
            "op een andere manier vast of een delict online is. In haar eigen registratie lijkt cybercrime daardoor "
            "sterk te dalen, terwijl dat grotendeels een andere indeling is. De lijnen hierboven gebruiken één "
            "vaste indeling voor alle jaren en zijn daarom wel vergelijkbaar. "
            f"{escape(t.toelichting or '')}</div>"
        )
    table = (
        "<h3>Verandering per jaar: eigen registratie en vergelijkbare indeling</h3><table><tr><th>jaar</th><th>reeks"
        f'</th><th>indeling</th><th class="n">verandering t.o.v. vorig jaar</th></tr>{rows}</table>'
    )
    intro = (
        "Hoe het aantal politieregistraties (aangiften en meldingen) van online criminaliteit per kwartaal verloopt, "
        "per hoofdcategorie; de stippellijn markeert de trendbreuk."
    )
    gaps = (
        '<p class="note">Een onderbroken lijn betekent dat het aantal van dat kwartaal is afgeschermd.</p>'
        if any(v is None for vs in t.reeksen.values() for v in vs)
        else ""
    )
    return _section("trend", "Trend per kwartaal", intro, chart + gaps + explain + table, new_page=True)


def _dark_number(d: ReportData) -> tuple[str, str, str]:
    dn = d.dark_number
    parts = []
    if dn is not None:
        if dn.geschat is None:
            text = (
                f"Het aantal online aangiften in {dn.jaar} is afgeschermd; daarom geven we geen schatting."
                if dn.onderdrukt
                else "Voor dit jaar is geen schatting beschikbaar."
            )
        else:
            bron = (
                "de eenheid als geheel (geen betrouwbaar eigen cijfer)"
                if dn.bron_aangiftebereidheid and (dn.bron_aangiftebereidheid != "eigen_regio")
                else "het eigen gebied"
            )
            text = (
                f"In {dn.jaar} deden {fmt_int(dn.aangiften)} slachtoffers aangifte van online criminaliteit. Volgens "
                f"de Veiligheidsmonitor {dn.vm_jaar} doet {fmt_pct(dn.aangiftebereidheid_pct)} van de slachtoffers "
                f"aangifte (cijfer van {bron}). Het werkelijke aantal slachtoffers ligt daarom naar schatting rond "
                f'<strong data-key="dark_number/geschat" data-value="{dn.geschat}">{fmt_int(dn.geschat)}</strong>, '
                f'tussen <span data-key="dark_number/ondergrens" data-value="{dn.ondergrens}">{fmt_int(dn.ondergrens)}'
                f'</span> en <span data-key="dark_number/bovengrens" data-value="{dn.bovengrens}">'
                f"{fmt_int(dn.bovengrens)}</span>."
            )
        parts.append(f'<p class="box">{text}</p>')
    vm = d.veiligheidsmonitor
    if vm:
        jaar = vm[0].jaar
        parts.append(f"<h3>Veiligheidsmonitor {jaar}</h3>")
        intervals = [
            Interval(
                f"{v.regio_naam}: {VM_SHORT.get(v.onderwerp, v.onderwerp)}",
                None if v.waarde is None else float(v.waarde),
                None if v.ondergrens is None else float(v.ondergrens),
                None if v.bovengrens is None else float(v.bovengrens),
                None if v.doelwaarde is None else float(v.doelwaarde),
            )
            for v in vm
        ]
        parts.append(interval_chart(f"Veiligheidsmonitor {jaar}, percentages met marge", intervals))
        rows = []
        for v in vm:
            key = f"vm/{v.regio_code}/{v.onderwerp}"
            target = f"{fmt_pct(v.doelwaarde)} in {v.doeljaar}" if v.doelwaarde is not None else ""
            interval = f"{fmt_pct(v.ondergrens)} – {fmt_pct(v.bovengrens)}" if v.ondergrens is not None else "–"
            rows.append(
                f"<tr><td>{escape(v.regio_naam)}</td><td>{escape(VM_LABEL.get(v.onderwerp, v.onderwerp))}</td>"
                + _cell(key, v.waarde, False, "pct")
                + f'<td class="n">{interval}</td><td class="n">{target}</td></tr>'
            )
        parts.append(
            '<table><tr><th>gebied</th><th>onderwerp</th><th class="n">waarde</th><th class="n">marge (95%)</th>'
            f'<th class="n">doel programma</th></tr>{"".join(rows)}</table>'
            '<p class="note">Percentages van de inwoners van 15 jaar en ouder (slachtofferschap) of van de '
            "slachtoffers (aangifte, melding elders). De marge geeft aan hoe zeker het cijfer is; de rode streep in "
            "de grafiek is het doel van het programma. “–”: te weinig respondenten voor een betrouwbaar cijfer.</p>"
        )
    intro = (
        "Hoeveel slachtoffers er naar schatting werkelijk zijn — de meeste doen geen aangifte — en wat inwoners "
        "zelf zeggen in de Veiligheidsmonitor."
    )
    return _section("dark-number", "Dark number en Veiligheidsmonitor", intro, "".join(parts))


def _doelgroepen(d: ReportData) -> tuple[str, str, str]:
    by_key = {(p.dimensie, p.waarde, p.bron): p for p in d.profiel}
    parts = []
    if not d.profiel:
        parts.append("<p>Over dit jaar zijn nog geen gegevens over leeftijd en kanaal gepubliceerd.</p>")
    for dimensie, (titel, labels) in PROFIEL.items():
        bronnen = [
            b
            for b in ("politie", "bank", "fraudehelpdesk")
            if any(p.bron == b for p in d.profiel if p.dimensie == dimensie)
        ]
        if not bronnen:
            continue
        head = f"<tr><th>{escape(titel)}</th>" + "".join(f'<th class="n">{BRON[b]}</th>' for b in bronnen) + "</tr>"
        rows = []
        for waarde, label in labels.items():
            cells = []
            for bron in bronnen:
                p = by_key.get((dimensie, waarde, bron))
                cells.append(
                    _cell(f"wie/{dimensie}/{waarde}/{bron}", p.aantal, p.onderdrukt) if p else '<td class="n">–</td>'
                )
            rows.append(f"<tr><td>{escape(label)}</td>{''.join(cells)}</tr>")
        chart_bron = PROFIEL_GRAFIEK[dimensie]
        bars = [
            Bar(label, None if p.aantal is None else float(p.aantal), _count_text(p))
            for waarde, label in labels.items()
            if waarde != "onbekend" and (p := by_key.get((dimensie, waarde, chart_bron)))
        ]
        parts.append(f"<h3>{escape(titel)}</h3>")
        if bars:
            parts.append(bar_chart(f"{titel}: slachtoffers bij {BRON[chart_bron].lower()}, {d.profiel_jaar}", bars))
        parts.append(f"<table>{head}{''.join(rows)}</table>")
        parts.append(_opvallend(d.profiel, dimensie, labels))
    parts.append(
        '<p class="note">Politie: aangiften en meldingen van online criminaliteit; de politie legt geen '
        "contactkanaal vast. Banken: fraudemeldingen. Fraudehelpdesk: alleen meldingen van slachtoffers. Eén "
        "slachtoffer kan bij meer dan één bron staan; tel de kolommen dus niet bij elkaar op. “Onbekend of "
        "organisatie”: de leeftijd is niet vastgelegd, of het slachtoffer is een bedrijf of instelling.</p>"
    )
    jaar = d.profiel_jaar or d.jaar
    intro = (
        f"Welke leeftijdsgroepen en contactkanalen in {jaar} opvallen — de aanknopingspunten voor preventie, "
        "zoals Echt-Nep-bijeenkomsten voor senioren of voorlichting op scholen."
    )
    return _section("wie", "Wie worden getroffen", intro, "".join(parts))


def _count_text(p: Profiel) -> str:
    if p.aantal is None:
        return SUPPRESSED if p.onderdrukt else "–"
    return fmt_int(p.aantal)


def _opvallend(profiel: Sequence[Profiel], dimensie: str, labels: dict[str, str]) -> str:
    """Per source the largest published group (onbekend left out), in words."""
    zinnen = []
    for bron in ("politie", "bank", "fraudehelpdesk"):
        shown = [
            p for p in profiel if p.bron == bron and p.dimensie == dimensie and p.waarde != "onbekend" and p.aantal
        ]
        if shown:
            top = max(shown, key=lambda p: (p.aantal or 0, p.waarde))
            zinnen.append(f"{BRON[bron]}: {labels.get(top.waarde, top.waarde)}")
    if not zinnen:
        return ""
    return f'<p class="note">Grootste groep — {escape("; ".join(zinnen))}.</p>'


def _voortgang(d: ReportData) -> tuple[str, str, str]:
    rows = []
    for v in d.voortgang:
        realisatie, doel = _number(v.realisatie), _number(v.doelwaarde)
        scope = f" (laagste {v.niveau})" if v.niveau in {"basisteam", "district", "gemeente"} else ""
        value = "" if v.realisatie is None else v.realisatie
        rows.append(
            f"<tr><td>{v.doel or ''}</td><td>{escape(v.omschrijving)}{scope}</td>"
            f'<td class="n" data-key="voortgang/{escape(v.indicator)}" data-value="{value}">'
            f'{realisatie or "–"}</td><td class="n">{doel} ({v.doeljaar})</td>'
            f'<td class="status-{v.status}">{STATUS.get(v.status, v.status)}</td></tr>'
        )
    content = (
        '<table><tr><th>doel</th><th>afspraak in het jaarplan</th><th class="n">stand</th>'
        f'<th class="n">doel (jaar)</th><th>beoordeling</th></tr>{"".join(rows)}</table>'
        '<p class="note">Stand voor de hele eenheid. Bij afspraken per basisteam, district of gemeente telt het gebied '
        "dat het minst deed, want elk gebied moet het doel halen. “Op koers” en “achter op schema” vergelijken de "
        "stand met wat op de peildatum verwacht mocht worden.</p>"
    ) + _activiteiten(d)
    intro = (
        f"Hoe het programma ervoor staat ten opzichte van de doelen in het jaarplan, stand {d.jaar}, en wat het in "
        f"{d.region.naam} zelf deed."
    )
    return _section("voortgang", "Voortgang van het programma", intro, content, new_page=True)


def _activiteiten(d: ReportData) -> str:
    """The programme's own activity counts for this region, beside its basisteam and the unit."""
    r = d.region
    if not d.activiteiten:
        return f"<h3>Activiteiten in {escape(r.naam)}</h3><p>Nog geen registraties van het programmabureau.</p>"
    gemeente = r.niveau == "gemeente"
    head = (
        f'<tr><th>activiteit</th><th class="n">{escape(r.naam)}</th>'
        + (f'<th class="n">basisteam {escape(r.basisteam)}</th>' if gemeente else "")
        + '<th class="n">eenheid Midden-Nederland</th></tr>'
    )
    known = [a for a in d.activiteiten if a.activiteit in ACTIVITEIT]
    ordered = sorted(known, key=lambda a: list(ACTIVITEIT).index(a.activiteit))
    ordered += [a for a in d.activiteiten if a.activiteit not in ACTIVITEIT]
    rows = "".join(
        f"<tr><td>{escape(ACTIVITEIT.get(a.activiteit, a.activiteit))}</td>"
        + _cell(f"voortgang/activiteit/{a.activiteit}/{r.niveau}", a.eigen, False)
        + (_cell(f"voortgang/activiteit/{a.activiteit}/basisteam", a.basisteam, False) if gemeente else "")
        + _cell(f"voortgang/activiteit/{a.activiteit}/eenheid", a.eenheid, False)
        + "</tr>"
        for a in ordered
    )
    return (
        f"<h3>Activiteiten in {escape(r.naam)}, {d.activiteiten_jaar}</h3><table>{head}{rows}</table>"
        '<p class="note">Uit de registraties van het programmabureau. Een activiteit telt mee voor het eigen gebied en '
        "voor elk gebied erboven (een gemeente voor haar basisteam en de eenheid); activiteiten voor een district of "
        "de hele eenheid tellen alleen in de kolom eenheid. Dit zijn aantallen activiteiten van het programma zelf, "
        "geen slachtoffers, en daarom ook kleine aantallen precies.</p>"
    )


def _number(value: Decimal | None) -> str:
    if value is None:
        return ""
    return fmt_int(value) if value == value.to_integral() else fmt_pct(value).rstrip("%")


def _kwaliteit(d: ReportData) -> tuple[str, str, str]:
    feed_by_bron = {bron: feed for feed, bron in FEED.items()}
    rows = []
    for q in d.kwaliteit:
        missing = q.ontbrekend if q.bron in feed_by_bron else []
        rows.append(
            f'<tr><td>{escape(BRON.get(q.bron, q.bron))}</td><td class="n">{q.leveringen or 0}</td>'
            f'<td class="n">{q.leveringen_afgekeurd or 0}</td>'
            f'<td class="n">{fmt_pct(q.pct_rijen_afgekeurd) if q.pct_rijen_afgekeurd is not None else "–"}</td>'
            + _cell(f"kwaliteit/{q.bron}/ongelabeld", q.pct_ongelabeld, False, "pct")
            + f"<td>{escape(', '.join(missing)) if missing else 'geen'}</td></tr>"
        )
    content = (
        '<table><tr><th>bron</th><th class="n">leveringen</th><th class="n">afgekeurd</th>'
        '<th class="n">rijen afgekeurd</th><th class="n">politie: nog niet gelabeld</th>'
        f"<th>ontbrekende perioden</th></tr>{''.join(rows)}</table>"
        f'<p class="note">Afgekeurde leveringen en rijen tellen niet mee; de leverancier levert ze opnieuw aan. '
        "“Nog niet gelabeld”: politieregistraties waarvan nog niet vastligt welke delictsvorm het is; zij staan "
        "niet bij een delictsvorm. Ontbrekende perioden: nog geen geaccepteerde levering in deze publicatie. "
        f"“{SUPPRESSED.capitalize()}” staat bij een klein aantal (1 tot {d.k}), bij een schadebedrag waarin één "
        "aangifte overheerst, en bij een cel die anders een klein aantal zou verraden: wie de andere cellen van "
        "het totaal aftrekt, of een ander overzicht met dezelfde cijfers ernaast legt, mag er niet op uitkomen. "
        "Een afgeschermde cel kan dus ook een groter aantal zijn; welke het is, zeggen we niet.</p>"
    )
    intro = f"Hoe volledig en betrouwbaar de cijfers over {d.jaar} zijn en hoe kleine aantallen worden getoond."
    return _section("kwaliteit", "Datakwaliteit", intro, content)


def render_index(
    kwartaal: str, reports: Sequence[tuple[Region, str]], other_quarters: Sequence[str], prefix: str = ""
) -> str:
    """The overview page: one line per basisteam with links to it and to its municipalities."""
    teams = [(r, prefix + f) for r, f in reports if r.niveau == "basisteam"]
    towns = {r.code: prefix + f for r, f in reports if r.niveau == "gemeente"}
    items = []
    for team, file in teams:
        links = ", ".join(
            f'<a href="{escape(towns[code])}">{escape(name)}</a>' for code, name in team.gemeenten if code in towns
        )
        items.append(
            f'<tr><td><a href="{escape(file)}">{escape(team.naam)}</a></td><td>{escape(team.district)}</td>'
            f"<td>{links}</td></tr>"
        )
    team_names = {t.naam for t, _ in teams}
    lone = [(r, prefix + f) for r, f in reports if r.niveau == "gemeente" and r.basisteam not in team_names]
    items += [f'<tr><td></td><td></td><td><a href="{escape(f)}">{escape(r.naam)}</a></td></tr>' for r, f in lone]
    others = ""
    if other_quarters:
        others = (
            "<p>Eerdere kwartalen: "
            + ", ".join(
                f'<a href="{"" if prefix else "../"}{escape(q)}/index.html">{escape(q)}</a>' for q in other_quarters
            )
            + "</p>"
        )
    title = f"Informatiebeeld online criminaliteit — {kwartaal}"
    body = (
        f'<h1>{escape(title)}</h1><p class="intro">Het informatiebeeld per basisteam en per gemeente voor de '
        "driehoek: kerncijfers, delictsvormen, trend, dark number, doelgroepen, voortgang van het programma en "
        "datakwaliteit. Kies een basisteam of een gemeente.</p>"
        f"<table><tr><th>basisteam</th><th>district</th><th>gemeenten</th></tr>{''.join(items)}</table>{others}"
    )
    return page(title, body)
