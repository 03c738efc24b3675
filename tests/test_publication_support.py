"""A small synthetic warehouse for the publication and quality tests (no tests in here).

Registrations are drawn at random (fixed seed) for two districts of the real reference list;
the marts are aggregated from them in SQL the way the dbt project does, with the columns of
`data_contracts/published.yaml` and no suppression, so disclosure control has real small
cells, real groups and real dominant damages to work on.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from dvcc_pipeline.config import SEEDS_DIR

DISTRICTS = ("Flevoland", "Gooi en Vechtstreek")
DELICTSVORMEN = ("phishing", "bankhelpdeskfraude", "aan_en_verkoopfraude", "hacken", "identiteitsfraude", "sextortion")
YEARS = (2023, 2024)
LEEFTIJDSKLASSEN = ("0-17", "18-24", "25-44", "45-64", "65+")
KANALEN = ("telefoon", "sms", "whatsapp", "email", "website", "marktplaats", "sociale_media", "overig")
ACTIVITEITEN = ("informatiebeeld_besproken", "kennisbijeenkomst", "huisbezoek")


def reference_gemeenten() -> pd.DataFrame:
    frame = pd.read_csv(SEEDS_DIR / "gemeenten_midden_nederland.csv", dtype=str)
    return frame[frame["district"].isin(DISTRICTS)].reset_index(drop=True)


def taxonomy() -> pd.DataFrame:
    frame = pd.read_csv(SEEDS_DIR / "taxonomy.csv", dtype=str)
    frame["is_fraude"] = frame["is_fraude"].str.lower() == "true"
    return frame[frame["delictsvorm"].isin(DELICTSVORMEN)].reset_index(drop=True)


def registrations(seed: int = 7) -> pd.DataFrame:
    """One row per registration: few in small municipalities, so small cells occur."""
    rng = np.random.default_rng(seed)
    gemeenten = reference_gemeenten()["gemeentecode"].to_numpy()
    size = rng.choice([2, 6, 40, 120], size=len(gemeenten), p=[0.3, 0.3, 0.25, 0.15])
    weight = size / size.sum()
    n = 4000
    kwartaal_nr = rng.integers(1, 5, n)
    jaar = rng.choice(YEARS, n)
    bron = rng.choice(["politie", "politie", "bank", "fraudehelpdesk"], n)
    soort = np.where(bron == "politie", rng.choice(["aangifte", "melding"], n, p=[0.7, 0.3]), "melding")
    damage = np.round(rng.lognormal(5, 1.2, n), 2)
    damage[rng.random(n) < 0.02] = 250000.00  # an occasional registration that dominates its cell
    # victim profile from its own generator, so the draws above stay as they were
    profile = np.random.default_rng(seed + 1)
    leeftijd = profile.choice([*LEEFTIJDSKLASSEN, None], n, p=[0.05, 0.15, 0.35, 0.25, 0.15, 0.05])
    kanaal = np.where(bron == "politie", None, profile.choice(KANALEN, n))
    return pd.DataFrame(
        {
            "melding_id": [f"M{i:06d}" for i in range(n)],
            "bron": bron,
            "soort": soort,
            "jaar": jaar.astype("int32"),
            "kwartaal": [f"{y}Q{q}" for y, q in zip(jaar, kwartaal_nr, strict=True)],
            "gemeentecode": rng.choice(gemeenten, n, p=weight),
            "delictsvorm": rng.choice(DELICTSVORMEN, n, p=[0.4, 0.2, 0.2, 0.1, 0.07, 0.03]),
            "schadebedrag_eur": damage,
            "leeftijdsklasse": leeftijd,
            "kanaal": kanaal,
        }
    )


def profile_values() -> pd.DataFrame:
    """Every value of each victim-profile dimension, `onbekend` included."""
    rows = [("leeftijdsklasse", v) for v in (*LEEFTIJDSKLASSEN, "onbekend")]
    rows += [("kanaal", v) for v in (*KANALEN, "onbekend")]
    return pd.DataFrame(rows, columns=["dimensie", "waarde"])


def programme_registrations(seed: int = 7) -> pd.DataFrame:
    """Programme activities at every level, for ind_programma_activiteiten."""
    rng = np.random.default_rng(seed + 2)
    gemeenten = reference_gemeenten()
    areas = [("gemeente", code) for code in gemeenten["gemeentecode"]]
    areas += [("basisteam", team) for team in gemeenten["basisteam"].unique()]
    areas += [("district", district) for district in DISTRICTS] + [("regio", "Midden-Nederland")]
    picked = rng.integers(0, len(areas), 60)
    return pd.DataFrame(
        {
            "registratie_id": [f"R{i:04d}" for i in range(60)],
            "jaar": rng.choice(YEARS, 60).astype("int32"),
            "activiteit": rng.choice(ACTIVITEITEN, 60),
            "niveau": [areas[i][0] for i in picked],
            "gebied": [areas[i][1] for i in picked],
            "aantal": rng.integers(1, 4, 60),
        }
    )


_MARTS_SQL = """
CREATE SCHEMA IF NOT EXISTS reference; CREATE SCHEMA IF NOT EXISTS intermediate;
CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS raw;
CREATE OR REPLACE TABLE intermediate.int_meldingen AS
  SELECT m.*, t.hoofdcategorie, t.delictgroep FROM meldingen_df m JOIN taxonomy_df t USING (delictsvorm);
CREATE OR REPLACE TABLE marts.dim_gemeente AS
  SELECT gemeentecode, gemeente, basisteam, district, eenheid, veiligheidsregio_code, veiligheidsregio,
         'extra kolom' AS niet_in_contract
  FROM gemeenten_df;
CREATE OR REPLACE TABLE marts.dim_delictsvorm AS
  SELECT delictsvorm, label, hoofdcategorie, delictgroep, is_fraude FROM taxonomy_df;
CREATE OR REPLACE TEMP TABLE regio AS
  SELECT gemeentecode, 'gemeente' AS regio_niveau, gemeentecode AS regio_code, gemeente AS regio_naam FROM gemeenten_df
  UNION ALL SELECT gemeentecode, 'basisteam', basisteam, basisteam FROM gemeenten_df
  UNION ALL SELECT gemeentecode, 'district', district, district FROM gemeenten_df
  UNION ALL SELECT gemeentecode, 'eenheid', eenheid, eenheid FROM gemeenten_df;
CREATE OR REPLACE TABLE marts.fct_meldingen_kwartaal AS
  WITH raster AS (
    SELECT k.kwartaal, k.jaar, g.gemeentecode, b.bron, b.soort, t.delictsvorm
    FROM (SELECT DISTINCT bron, kwartaal, jaar FROM intermediate.int_meldingen) k
    JOIN (VALUES ('politie', 'aangifte'), ('politie', 'melding'), ('bank', 'melding'),
                 ('fraudehelpdesk', 'melding')) b(bron, soort) ON b.bron = k.bron
    CROSS JOIN gemeenten_df g CROSS JOIN taxonomy_df t),
  tel AS (SELECT kwartaal, gemeentecode, bron, soort, delictsvorm, count(*) AS aantal,
                 sum(schadebedrag_eur) AS schade
          FROM intermediate.int_meldingen GROUP BY ALL)
  SELECT raster.*, coalesce(tel.aantal, 0) AS aantal, CAST(coalesce(tel.schade, 0) AS DECIMAL(14,2)) AS schadebedrag_eur
  FROM raster LEFT JOIN tel USING (kwartaal, gemeentecode, bron, soort, delictsvorm);
CREATE OR REPLACE TABLE marts.ind_totalen AS
  WITH per_periode AS (
    SELECT f.kwartaal AS periode, r.regio_niveau, r.regio_code, f.bron, f.soort, sum(f.aantal) AS aantal,
           sum(f.schadebedrag_eur) AS schadebedrag_eur
    FROM marts.fct_meldingen_kwartaal f JOIN regio r USING (gemeentecode) GROUP BY ALL
    UNION ALL
    SELECT CAST(f.jaar AS VARCHAR), r.regio_niveau, r.regio_code, f.bron, f.soort, sum(f.aantal),
           sum(f.schadebedrag_eur)
    FROM marts.fct_meldingen_kwartaal f JOIN regio r USING (gemeentecode) GROUP BY ALL),
  grootste AS (
    SELECT m.kwartaal AS periode, r.regio_niveau, r.regio_code, m.bron, m.soort, max(m.schadebedrag_eur) AS max_schade
    FROM intermediate.int_meldingen m JOIN regio r USING (gemeentecode) GROUP BY ALL
    UNION ALL
    SELECT CAST(m.jaar AS VARCHAR), r.regio_niveau, r.regio_code, m.bron, m.soort, max(m.schadebedrag_eur)
    FROM intermediate.int_meldingen m JOIN regio r USING (gemeentecode) GROUP BY ALL)
  SELECT p.*, g.max_schade FROM per_periode p
  LEFT JOIN grootste g USING (periode, regio_niveau, regio_code, bron, soort);
CREATE OR REPLACE TABLE marts.ind_delictsvormen_jaar AS
  WITH raster AS (
    SELECT j.jaar, r.regio_niveau, r.regio_code, r.regio_naam, t.delictsvorm
    FROM (SELECT DISTINCT jaar FROM intermediate.int_meldingen) j
    CROSS JOIN (SELECT DISTINCT regio_niveau, regio_code, regio_naam FROM regio) r
    CROSS JOIN taxonomy_df t),
  tel AS (
    SELECT m.jaar, r.regio_niveau, r.regio_code, m.delictsvorm,
           count_if(bron = 'politie' AND soort = 'aangifte') AS aangiften,
           sum(schadebedrag_eur) FILTER (WHERE bron = 'politie' AND soort = 'aangifte') AS schade,
           count_if(bron = 'bank') AS meldingen_bank, count_if(bron = 'fraudehelpdesk') AS meldingen_fraudehelpdesk
    FROM intermediate.int_meldingen m JOIN regio r USING (gemeentecode) GROUP BY ALL)
  SELECT raster.*, coalesce(aangiften, 0) AS aangiften,
         CAST(coalesce(schade, 0) AS DECIMAL(14,2)) AS schadebedrag_eur,
         coalesce(meldingen_bank, 0) AS meldingen_bank,
         coalesce(meldingen_fraudehelpdesk, 0) AS meldingen_fraudehelpdesk,
         CAST(rank() OVER (PARTITION BY raster.jaar, raster.regio_niveau, raster.regio_code
                           ORDER BY coalesce(aangiften, 0) DESC) AS INTEGER) AS rang
  FROM raster LEFT JOIN tel USING (jaar, regio_niveau, regio_code, delictsvorm);
CREATE OR REPLACE TABLE marts.ind_trend_jaar AS
  WITH reeksen AS (
    SELECT * FROM (VALUES ('cybercrime'), ('gedigitaliseerd'), ('fraude_totaal'), ('online_totaal')) v(reeks)),
  methoden AS (SELECT * FROM (VALUES ('geregistreerd'), ('geharmoniseerd')) v(methode)),
  in_reeks AS (
    SELECT jaar, gemeentecode, hoofdcategorie AS reeks FROM intermediate.int_meldingen WHERE bron = 'politie'
    UNION ALL SELECT jaar, gemeentecode, 'online_totaal' FROM intermediate.int_meldingen WHERE bron = 'politie'
    UNION ALL SELECT m.jaar, m.gemeentecode, 'fraude_totaal' FROM intermediate.int_meldingen m
      JOIN taxonomy_df t USING (delictsvorm) WHERE bron = 'politie' AND t.is_fraude),
  tel AS (SELECT jaar, regio_niveau, regio_code, reeks, count(*) AS aantal
          FROM in_reeks JOIN regio USING (gemeentecode) GROUP BY ALL),
  raster AS (
    SELECT j.jaar, r.regio_niveau, r.regio_code, reeks, methode, coalesce(tel.aantal, 0) AS aantal
    FROM (SELECT DISTINCT jaar FROM intermediate.int_meldingen) j
    CROSS JOIN (SELECT DISTINCT regio_niveau, regio_code FROM regio) r CROSS JOIN reeksen CROSS JOIN methoden
    LEFT JOIN tel USING (jaar, regio_niveau, regio_code, reeks))
  SELECT h.*, v.aantal AS aantal_vorig_jaar,
         CAST(round(100.0 * (h.aantal - v.aantal) / nullif(v.aantal, 0), 1) AS DECIMAL(10,1)) AS verandering_pct,
         false AS trendbreuk, 'toelichting' AS toelichting
  FROM raster h LEFT JOIN raster v ON v.jaar = h.jaar - 1 AND v.regio_niveau = h.regio_niveau
    AND v.regio_code = h.regio_code AND v.reeks = h.reeks AND v.methode = h.methode;
CREATE OR REPLACE TABLE marts.ind_dark_number AS
  WITH groepen AS (SELECT DISTINCT delictgroep FROM taxonomy_df UNION ALL SELECT 'totaal'),
  tel AS (
    SELECT jaar, regio_niveau, regio_code, delictgroep, count(*) AS aantal FROM intermediate.int_meldingen
      JOIN regio USING (gemeentecode) WHERE bron = 'politie' AND soort = 'aangifte' GROUP BY ALL
    UNION ALL SELECT jaar, regio_niveau, regio_code, 'totaal', count(*) FROM intermediate.int_meldingen
      JOIN regio USING (gemeentecode) WHERE bron = 'politie' AND soort = 'aangifte' GROUP BY ALL)
  SELECT j.jaar, r.regio_niveau, r.regio_code, g.delictgroep, coalesce(tel.aantal, 0) AS aangiften,
         CAST(25.0 AS DECIMAL(10,1)) AS aangiftebereidheid_pct,
         CAST(20.0 AS DECIMAL(10,1)) AS aangiftebereidheid_ondergrens,
         CAST(33.3 AS DECIMAL(10,1)) AS aangiftebereidheid_bovengrens, 2023 AS vm_jaar,
         'terugval_re03' AS bron_aangiftebereidheid,
         coalesce(tel.aantal, 0) * 4 AS geschat_slachtoffers, coalesce(tel.aantal, 0) * 3 AS ondergrens,
         coalesce(tel.aantal, 0) * 5 AS bovengrens
  FROM (SELECT DISTINCT jaar FROM intermediate.int_meldingen) j
  CROSS JOIN (SELECT DISTINCT regio_niveau, regio_code FROM regio) r CROSS JOIN groepen g
  LEFT JOIN tel USING (jaar, regio_niveau, regio_code, delictgroep);
CREATE OR REPLACE TABLE marts.ind_veiligheidsmonitor AS
  SELECT 2023 AS jaar, gemeentecode AS regio_code, 'gemeente' AS regio_niveau, gemeente AS regio_naam,
         'aangifte_online' AS onderwerp, CAST(24.5 AS DECIMAL(10,1)) AS waarde,
         CAST(20.1 AS DECIMAL(10,1)) AS ondergrens,
         CAST(29.0 AS DECIMAL(10,1)) AS bovengrens, true AS betrouwbaar, NULL AS doelwaarde, NULL AS doeljaar
  FROM gemeenten_df
  UNION ALL SELECT 2023, 'RE03', 'eenheid', 'Midden-Nederland', 'aangifte_online', 25.0, 23.0, 27.0, true, 30.0, 2026;
CREATE OR REPLACE TABLE marts.ind_kwaliteit AS
  SELECT jaar, bron, 4 AS leveringen, 0 AS leveringen_afgekeurd, count(*) AS rijen_ontvangen,
         count(*) AS rijen_geaccepteerd, 0 AS rijen_afgekeurd, CAST(0 AS DECIMAL(10,1)) AS pct_rijen_afgekeurd,
         count(*) AS registraties, 0 AS ongelabeld, CAST(0 AS DECIMAL(10,1)) AS pct_ongelabeld,
         0 AS hoofdcategorie_afwijkend, CAST(0 AS DECIMAL(10,1)) AS pct_hoofdcategorie_afwijkend
  FROM intermediate.int_meldingen GROUP BY ALL;
CREATE OR REPLACE TABLE marts.ind_programma_voortgang AS
  SELECT 1 AS doel, 'voorlichting' AS indicator, 'Voorlichtingsbijeenkomsten' AS omschrijving, 'programma' AS bron,
         'regio' AS niveau, 2024 AS periode, 10.0 AS basiswaarde, 2023 AS basisjaar, 20.0 AS doelwaarde,
         2026 AS doeljaar, '>=' AS vergelijking, 14.0 AS realisatie, 13.3 AS verwacht_op_peildatum,
         DATE '2024-12-31' AS peildatum, 'op_koers' AS status;
CREATE OR REPLACE TABLE marts.ind_slachtofferprofiel_jaar AS
  WITH dim AS (
    SELECT jaar, gemeentecode, bron, 'leeftijdsklasse' AS dimensie, coalesce(leeftijdsklasse, 'onbekend') AS waarde
    FROM intermediate.int_meldingen WHERE bron <> 'politie' OR hoofdcategorie IN ('cybercrime', 'gedigitaliseerd')
    UNION ALL
    SELECT jaar, gemeentecode, bron, 'kanaal', coalesce(kanaal, 'onbekend')
    FROM intermediate.int_meldingen WHERE bron <> 'politie'),
  waarden AS (SELECT * FROM waarden_df),
  raster AS (
    SELECT j.jaar, r.regio_niveau, r.regio_code, r.regio_naam, b.bron, w.dimensie, w.waarde
    FROM (SELECT DISTINCT jaar FROM intermediate.int_meldingen) j
    CROSS JOIN (SELECT DISTINCT regio_niveau, regio_code, regio_naam FROM regio) r
    CROSS JOIN (VALUES ('politie'), ('bank'), ('fraudehelpdesk')) b(bron)
    JOIN waarden w ON b.bron <> 'politie' OR w.dimensie = 'leeftijdsklasse'),
  tel AS (SELECT jaar, regio_niveau, regio_code, bron, dimensie, waarde, count(*) AS aantal
          FROM dim JOIN regio USING (gemeentecode) GROUP BY ALL)
  SELECT raster.*, coalesce(tel.aantal, 0) AS aantal
  FROM raster LEFT JOIN tel USING (jaar, regio_niveau, regio_code, bron, dimensie, waarde);
CREATE OR REPLACE TABLE marts.ind_programma_activiteiten AS
  WITH p AS (SELECT *, CASE niveau WHEN 'regio' THEN 'eenheid' ELSE niveau END AS regio_niveau FROM programma_df),
  rang AS (SELECT * FROM (VALUES ('gemeente', 1), ('basisteam', 2), ('district', 3), ('eenheid', 4)) v(niveau, nr)),
  per_gebied AS (
    SELECT DISTINCT p.registratie_id, p.jaar, p.activiteit, p.aantal, boven.regio_niveau, boven.regio_code
    FROM p JOIN regio eigen ON eigen.regio_niveau = p.regio_niveau AND eigen.regio_code = p.gebied
    JOIN regio boven USING (gemeentecode)
    JOIN rang e ON e.niveau = p.regio_niveau JOIN rang b ON b.niveau = boven.regio_niveau WHERE b.nr >= e.nr),
  tel AS (SELECT jaar, regio_niveau, regio_code, activiteit, sum(aantal) AS aantal FROM per_gebied GROUP BY ALL)
  SELECT j.jaar, r.regio_niveau, r.regio_code, r.regio_naam, a.activiteit, coalesce(tel.aantal, 0) AS aantal
  FROM (SELECT DISTINCT jaar FROM p) j
  CROSS JOIN (SELECT DISTINCT regio_niveau, regio_code, regio_naam FROM regio) r
  CROSS JOIN (SELECT DISTINCT activiteit FROM p) a
  LEFT JOIN tel USING (jaar, regio_niveau, regio_code, activiteit);
CREATE OR REPLACE TABLE raw.politie_registraties AS
  SELECT melding_id AS registratie_id, kwartaal AS _periode, 'L-politie-' || kwartaal AS _levering_id
  FROM intermediate.int_meldingen WHERE bron = 'politie';
CREATE OR REPLACE TABLE raw.deliveries AS
  SELECT DISTINCT 'L-politie-' || kwartaal AS levering_id, 'politie_registraties' AS feed,
         'politie_registraties_' || kwartaal || '.csv' AS bestandsnaam, kwartaal AS periode, 'politie' AS leverancier,
         1 AS versie, sha256(kwartaal) AS sha256, '1.0.0' AS contractversie, 'geaccepteerd' AS status
  FROM intermediate.int_meldingen;
"""


def build_warehouse(path: Path, seed: int = 7) -> pd.DataFrame:
    """Write the synthetic raw layer, int_meldingen and marts into the DuckDB file `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meldingen_df = registrations(seed)
    gemeenten_df = reference_gemeenten()
    taxonomy_df = taxonomy()
    with duckdb.connect(str(path)) as conn:
        conn.register("meldingen_df", meldingen_df)
        conn.register("gemeenten_df", gemeenten_df)
        conn.register("taxonomy_df", taxonomy_df)
        conn.register("programma_df", programme_registrations(seed))
        conn.register("waarden_df", profile_values())
        conn.execute(_MARTS_SQL)
    return meldingen_df


def audit_published(conn: duckdb.DuckDBPyConnection, warehouse: Path):
    """The interval audit of an open published file (schema main) against the warehouse's
    marts (which only say which counts are small): every table and link together."""
    from dvcc_pipeline.publication.audit import audited_tables, interval_audit
    from dvcc_pipeline.publication.contract import load_published_contract

    contract = load_published_contract()
    with conn.cursor() as cursor:
        cursor.execute("ATTACH ? AS audit_wh (READ_ONLY)", [str(warehouse)])
        try:
            return interval_audit(
                cursor,
                contract,
                relations={t.name: f"main.{t.name}" for t in contract.mart_tables},
                truth={t.name: f"audit_wh.marts.{t.name}" for t in audited_tables(contract)},
                regions="main.dim_gemeente",
            )
        finally:
            cursor.execute("DETACH audit_wh")
