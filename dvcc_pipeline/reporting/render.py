"""The report as one self-contained Dutch HTML page (inline CSS and SVG, nothing fetched).

Every figure cell carries `data-key` and `data-value` attributes, so the tests can check the
numbers against the published tables without parsing Dutch number formats. Every count is shown
as published (below eenheid rounded to the base); the top of the page says so once, and that
totals are rounded separately. Only an amount can be hidden: its cell has an empty `data-value`
and reads "afgeschermd", the one label for a hidden value, also explained once at the top.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from dvcc_pipeline.reporting.charts import Bar, Interval, Series, bar_chart, interval_chart, line_chart
from dvcc_pipeline.reporting.data import KERNCIJFERS, Cel, DelictsvormJaar, Profiel, Region, ReportData
from dvcc_pipeline.reporting.numbers import bedrag, getal, getal_of_decimaal, procent

SUPPRESSED = "afgeschermd"
NO_FIGURE = "–"  # not hidden, just no figure (no respondents, no base to compare with); never orange


ROUNDED_TO = {5: "vijftallen", 10: "tientallen"}


def rounding_note(base: int, k: int) -> str:
    """The one explanation of rounded counts, at the top of every report (and nowhere else)."""
    multiples = ROUNDED_TO.get(base, f"veelvouden van {base}")
    return (
        f"Aantallen voor een gemeente, basisteam of district zijn afgerond op {multiples} "
        f"(0, {base}, {2 * base}, {3 * base}, …), zodat niemand te herkennen is: een {base} kan in werkelijkheid "
        f"1 tot en met {2 * base - 1} zijn en een 0 ook 1 tot en met {base - 1}. Aantallen voor de hele eenheid "
        f"zijn precies; alleen een aantal van 1 tot en met {k - 1} is daar ook afgerond. Elk totaal is apart "
        "afgerond, vanuit zijn eigen precieze waarde: de delen tellen daarom niet altijd precies op tot het "
        "totaal. Een totaal in dit rapport is altijd het gepubliceerde totaal van dat gebied en die periode, "
        "nooit een optelling."
    )


def explanation(k: int) -> str:
    """The one explanation of a hidden amount, at the top of every report."""
    return (
        f"“{SUPPRESSED}” staat alleen bij schadebedragen: zo'n bedrag publiceren we niet als het op minder dan {k} "
        "aangiften of meldingen berust, als één aangifte of melding het bedrag overheerst, of als het anders uit "
        "andere bedragen terug te rekenen zou zijn. Een afgeschermd bedrag kan dus ook groot zijn."
    )


STATUS = {"behaald": "behaald", "op_koers": "op koers", "achter": "achter op schema", "geen_data": "nog geen gegevens"}
BRON = {
    "politie": "Politie",
    "bank": "Banken",
    "fraudehelpdesk": "Fraudehelpdesk",
    "programma": "Programmabureau",
    "veiligheidsmonitor": "Veiligheidsmonitor",
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
SOORT = {"aangifte": "Aangiften", "melding": "Meldingen"}
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
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.afgeschermd{color:#8a5a00;font-style:italic}
.up{color:#a33}.down{color:#276b2f}.note{color:#555;font-size:13px}svg.chart{max-width:100%;height:auto;display:block}
svg.chart text{font-family:inherit;font-size:12px;fill:#1d2327}svg.chart text.marker{font-size:11px}
.box{background:#f3f6f8;border-left:4px solid #1f5f8b;padding:8px 12px;margin:10px 0}
nav.toc a{margin-right:12px}figure{margin:8px 0 4px}figcaption{margin-top:2px}
footer{margin-top:40px;color:#555;font-size:13px}
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
        f"(cybercrime).</p>"
        f'<p class="note" id="afronding">{escape(rounding_note(data.base, data.k))}</p>'
        f'<p class="note" id="afgeschermd">{escape(explanation(data.k))}</p>'
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
    return getal(value)


def fmt_eur(value: int | Decimal | float) -> str:
    return bedrag(value)


def fmt_pct(value: Decimal | float, sign: bool = False) -> str:
    return procent(value, teken=sign)


def _cell(key: str, value: int | Decimal | None, suppressed: bool, kind: str = "int") -> str:
    """A figure cell: the value, "afgeschermd" for an amount the publication hid, else "–" (no figure)."""
    if value is None:
        if suppressed:
            return f'<td class="n afgeschermd" data-key="{escape(key)}" data-value="">{SUPPRESSED}</td>'
        return f'<td class="n" data-key="{escape(key)}" data-value="">{NO_FIGURE}</td>'
    text = fmt_eur(value) if kind == "eur" else fmt_pct(value) if kind == "pct" else fmt_int(value)
    return f'<td class="n" data-key="{escape(key)}" data-value="{value}">{text}</td>'


def _change(key: str, now: Cel, before: Cel) -> str:
    """The change on a year before, from two published cells; hidden if either amount is hidden."""
    if now.onderdrukt or before.onderdrukt:
        return f'<td class="n afgeschermd" data-key="{escape(key)}" data-value="">{SUPPRESSED}</td>'
    if now.waarde is None or not before.waarde:
        return f'<td class="n" data-key="{escape(key)}" data-value="">{NO_FIGURE}</td>'
    pct = (100 * (Decimal(now.waarde) - Decimal(before.waarde)) / Decimal(before.waarde)).quantize(Decimal("0.1"))
    cls = "up" if pct > 0 else "down" if pct < 0 else ""
    return f'<td class="n {cls}" data-key="{escape(key)}" data-value="{pct}">{fmt_pct(pct, sign=True)}</td>'


def _figure(chart: str, bron: str, periode: str) -> str:
    """A chart with the source and period it shows, in words under it."""
    caption = f"Bron: {escape(bron)}. Periode: {escape(periode)}."
    return f'<figure>{chart}<figcaption class="note">{caption}</figcaption></figure>'


def _why_empty(what: str) -> str:
    return (
        f'<p class="note">Geen grafiek van {escape(what)}: te weinig cijfers boven 0 voor dit gebied. '
        "De tabel eronder toont wat gepubliceerd is.</p>"
    )


# --- sections -------------------------------------------------------------------------------------


def _period_words(periode: str) -> str:
    """2024 → "2024"; 2024Q2 → "het 2e kwartaal van 2024"."""
    return f"het {periode[-1]}e kwartaal van {periode[:4]}" if "Q" in periode else periode


def _kerncijfers(d: ReportData) -> tuple[str, str, str]:
    r = d.region
    head = (
        f'<tr><th>Cijfer</th><th class="n">{escape(r.naam)}, {escape(d.periode)}</th>'
        f'<th class="n">{escape(r.naam)}, {escape(d.periode_vorig)}</th><th class="n">verschil</th>'
        f'<th class="n">verschil district {escape(r.district)}</th><th class="n">verschil eenheid</th></tr>'
    )
    rows = []
    for c in d.kerncijfers:
        kind = "eur" if c.key.startswith("schade") else "int"
        rows.append(
            f"<tr><td>{escape(c.label)}{' in euro' if kind == 'eur' else ''}</td>"
            + _cell(f"kerncijfers/{c.key}/{d.periode}", c.regio.waarde, c.regio.onderdrukt, kind)
            + _cell(f"kerncijfers/{c.key}/{d.periode_vorig}", c.regio_vorig.waarde, c.regio_vorig.onderdrukt, kind)
            + _change(f"kerncijfers/{c.key}/verschil", c.regio, c.regio_vorig)
            + _change(f"kerncijfers/{c.key}/verschil/district", c.district, c.district_vorig)
            + _change(f"kerncijfers/{c.key}/verschil/eenheid", c.eenheid, c.eenheid_vorig)
            + "</tr>"
        )
    note = (
        f'<p class="note">Elk cijfer is het gepubliceerde totaal van {escape(r.naam)} over '
        f"{escape(_period_words(d.periode))}, over alle delictsvormen samen. Verschil: de verandering ten opzichte "
        f"van {escape(_period_words(d.periode_vorig))}, voor {escape(r.naam)}, het district en de hele eenheid. "
        "Banken en Fraudehelpdesk zien deels dezelfde slachtoffers als de politie; tel de rijen dus niet bij "
        f"elkaar op. Bij kleine aantallen kan een verschil groot lijken: van {d.base} naar {2 * d.base} is al "
        "+100,0%.</p>"
    )
    content = f"<table>{head}{''.join(rows)}</table>{note}"
    content += _per_gemeente(d)
    intro = (
        f"Hoeveel slachtoffers van online criminaliteit en fraude zich in {_period_words(d.periode)} meldden bij "
        "politie, banken en Fraudehelpdesk en hoeveel schade zij opgaven, vergeleken met een jaar eerder en met "
        "district en eenheid."
    )
    return _section("kerncijfers", "Kerncijfers", escape(intro), content)


def _per_gemeente(d: ReportData) -> str:
    """For a basisteam: the published totals of each of its municipalities."""
    if not d.per_gemeente:
        return ""
    keys = [key for key, label, *_ in KERNCIJFERS if not key.startswith("schade")]
    labels = {key: label for key, label, *_ in KERNCIJFERS}
    head = "<tr><th>Gemeente</th>" + "".join(f'<th class="n">{escape(labels[k])}</th>' for k in keys) + "</tr>"
    body = "".join(
        f"<tr><td>{escape(name)}</td>"
        + "".join(_cell(f"gemeente/{code}/{k}/{d.periode}", cells[k].waarde, False) for k in keys)
        + "</tr>"
        for code, name, cells in d.per_gemeente
    )
    return f"<h3>Per gemeente in het basisteam, {escape(d.periode)}</h3><table>{head}{body}</table>"


def _delictsvormen(d: ReportData) -> tuple[str, str, str]:
    vormen = d.delictsvormen
    shown = sorted((v for v in vormen if v.aangiften), key=lambda v: (-(v.aangiften or 0), v.label))
    by_count = shown[:5]
    # rounded counts tie often: name every delictsvorm with as many aangiften as the last one in the table
    tied = [v for v in shown[5:] if v.aangiften == by_count[-1].aangiften] if by_count else []
    by_damage = sorted((v for v in vormen if v.schadebedrag_eur), key=lambda v: (-v.schadebedrag_eur, v.label))[:5]

    def table(items: Sequence[DelictsvormJaar]) -> str:
        rows = "".join(
            f"<tr><td>{escape(v.label)}</td>"
            + _cell(f"delictsvormen/{v.delictsvorm}/aangiften", v.aangiften, False)
            + _cell(f"delictsvormen/{v.delictsvorm}/schade", v.schadebedrag_eur, v.onderdrukt, "eur")
            + _cell(f"delictsvormen/{v.delictsvorm}/bank", v.meldingen_bank, False)
            + _cell(f"delictsvormen/{v.delictsvorm}/fraudehelpdesk", v.meldingen_fraudehelpdesk, False)
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
            if value is None:
                text = SUPPRESSED if damage and v.onderdrukt else NO_FIGURE
            else:
                text = fmt_eur(value) if damage else fmt_int(value)
            result.append(Bar(v.label, None if value is None else float(value), text))
        return result

    def chart(title: str, items: Sequence[DelictsvormJaar], damage: bool, what: str) -> str:
        drawn = bars(items, damage)
        if sum(b.value is not None and b.value > 0 for b in drawn) < 2:
            return _why_empty(what)
        return _figure(bar_chart(title, drawn), "politie, aangiften per delictsvorm", str(d.jaar))

    content = (
        "<h3>Meeste slachtoffers: aangiften bij de politie</h3>"
        + chart(f"Delictsvormen met de meeste aangiften, {d.jaar}", by_count, False, "de aangiften per delictsvorm")
        + table(by_count)
        + _tied(tied)
        + "<h3>Meeste schade</h3>"
        + chart(f"Delictsvormen met de meeste schade, {d.jaar}", by_damage, True, "de schade per delictsvorm")
        + (table(by_damage) if by_damage else "<p>Geen gepubliceerde schadebedragen in dit jaar.</p>")
    )
    intro = f"Welke vormen van online criminaliteit in {d.jaar} de meeste slachtoffers en de meeste schade opleverden."
    return _section("delictsvormen", "Delictsvormen", intro, content)


def _tied(tied: Sequence[DelictsvormJaar]) -> str:
    """The delictsvormen left out of a top five only because they have as many aangiften as its last row."""
    if not tied:
        return ""
    names = [escape(v.label) for v in tied]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} en {names[-1]}"
    count = tied[0].aangiften or 0
    return (
        f'<p class="note">Ook <span data-key="delictsvormen/gelijk/aangiften" data-value="{count}">{fmt_int(count)}'
        f"</span> aangiften: {listed}.</p>"
    )


def _trend(d: ReportData) -> tuple[str, str, str]:
    t = d.trend
    marker = t.kwartalen.index(f"{t.breukjaar}Q1") if t.breukjaar and f"{t.breukjaar}Q1" in t.kwartalen else None
    series = [Series(SOORT[h], [None if v is None else float(v) for v in vs]) for h, vs in t.reeksen.items()]
    visible = sum(v is not None and v > 0 for vs in t.reeksen.values() for v in vs)
    periode = f"{t.kwartalen[0]} tot en met {t.kwartalen[-1]}" if t.kwartalen else d.kwartaal
    if visible < 4:
        chart = _why_empty("de politieregistraties per kwartaal")
    else:
        chart = _figure(
            line_chart(
                f"Politieregistraties per kwartaal, {d.region.naam}",
                t.kwartalen,
                series,
                marker_at=marker,
                marker_text=f"trendbreuk {t.breukjaar}" if t.breukjaar else "",
            ),
            "politie, gepubliceerde kwartaaltotalen van aangiften en meldingen",
            periode,
        )
    rows = "".join(
        f"<tr><td>{jaar}</td><td>{escape(HOOFDCATEGORIE.get(reeks, reeks))}</td>"
        f"<td>{'eigen registratie politie' if methode == 'geregistreerd' else 'vergelijkbare indeling'}</td>"
        + (
            f'<td class="n" data-key="trend/{jaar}/{reeks}/{methode}" data-value="{pct}">{fmt_pct(pct, sign=True)}</td>'
            if pct is not None
            else f'<td class="n" data-key="trend/{jaar}/{reeks}/{methode}" data-value="">{NO_FIGURE}</td>'
        )
        + "</tr>"
        for jaar, reeks, methode, pct in t.jaarverandering
    )
    explain = ""
    if t.breukjaar:
        explain = (
            f'<div class="box"><strong>Trendbreuk in {t.breukjaar}.</strong> De politie legt sinds {t.breukjaar} '
            "op een andere manier vast of een delict online is. In haar eigen registratie lijkt cybercrime daardoor "
            "sterk te dalen, terwijl dat grotendeels een andere indeling is. De lijnen hierboven tellen alle "
            "delictsvormen samen en hangen dus niet van die indeling af; de vergelijkbare indeling in de tabel "
            "hieronder deelt alle jaren op dezelfde manier in. "
            f"{escape(t.toelichting or '')}</div>"
        )
    table = (
        "<h3>Verandering per jaar: eigen registratie en vergelijkbare indeling</h3><table><tr><th>jaar</th><th>reeks"
        f'</th><th>indeling</th><th class="n">verandering t.o.v. vorig jaar</th></tr>{rows}</table>'
        '<p class="note">Berekend uit de gepubliceerde jaaraantallen; bij kleine aantallen zegt een verandering '
        f"weinig: van {d.base} naar 0 is al -100,0%. “{NO_FIGURE}”: geen verandering te berekenen, want een jaar "
        "eerder was het aantal 0 of is er geen cijfer.</p>"
    )
    intro = (
        "Hoe het aantal aangiften en meldingen van online criminaliteit bij de politie per kwartaal verloopt, en hoe "
        "cybercrime en gedigitaliseerde criminaliteit per jaar veranderen; de stippellijn markeert de trendbreuk."
    )
    gaps = (
        '<p class="note">Een onderbroken lijn: voor dat kwartaal is nog geen cijfer gepubliceerd.</p>'
        if visible >= 4 and any(v is None for vs in t.reeksen.values() for v in vs)
        else ""
    )
    return _section("trend", "Trend per kwartaal", intro, chart + gaps + explain + table, new_page=True)


def _dark_number(d: ReportData) -> tuple[str, str, str]:
    dn = d.dark_number
    parts = []
    if dn is not None:
        if dn.geschat is None:
            text = f"Voor {dn.jaar} is geen schatting beschikbaar."
        else:
            bron = (
                "de eenheid als geheel, want voor het eigen gebied is er geen betrouwbaar cijfer"
                if dn.bron_aangiftebereidheid and (dn.bron_aangiftebereidheid != "eigen_regio")
                else "het eigen gebied"
            )
            text = (
                f'In {dn.jaar} deden <span data-key="dark_number/aangiften" data-value="{dn.aangiften}">'
                f"{fmt_int(dn.aangiften)}</span> slachtoffers aangifte van online criminaliteit: cybercrime en "
                "gedigitaliseerde criminaliteit, dus zonder offline en nog niet gelabelde delicten die de "
                "kerncijfers wel meetellen. Volgens "
                f"de Veiligheidsmonitor {dn.vm_jaar} doet {fmt_pct(dn.aangiftebereidheid_pct)} van de slachtoffers "
                f"aangifte; dat is het cijfer van {bron}. Het werkelijke aantal slachtoffers ligt daarom naar "
                "schatting rond "
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
        parts.append(
            _figure(
                interval_chart(f"Veiligheidsmonitor {jaar}, percentages met marge", intervals),
                "CBS Veiligheidsmonitor",
                str(jaar),
            )
        )
        rows = []
        for v in vm:
            key = f"vm/{v.regio_code}/{v.onderwerp}"
            target = f"{fmt_pct(v.doelwaarde)} in {v.doeljaar}" if v.doelwaarde is not None else ""
            interval = f"{fmt_pct(v.ondergrens)} – {fmt_pct(v.bovengrens)}" if v.ondergrens is not None else NO_FIGURE
            rows.append(
                f"<tr><td>{escape(v.regio_naam)}</td><td>{escape(VM_LABEL.get(v.onderwerp, v.onderwerp))}</td>"
                + _cell(key, v.waarde, False, "pct")
                + f'<td class="n">{interval}</td><td class="n">{target}</td></tr>'
            )
        parts.append(
            '<table><tr><th>gebied</th><th>onderwerp</th><th class="n">waarde</th><th class="n">marge (95%)</th>'
            f'<th class="n">doel programma</th></tr>{"".join(rows)}</table>'
            '<p class="note">Percentages van de inwoners van 15 jaar en ouder (slachtofferschap) of van de '
            "slachtoffers, bij aangifte en melding elders. De marge geeft aan hoe zeker het cijfer is; de rode streep "
            f"in de grafiek is het doel van het programma. “{NO_FIGURE}”: te weinig respondenten voor een "
            "betrouwbaar cijfer.</p>"
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
                    _cell(f"wie/{dimensie}/{waarde}/{bron}", p.aantal, False)
                    if p
                    else f'<td class="n">{NO_FIGURE}</td>'
                )
            rows.append(f"<tr><td>{escape(label)}</td>{''.join(cells)}</tr>")
        chart_bron = PROFIEL_GRAFIEK[dimensie]
        bars = [
            Bar(label, None if p.aantal is None else float(p.aantal), _count_text(p))
            for waarde, label in labels.items()
            if waarde != "onbekend" and (p := by_key.get((dimensie, waarde, chart_bron)))
        ]
        parts.append(f"<h3>{escape(titel)}</h3>")
        if sum(b.value is not None and b.value > 0 for b in bars) >= 2:
            bron_tekst = {"politie": "politie, aangiften en meldingen", "bank": "banken, fraudemeldingen"}[chart_bron]
            chart = bar_chart(f"{titel}: slachtoffers bij {BRON[chart_bron].lower()}, {d.profiel_jaar}", bars)
            parts.append(_figure(chart, bron_tekst, str(d.profiel_jaar)))
        else:
            parts.append(_why_empty(f"{titel.lower()} bij {BRON[chart_bron].lower()}"))
        parts.append(f"<table>{head}{''.join(rows)}</table>")
        parts.append(_opvallend(d.profiel, dimensie, labels))
    parts.append(
        '<p class="note">Politie: aangiften en meldingen van online criminaliteit; de politie legt geen '
        "contactkanaal vast. Banken: fraudemeldingen. Fraudehelpdesk: alleen meldingen van slachtoffers. Eén "
        "slachtoffer kan bij meer dan één bron staan; tel de kolommen dus niet bij elkaar op. “Onbekend of "
        "organisatie”: de leeftijd is niet vastgelegd, of het slachtoffer is een bedrijf of instelling. "
        f"“{NO_FIGURE}”: deze bron legt dit niet vast.</p>"
    )
    jaar = d.profiel_jaar or d.jaar
    intro = (
        f"Welke leeftijdsgroepen en contactkanalen in {jaar} opvallen — de aanknopingspunten voor preventie, "
        "zoals Echt-Nep-bijeenkomsten voor senioren of voorlichting op scholen."
    )
    return _section("wie", "Wie worden getroffen", intro, "".join(parts))


def _count_text(p: Profiel) -> str:
    return NO_FIGURE if p.aantal is None else fmt_int(p.aantal)


def _opvallend(profiel: Sequence[Profiel], dimensie: str, labels: dict[str, str]) -> str:
    """Per source the largest published group (onbekend left out), in words; rounded counts can tie."""
    zinnen = []
    for bron in ("politie", "bank", "fraudehelpdesk"):
        shown = [
            p for p in profiel if p.bron == bron and p.dimensie == dimensie and p.waarde != "onbekend" and p.aantal
        ]
        if shown:
            most = max(p.aantal or 0 for p in shown)
            largest = {p.waarde for p in shown if p.aantal == most}
            top = [label for waarde, label in labels.items() if waarde in largest]
            zinnen.append(f"{BRON[bron]}: {top[0] if len(top) == 1 else ', '.join(top[:-1]) + ' en ' + top[-1]}")
    if not zinnen:
        return ""
    return f'<p class="note">Grootste gepubliceerde groep — {escape("; ".join(zinnen))}.</p>'


def _voortgang(d: ReportData) -> tuple[str, str, str]:
    rows = []
    for v in d.voortgang:
        realisatie, doel = _number(v.realisatie), _number(v.doelwaarde)
        scope = f", gemeten bij het laagste {v.niveau}" if v.niveau in {"basisteam", "district", "gemeente"} else ""
        value = "" if v.realisatie is None else v.realisatie
        rows.append(
            f"<tr><td>{v.doel or ''}</td><td>{escape(v.omschrijving)}{scope}</td>"
            f'<td class="n" data-key="voortgang/{escape(v.indicator)}" data-value="{value}">'
            f'{realisatie or NO_FIGURE}</td><td class="n">{doel} in {v.doeljaar}</td>'
            f'<td class="status-{v.status}">{STATUS.get(v.status, v.status)}</td></tr>'
        )
    content = (
        "<h3>Stand van het jaarplan voor de hele eenheid</h3>"
        '<table><tr><th>doel</th><th>afspraak in het jaarplan</th><th class="n">stand</th>'
        f'<th class="n">doel en jaar</th><th>beoordeling</th></tr>{"".join(rows)}</table>'
        '<p class="note">Deze tabel is voor de hele eenheid en staat zo in elk rapport; het eigen gebied staat bij de '
        "activiteiten hieronder. Bij afspraken per basisteam, district of gemeente telt het gebied dat het minst "
        "deed, want elk gebied moet het doel halen. “Op koers” en “achter op schema” vergelijken de stand met wat op "
        f"de peildatum verwacht mocht worden. “{NO_FIGURE}”: nog geen gegevens.</p>"
    ) + _activiteiten(d)
    intro = escape(
        f"Hoe het programma voor de hele eenheid ervoor staat ten opzichte van de doelen in het jaarplan, stand "
        f"{d.jaar}, en wat het in {d.region.naam} zelf deed."
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
    return "" if value is None else getal_of_decimaal(value)


def _kwaliteit(d: ReportData) -> tuple[str, str, str]:
    rows = []
    for q in d.kwaliteit:
        missing = q.ontbrekend
        rows.append(
            f'<tr><td>{escape(BRON.get(q.bron, q.bron))}</td><td class="n">{fmt_int(q.leveringen or 0)}</td>'
            f'<td class="n">{fmt_int(q.leveringen_afgekeurd or 0)}</td>'
            + _cell(f"kwaliteit/{q.bron}/rijen_afgekeurd", q.pct_rijen_afgekeurd, False, "pct")
            + _cell(f"kwaliteit/{q.bron}/ongelabeld", q.pct_ongelabeld, False, "pct")
            + f"<td>{escape(', '.join(missing)) if missing else 'geen'}</td></tr>"
        )
    content = (
        '<table><tr><th>bron</th><th class="n">leveringen</th><th class="n">afgekeurd</th>'
        '<th class="n">rijen afgekeurd</th><th class="n">politie: nog niet gelabeld</th>'
        f"<th>ontbrekende perioden</th></tr>{''.join(rows)}</table>"
        '<p class="note">Deze tabel is voor de hele eenheid en staat zo in elk rapport: de bronnen leveren voor de '
        "hele eenheid tegelijk aan. Afgekeurde leveringen en rijen tellen niet mee in de cijfers; de leverancier "
        "levert ze opnieuw aan. Een afgekeurde levering die een nieuwere versie al herstelde, telt hier niet meer "
        "mee. “Nog niet gelabeld”: politieregistraties waarvan nog niet vastligt welke delictsvorm het is; zij "
        "staan niet bij een delictsvorm, wel in de totalen. Ontbrekende perioden: nog geen geaccepteerde levering "
        f"in deze publicatie. “{NO_FIGURE}”: niet van toepassing.</p>"
    )
    intro = escape(f"Hoe volledig en betrouwbaar de cijfers over {d.jaar} zijn, voor de hele eenheid.")
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
