"""A deterministic synthetic region, "Dunmere Vale", with planted creative clusters and their ground truth.

The region is fictional. Nothing in it is copied from real data: the layout (towns, planted clusters,
chain, formation agent) is fixed in this module and every random draw comes from one seeded
``numpy.random.Generator``, so the same seed always gives the same attribute content.

What is generated (all in EPSG:27700, British National Grid metres)
--------------------------------------------------------------------
* ``region`` – a smooth, non-rectangular boundary (about 37 × 28 km) placed in the English Midlands part
  of the grid (south-west corner near E 412000, N 296000).
* ``areas`` – 330 ward-like small areas: Voronoi cells of seed points drawn with a density that
  follows population (towns get small wards, the countryside large ones), clipped to the boundary.
  Creative quarters sit in dense inner-urban fabric: each planted cluster centre gets a small ward
  with a ring of six small wards around it.
  They tile the region without gaps or overlaps. Fields ``area_id`` ("DM000123"), ``area_name``
  (unique generated names), ``town``.
* ``postcodes`` – synthetic postcode units in the fictional postcode area "DM" (districts DM1–DM20,
  units such as "DM1 4QT"), each with an integer-metre centroid like OS Code-Point Open.
  Fields ``Postcode, easting, northing, district, post_town, area_id, n_firms``.
* ``firms`` – 56,000 Companies House-style live companies placed AT their postcode centroid,
  as registered offices geocoded with Code-Point Open would be. Fields ``CompanyName``,
  ``CompanyNumber`` (fictional prefix "DV" + 6 digits, so it can never equal a real company number),
  ``Postcode``, ``RegAddress.PostTown``, ``CompanyCategory``, ``CompanyStatus`` ("Active"),
  ``CountryOfOrigin``, ``IncorporationDate`` (ISO "YYYY-MM-DD", 1980-01-01 … 2026-10-31),
  ``SICCode.SicText_1`` … ``_4`` ("62012 - Business and domestic software development"; the 2nd–4th
  are NULL for most firms).
* ``towns`` – the town and village centres used to build the population surface.
* ``roads`` – context for maps, derived from the towns without randomness: the "Vale Motorway" along the
  corridor towns (Kelham – Millbrook – Stanton Cross – Bramford) and A roads joining every other town to the
  network (the shortest links that connect all towns, a minimum spanning tree). Fields ``name``, ``road_class``.

SIC codes follow rough UK register proportions (the embedded :data:`SIC_TABLE`, written for this
module from general knowledge of the UK SIC 2007 condensed list): about 3.6 % of background trading
firms are creative; with the planted clusters and the formation agent about 11 % of all firms are
creative by their first SIC code (the UK register share). About 6.5 % of all firms are dormant/non-trading (99999 / 74990).
About 0.5 % of firms have no usable first SIC code (NULL, blank or "None Supplied"), and about 0.5 % of
postcodes are written without the space or in lower case, as happens in the register.

Planted structure (the ground truth, see :func:`write_demo_region`)
-------------------------------------------------------------------
* 7 creative clusters in or near towns, each a disc of known centre and radius (550–800 m) holding a
  known number of creative firms (380–450, denser towards the centre) with a dominant DCMS sub-sector
  (50–65 %), the rest in national proportions.
* A chain of 4 screen-industry clusters (360 firms each, "chain_order" 0–3) along a straight-ish line of
  about 19 km between the towns of Kelham and Bramford, for corridor analysis.
* With the default seed, every planted cluster's centre area is a Getis-Ord Gi* hot spot of the creative
  count (queen contiguity, 95 % after Benjamini–Hochberg) and has a creative LQ above 4.
* One formation-agent postcode in Ashbridge town centre holding 450 companies (150 of them creative,
  mixed sub-sectors), at least 1.9 km from any planted cluster centre.
* A background of creative firms everywhere else following the firm density, with no structure.

Files written into ``folder``: ``demo_region.gpkg`` (layers ``region``, ``towns``, ``roads``, ``areas``,
``postcodes``, ``firms``), ``firms.csv`` (the firms without coordinates, same columns), ``postcodes.csv``
(Code-Point Open columns, *with* a header row: ``Postcode, Positional_quality_indicator, Eastings,
Northings, Country_code, NHS_regional_HA_code, NHS_HA_code, Admin_county_code, Admin_district_code,
Admin_ward_code``; ``Admin_ward_code`` holds the demo ``area_id``) and ``ground_truth.json``.

Command line: ``python3 -m creative_clusters_plugin.core.demo_region OUTPUT_FOLDER [--seed N]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from .errors import CreativeClustersError
from .firms.subsectors import SUBSECTORS

DEFAULT_SEED = 20261124
CRS = "EPSG:27700"
REGION_NAME = "Dunmere Vale"
POSTCODE_AREA = "DM"
#: south-west corner of the layout frame; all layout coordinates below are km from this corner.
ORIGIN = (412000.0, 296000.0)
SNAPSHOT_DATE = date(2026, 10, 31)
FIRST_DATE = date(1980, 1, 1)

N_FIRMS_TARGET = 56000
N_AREAS = 330
N_BACKGROUND_POSTCODES = 12000
BACKGROUND_CREATIVE_SHARE = 0.036
DORMANT_SHARE = 0.065
N_DISTRICTS = 20

FILM = SUBSECTORS["film"]

# ---------------------------------------------------------------------------------------------------
# SIC 2007 (UK, 5-digit) codes with Companies House descriptions and rough weights (per ~1,000 trading
# companies on the register). The 44 creative codes cover all 31 DCMS creative 4-digit classes.
# (code, description, weight, DCMS sub-sector code or None)
# ---------------------------------------------------------------------------------------------------
SIC_TABLE = (
    # --- non-creative -----------------------------------------------------------------------------
    ("01410", "Raising of dairy cattle", 1.5, None),
    ("01500", "Mixed farming", 3.0, None),
    ("10710", "Manufacture of bread; manufacture of fresh pastry goods and cakes", 1.5, None),
    ("25620", "Machining", 2.0, None),
    ("33120", "Repair of machinery", 2.0, None),
    ("41100", "Development of building projects", 28.0, None),
    ("41201", "Construction of commercial buildings", 9.0, None),
    ("41202", "Construction of domestic buildings", 20.0, None),
    ("42990", "Construction of other civil engineering projects n.e.c.", 5.0, None),
    ("43210", "Electrical installation", 15.0, None),
    ("43220", "Plumbing, heat and air-conditioning installation", 12.0, None),
    ("43290", "Other construction installation", 4.0, None),
    ("43320", "Joinery installation", 4.0, None),
    ("43341", "Painting", 5.0, None),
    ("43390", "Other building completion and finishing", 9.0, None),
    ("43910", "Roofing activities", 4.0, None),
    ("43999", "Other specialised construction activities n.e.c.", 22.0, None),
    ("45111", "Sale of new cars and light motor vehicles", 3.0, None),
    ("45112", "Sale of used cars and light motor vehicles", 10.0, None),
    ("45200", "Maintenance and repair of motor vehicles", 12.0, None),
    ("46190", "Agents involved in the sale of a variety of goods", 5.0, None),
    ("46900", "Non-specialised wholesale trade", 10.0, None),
    ("47110", "Retail sale in non-specialised stores with food, beverages or tobacco predominating", 6.0, None),
    ("47190", "Other retail sale in non-specialised stores", 6.0, None),
    ("47710", "Retail sale of clothing in specialised stores", 5.0, None),
    ("47910", "Retail sale via mail order houses or via Internet", 25.0, None),
    ("47990", "Other retail sale not in stores, stalls or markets", 4.0, None),
    ("49320", "Taxi operation", 8.0, None),
    ("49410", "Freight transport by road", 12.0, None),
    ("52290", "Other transportation support activities", 4.0, None),
    ("53202", "Unlicensed carrier", 8.0, None),
    ("55100", "Hotels and similar accommodation", 3.0, None),
    ("55900", "Other accommodation", 2.0, None),
    ("56101", "Licensed restaurants", 12.0, None),
    ("56102", "Unlicensed restaurants and cafes", 12.0, None),
    ("56103", "Take-away food shops and mobile food stands", 12.0, None),
    ("56210", "Event catering activities", 3.0, None),
    ("56302", "Public houses and bars", 7.0, None),
    ("62090", "Other information technology service activities", 14.0, None),
    ("63990", "Other information service activities n.e.c.", 3.0, None),
    ("64205", "Activities of financial services holding companies", 3.0, None),
    ("64209", "Activities of other holding companies n.e.c.", 15.0, None),
    ("64999", "Financial intermediation not elsewhere classified", 5.0, None),
    ("66190", "Activities auxiliary to financial intermediation n.e.c.", 4.0, None),
    ("66220", "Activities of insurance agents and brokers", 2.0, None),
    ("68100", "Buying and selling of own real estate", 25.0, None),
    ("68209", "Other letting and operating of own or leased real estate", 45.0, None),
    ("68310", "Real estate agencies", 5.0, None),
    ("68320", "Management of real estate on a fee or contract basis", 12.0, None),
    ("69102", "Solicitors", 5.0, None),
    ("69201", "Accounting and auditing activities", 12.0, None),
    ("69202", "Bookkeeping activities", 8.0, None),
    ("69203", "Tax consultancy", 3.0, None),
    ("70100", "Activities of head offices", 10.0, None),
    ("70221", "Financial management", 4.0, None),
    ("70229", "Management consultancy activities other than financial management", 40.0, None),
    ("71121", "Engineering design activities for industrial process and production", 3.0, None),
    ("71122", "Engineering related scientific and technical consulting activities", 3.0, None),
    ("71129", "Other engineering activities", 10.0, None),
    ("72190", "Other research and experimental development on natural sciences and engineering", 3.0, None),
    ("73200", "Market research and public opinion polling", 2.0, None),
    ("74901", "Environmental consulting activities", 2.0, None),
    ("74902", "Quantity surveying activities", 2.0, None),
    ("74909", "Other professional, scientific and technical activities n.e.c.", 15.0, None),
    ("77110", "Renting and leasing of cars and light motor vehicles", 2.0, None),
    ("77390", "Renting and leasing of other machinery, equipment and tangible goods n.e.c.", 3.0, None),
    ("78109", "Other activities of employment placement agencies", 6.0, None),
    ("78200", "Temporary employment agency activities", 2.0, None),
    ("80100", "Private security activities", 2.0, None),
    ("81100", "Combined facilities support activities", 2.0, None),
    ("81210", "General cleaning of buildings", 6.0, None),
    ("81299", "Other cleaning services", 3.0, None),
    ("81300", "Landscape service activities", 5.0, None),
    ("82110", "Combined office administrative service activities", 3.0, None),
    ("82990", "Other business support service activities n.e.c.", 35.0, None),
    ("85590", "Other education n.e.c.", 10.0, None),
    ("85600", "Educational support services", 4.0, None),
    ("86101", "Hospital activities", 1.0, None),
    ("86210", "General medical practice activities", 3.0, None),
    ("86230", "Dental practice activities", 3.0, None),
    ("86900", "Other human health activities", 20.0, None),
    ("87900", "Other residential care activities n.e.c.", 3.0, None),
    ("88100", "Social work activities without accommodation for the elderly and disabled", 3.0, None),
    ("88990", "Other social work activities without accommodation n.e.c.", 6.0, None),
    ("93130", "Fitness facilities", 4.0, None),
    ("93199", "Other sports activities", 6.0, None),
    ("93290", "Other amusement and recreation activities n.e.c.", 3.0, None),
    ("94990", "Activities of other membership organisations n.e.c.", 4.0, None),
    ("96020", "Hairdressing and other beauty treatment", 14.0, None),
    ("96040", "Physical well-being activities", 3.0, None),
    ("96090", "Other service activities n.e.c.", 30.0, None),
    ("98000", "Residents property management", 8.0, None),
    # --- creative (DCMS 2016 definition, 31 classes) -------------------------------------------------
    ("70210", "Public relations and communications activities", 10.0, "advert"),
    ("73110", "Advertising agencies", 12.0, "advert"),
    ("73120", "Media representation services", 2.0, "advert"),
    ("71111", "Architectural activities", 9.0, "archit"),
    ("71112", "Urban planning and landscape architectural activities", 2.0, "archit"),
    ("32120", "Manufacture of jewellery and related articles", 1.5, "crafts"),
    ("74100", "specialised design activities", 12.0, "design"),
    ("59111", "Motion picture production activities", 5.0, "film"),
    ("59112", "Video production activities", 3.0, "film"),
    ("59113", "Television programme production activities", 2.0, "film"),
    ("59120", "Motion picture, video and television programme post-production activities", 2.0, "film"),
    ("59131", "Motion picture distribution activities", 0.5, "film"),
    ("59132", "Video distribution activities", 0.3, "film"),
    ("59133", "Television programme distribution activities", 0.3, "film"),
    ("59140", "Motion picture projection activities", 0.3, "film"),
    ("60100", "Radio broadcasting", 0.5, "film"),
    ("60200", "Television programming and broadcasting activities", 0.5, "film"),
    ("74201", "Portrait photographic activities", 1.0, "film"),
    ("74202", "Other specialist photography", 1.0, "film"),
    ("74203", "Film processing", 0.2, "film"),
    ("74209", "Photographic activities not elsewhere classified", 3.0, "film"),
    ("58210", "Publishing of computer games", 0.6, "it"),
    ("58290", "Other software publishing", 3.0, "it"),
    ("62011", "Ready-made interactive leisure and entertainment software development", 1.0, "it"),
    ("62012", "Business and domestic software development", 18.0, "it"),
    ("62020", "Information technology consultancy activities", 30.0, "it"),
    ("58110", "Book publishing", 1.2, "publish"),
    ("58120", "Publishing of directories and mailing lists", 0.1, "publish"),
    ("58130", "Publishing of newspapers", 0.3, "publish"),
    ("58141", "Publishing of learned journals", 0.2, "publish"),
    ("58142", "Publishing of consumer and business journals and periodicals", 0.6, "publish"),
    ("58190", "Other publishing activities", 1.5, "publish"),
    ("74300", "Translation and interpretation activities", 2.0, "publish"),
    ("91011", "Library activities", 0.1, "museums"),
    ("91012", "Archives activities", 0.1, "museums"),
    ("91020", "Museums activities", 0.3, "museums"),
    ("59200", "Sound recording and music publishing activities", 2.5, "music"),
    ("85520", "Cultural education", 3.0, "music"),
    ("90010", "Performing arts", 4.0, "music"),
    ("90020", "Support activities to performing arts", 3.0, "music"),
    ("90030", "Artistic creation", 6.0, "music"),
    ("90040", "Operation of arts facilities", 0.6, "music"),
)
DORMANT_CODES = (("99999", "Dormant Company", 0.8), ("74990", "Non-trading company", 0.2))

# ---------------------------------------------------------------------------------------------------
# Layout (km from ORIGIN). Population shares sum to 1 with the rural share.
# ---------------------------------------------------------------------------------------------------
# name, x_km, y_km, population share, sigma_km, number of postcode districts
TOWNS = (
    ("Dunmere", 18.0, 16.0, 0.36, 2.4, 6),
    ("Ashbridge", 31.0, 21.0, 0.13, 1.5, 3),
    ("Kelham", 8.5, 8.0, 0.10, 1.3, 2),
    ("Bramford", 32.0, 8.0, 0.09, 1.2, 2),
    ("Thornby", 8.0, 21.5, 0.05, 0.9, 1),
    ("Wexley", 23.0, 25.5, 0.04, 0.8, 1),
    ("Millbrook", 16.0, 7.0, 0.015, 0.5, 1),
    ("Stanton Cross", 24.3, 8.0, 0.015, 0.5, 1),
    ("Holmcote", 13.0, 24.0, 0.012, 0.4, 0),
    ("Fenwick", 26.5, 14.0, 0.012, 0.4, 0),
    ("Aldersey", 4.5, 14.5, 0.012, 0.4, 0),
    ("Greyfold", 35.5, 14.5, 0.012, 0.4, 0),
    ("Oakhurst", 12.5, 13.5, 0.012, 0.4, 0),
    ("Ravensby", 26.5, 5.0, 0.012, 0.4, 0),
    ("Little Hatherley", 20.5, 3.5, 0.01, 0.35, 0),
    ("Cawston", 35.0, 18.0, 0.01, 0.35, 0),
    ("Sefton Parva", 15.5, 26.0, 0.01, 0.35, 0),
)
RURAL_SHARE = 0.06

# Planted clusters: name, town, x_km, y_km, radius_m, n creative firms, dominant sub-sector code, share,
# chain_order (None for the stand-alone clusters).
CLUSTERS = (
    ("Dunmere Film Quarter", "Dunmere", 19.7, 15.1, 800, 450, "film", 0.60, None),
    ("Dunmere Digital Docks", "Dunmere", 16.3, 14.8, 700, 420, "it", 0.65, None),
    ("Dunmere Northgate Arts", "Dunmere", 18.7, 18.8, 600, 400, "music", 0.60, None),
    ("Ashbridge Design Yards", "Ashbridge", 29.4, 21.6, 600, 400, "design", 0.55, None),
    ("Bramford Press Quarter", "Bramford", 33.4, 9.8, 650, 400, "publish", 0.55, None),
    ("Thornby Craft Village", "Thornby", 8.9, 22.3, 600, 380, "crafts", 0.50, None),
    ("Wexley Advertising Lane", "Wexley", 22.2, 25.0, 550, 380, "advert", 0.60, None),
    ("Vale Screen Corridor: Kelham", "Kelham", 10.6, 8.0, 650, 360, "film", 0.60, 0),
    ("Vale Screen Corridor: Millbrook", "Millbrook", 16.8, 7.6, 600, 360, "film", 0.60, 1),
    ("Vale Screen Corridor: Stanton Cross", "Stanton Cross", 23.2, 8.5, 600, 360, "film", 0.60, 2),
    ("Vale Screen Corridor: Bramford West", "Bramford", 29.5, 8.1, 650, 360, "film", 0.60, 3),
)
FORMATION_AGENT = {"town": "Ashbridge", "x_km": 31.0, "y_km": 21.0, "n_companies": 450, "n_creative": 150}

# ---------------------------------------------------------------------------------------------------
# Word pools for names
# ---------------------------------------------------------------------------------------------------
_STEMS = (
    "Ash", "Alder", "Beck", "Birch", "Black", "Bram", "Brook", "Burn", "Castle", "Church", "Clay", "Cold",
    "Crow", "Dale", "Elm", "Fair", "Fern", "Field", "Fox", "Glen", "Green", "Hall", "Hart", "Hazel",
    "Heath", "High", "Hill", "Holly", "Holm", "Kings", "Lark", "Lea", "Long", "Marsh", "Mill", "Moor",
    "New", "North", "Oak", "Old", "Park", "Pen", "Queens", "Red", "Rose", "Rye", "Salt", "Sand", "Shaw",
    "South", "Stan", "Stone", "Thorn", "Wal", "Well", "West", "White", "Willow", "Wood", "Wyn",
)
_ENDINGS = (
    "bank", "bridge", "brook", "bury", "by", "cliffe", "cote", "croft", "dale", "den", "field", "ford",
    "gate", "ham", "hill", "holme", "hurst", "ley", "mead", "moor", "ton", "wick", "well", "wood", "worth",
)
_WARD_QUALIFIERS = ("", "", "", " North", " South", " East", " West", " Park", " Central", " Village")
_SURNAMES = (
    "ADAMS", "ALI", "ATKINSON", "BAKER", "BELL", "BENNETT", "BROOKS", "CARTER", "CLARKE", "COOPER", "DAVIES",
    "EDWARDS", "ELLIS", "EVANS", "FISHER", "FOSTER", "GRAHAM", "GREEN", "HALL", "HARRIS", "HUGHES", "HUSSAIN",
    "JACKSON", "JAMES", "JOHNSON", "JONES", "KAUR", "KHAN", "KING", "LEE", "LEWIS", "MARSHALL", "MARTIN",
    "MASON", "MILLER", "MOORE", "MORGAN", "MORRIS", "MURPHY", "NOWAK", "OWEN", "PARKER", "PATEL", "PRICE",
    "REID", "RICHARDS", "ROBERTS", "ROBINSON", "SHAW", "SINGH", "SMITH", "SPENCER", "TAYLOR", "THOMAS",
    "THOMPSON", "TURNER", "WALKER", "WARD", "WATSON", "WHITE", "WILLIAMS", "WILSON", "WOOD", "WRIGHT", "YOUNG",
)
_ADJECTIVES = (
    "ACORN", "APEX", "ATLAS", "AURORA", "BLUE", "BRIGHT", "CEDAR", "CLEAR", "COBALT", "CORNER", "CROWN",
    "DIAMOND", "EAGLE", "ELITE", "EMBER", "EVEREST", "FALCON", "FIRST", "GOLDEN", "GRANITE", "HARBOUR",
    "HORIZON", "IRON", "JUNIPER", "KESTREL", "LANTERN", "LIME", "LUNAR", "MAPLE", "MERIDIAN", "NORTHERN",
    "NOVA", "OLIVE", "OPAL", "ORBIT", "PEAK", "PINE", "PRIME", "QUARTZ", "RAVEN", "RED KITE", "RIVERSIDE",
    "SAPPHIRE", "SILVER", "SOLAR", "SPARROW", "SUMMIT", "SWIFT", "THISTLE", "TRINITY", "VALE", "VERTEX",
    "VIOLET", "WILLOW", "ZENITH",
)
_SECTOR_WORDS = {
    "construction": ("BUILDING", "CONSTRUCTION", "BUILDERS", "DEVELOPMENTS", "ROOFING", "ELECTRICAL",
                     "PLUMBING & HEATING", "CONTRACTORS", "JOINERY", "INTERIORS"),
    "property": ("PROPERTIES", "ESTATES", "PROPERTY", "LETTINGS", "HOMES", "INVESTMENTS", "HOLDINGS"),
    "business": ("CONSULTING", "CONSULTANCY", "ASSOCIATES", "SOLUTIONS", "SERVICES", "PARTNERS",
                 "MANAGEMENT", "ADVISORY", "GROUP", "HOLDINGS", "ACCOUNTANTS", "RECRUITMENT"),
    "food": ("KITCHEN", "CAFE", "GRILL", "TAVERN", "FOODS", "BAKERY", "PIZZA", "INN", "CATERING"),
    "retail": ("TRADING", "STORES", "RETAIL", "SUPPLIES", "MOTORS", "AUTOS", "WHOLESALE", "GOODS"),
    "transport": ("LOGISTICS", "TRANSPORT", "HAULAGE", "COURIERS", "TRAVEL", "CARS"),
    "care": ("HEALTHCARE", "CARE", "CLINIC", "THERAPY", "WELLBEING", "DENTAL", "PHYSIO"),
    "services": ("BEAUTY", "HAIR", "CLEANING", "SERVICES", "FITNESS", "EVENTS", "LANDSCAPES"),
    "land": ("FARMS", "FARMING", "ENGINEERING", "FABRICATIONS", "PRECISION", "MACHINING"),
    "digital": ("SOFTWARE", "DIGITAL", "TECHNOLOGIES", "SYSTEMS", "TECH", "LABS", "DATA", "CODE", "IT"),
    "media": ("FILMS", "PICTURES", "PRODUCTIONS", "STUDIOS", "MEDIA", "PHOTOGRAPHY", "POST", "TV"),
    "advert": ("MARKETING", "ADVERTISING", "PR", "COMMUNICATIONS", "BRAND", "CREATIVE", "AGENCY"),
    "archit": ("ARCHITECTS", "ARCHITECTURE", "DESIGN STUDIO", "LANDSCAPE ARCHITECTS", "PLANNING"),
    "crafts": ("JEWELLERY", "SILVERSMITHS", "GOLDSMITHS", "CRAFTS", "WORKSHOP"),
    "design": ("DESIGN", "DESIGNS", "STUDIO", "GRAPHICS", "INTERIOR DESIGN", "FASHION"),
    "publish": ("PUBLISHING", "BOOKS", "PRESS", "PUBLICATIONS", "TRANSLATIONS", "MAGAZINES"),
    "museums": ("HERITAGE", "MUSEUM", "ARCHIVES", "GALLERY TRUST", "LIBRARY"),
    "music": ("MUSIC", "RECORDS", "THEATRE", "ARTS", "DANCE", "SOUND", "ARTISTS", "PERFORMANCE"),
}
_DIVISION_FAMILY = {
    "01": "land", "10": "food", "25": "land", "33": "land", "41": "construction", "42": "construction",
    "43": "construction", "45": "retail", "46": "retail", "47": "retail", "49": "transport",
    "52": "transport", "53": "transport", "55": "food", "56": "food", "62": "digital", "63": "digital",
    "64": "business", "66": "business", "68": "property", "69": "business", "70": "business",
    "71": "business", "72": "business", "73": "business", "74": "business", "77": "retail",
    "78": "business", "80": "services", "81": "services", "82": "business", "85": "services",
    "86": "care", "87": "care", "88": "care", "93": "services", "94": "services", "96": "services",
    "98": "property", "99": "business",
}
_CATEGORIES = (
    ("Private Limited Company", 0.945, "LTD"),
    ("PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)", 0.025, "LIMITED"),
    ("Limited Liability Partnership", 0.015, "LLP"),
    ("Community Interest Company", 0.008, "CIC"),
    ("PRI/LBG/NSC (Private, Limited by guarantee, no share capital, use of 'Limited' exemption)", 0.005, ""),
    ("Public Limited Company", 0.002, "PLC"),
)
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # Royal Mail never uses C I K M O V in the inward code

SIC_COLUMNS = ["SICCode.SicText_1", "SICCode.SicText_2", "SICCode.SicText_3", "SICCode.SicText_4"]
FIRM_COLUMNS = [
    "CompanyName", "CompanyNumber", "Postcode", "RegAddress.PostTown", "CompanyCategory", "CompanyStatus",
    "CountryOfOrigin", "IncorporationDate",
] + SIC_COLUMNS
CODEPOINT_COLUMNS = [
    "Postcode", "Positional_quality_indicator", "Eastings", "Northings", "Country_code",
    "NHS_regional_HA_code", "NHS_HA_code", "Admin_county_code", "Admin_district_code", "Admin_ward_code",
]


# ---------------------------------------------------------------------------------------------------
# geometry helpers
# ---------------------------------------------------------------------------------------------------
def _km(x_km, y_km):
    return ORIGIN[0] + 1000.0 * x_km, ORIGIN[1] + 1000.0 * y_km


def _boundary_ring(rng):
    """Vertices of a smooth star-shaped boundary (an ellipse with low-frequency wobbles)."""
    cx, cy = _km(20.0, 15.0)
    theta = np.linspace(0.0, 2.0 * np.pi, 241)[:-1]
    wobble = np.zeros_like(theta)
    for k, amp in ((2, 0.035), (3, 0.03), (4, 0.02), (5, 0.015), (7, 0.01)):
        wobble += amp * np.sin(k * theta + rng.uniform(0.0, 2.0 * np.pi))
    radius = 1.0 + wobble  # within 0.89 .. 1.11
    xs = cx + 18500.0 * radius * np.cos(theta)
    ys = cy + 13800.0 * radius * np.sin(theta)
    return np.column_stack([np.round(xs, 1), np.round(ys, 1)])


def _inside(ring, xy):
    """Vectorised even-odd point-in-polygon test of points ``xy`` (n×2) against a closed ``ring``."""
    x = xy[:, 0][:, None]
    y = xy[:, 1][:, None]
    x1, y1 = ring[:, 0][None, :], ring[:, 1][None, :]
    x2, y2 = np.roll(ring[:, 0], -1)[None, :], np.roll(ring[:, 1], -1)[None, :]
    crosses = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    return np.count_nonzero(crosses & (x < x_at), axis=1) % 2 == 1


def _sample_mixture(rng, n, ring, rural_share, sigma_scale=1.0):
    """Points from the population mixture (town Gaussians + uniform rural), rejected outside ``ring``."""
    shares = np.array([t[3] for t in TOWNS] + [rural_share], dtype=float)
    shares = shares / shares.sum()
    xmin, ymin = ring.min(axis=0)
    xmax, ymax = ring.max(axis=0)
    out = np.empty((0, 2))
    while len(out) < n:
        m = int((n - len(out)) * 1.3) + 16
        comp = rng.choice(len(shares), size=m, p=shares)
        pts = np.empty((m, 2))
        rural = comp == len(TOWNS)
        pts[rural, 0] = rng.uniform(xmin, xmax, rural.sum())
        pts[rural, 1] = rng.uniform(ymin, ymax, rural.sum())
        town = ~rural
        centres = np.array([_km(t[1], t[2]) for t in TOWNS])
        sig = np.array([t[4] * 1000.0 * sigma_scale for t in TOWNS])
        pts[town] = centres[comp[town]] + rng.normal(size=(town.sum(), 2)) * sig[comp[town]][:, None]
        keep = _inside(ring, pts)
        out = np.vstack([out, pts[keep]])
    return out[:n]


def _voronoi_cells(seeds, boundary):
    """Voronoi cells of ``seeds`` clipped to ``boundary`` (a shapely Polygon), in seed order."""
    from scipy.spatial import Voronoi
    from shapely.geometry import MultiPolygon, Polygon

    far = 1.0e6
    centre = seeds.mean(axis=0)
    dummies = centre + np.array([[-far, -far], [far, -far], [far, far], [-far, far]])
    vor = Voronoi(np.vstack([seeds, dummies]))
    cells = []
    for i in range(len(seeds)):
        region = vor.regions[vor.point_region[i]]
        if -1 in region or len(region) < 3:
            raise CreativeClustersError("internal error: unbounded Voronoi cell in the demo generator")
        cell = Polygon(vor.vertices[region]).intersection(boundary)
        if cell.geom_type == "Polygon":
            cell = MultiPolygon([cell])
        elif cell.geom_type != "MultiPolygon":
            cell = MultiPolygon([g for g in getattr(cell, "geoms", []) if g.geom_type == "Polygon"])
        cells.append(cell)
    return cells


def _spaced_sample(candidates, n, min_dist):
    """Greedy thinning: keep candidates (in order) at least ``min_dist`` apart until ``n`` are kept."""
    kept = np.empty((0, 2))
    for p in candidates:
        if len(kept) and np.min(np.hypot(kept[:, 0] - p[0], kept[:, 1] - p[1])) < min_dist:
            continue
        kept = np.vstack([kept, p])
        if len(kept) >= n:
            break
    return kept


# ---------------------------------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------------------------------
def _place_names(rng, n):
    combos = [s + e for s in _STEMS for e in _ENDINGS if not s.lower().endswith(e[:2])]
    order = rng.permutation(len(combos))
    names, seen = [], set()
    for idx in order:
        base = combos[idx]
        name = base + _WARD_QUALIFIERS[rng.integers(len(_WARD_QUALIFIERS))]
        if name in seen:
            continue
        seen.add(name)
        names.append(name)
        if len(names) == n:
            break
    return names


def _company_name(rng, family, places, suffix):
    pattern = rng.choice(4, p=[0.35, 0.3, 0.1, 0.25])
    words = _SECTOR_WORDS[family]
    word = words[rng.integers(len(words))]
    if pattern == 0:
        lead = places[rng.integers(len(places))].upper()
    elif pattern == 1:
        lead = _SURNAMES[rng.integers(len(_SURNAMES))]
        if rng.random() < 0.3:
            lead += " & " + _SURNAMES[rng.integers(len(_SURNAMES))]
    elif pattern == 2:
        lead = _ADJECTIVES[rng.integers(len(_ADJECTIVES))]
    else:
        lead = _ADJECTIVES[rng.integers(len(_ADJECTIVES))] + " " + places[rng.integers(len(places))].upper()
    return f"{lead} {word}" + (f" {suffix}" if suffix else "")


# ---------------------------------------------------------------------------------------------------
# SIC drawing
# ---------------------------------------------------------------------------------------------------
class _SicDrawer:
    def __init__(self, rng):
        self.rng = rng
        self.text = {code: f"{code} - {desc}" for code, desc, _, _ in SIC_TABLE}
        self.text.update({code: f"{code} - {desc}" for code, desc, _ in DORMANT_CODES})
        non = [(c, w) for c, _, w, s in SIC_TABLE if s is None]
        self.non_codes = np.array([c for c, _ in non])
        self.non_p = np.array([w for _, w in non]) / sum(w for _, w in non)
        self.sub_codes = {}
        self.sub_p = {}
        sub_weight = OrderedDict((k, 0.0) for k in SUBSECTORS)
        for code, _, w, s in SIC_TABLE:
            if s is not None:
                self.sub_codes.setdefault(s, []).append(code)
                self.sub_p.setdefault(s, []).append(w)
                sub_weight[s] += w
        for s in self.sub_codes:
            p = np.array(self.sub_p[s])
            self.sub_p[s] = p / p.sum()
            self.sub_codes[s] = np.array(self.sub_codes[s])
        self.subsectors = list(sub_weight)
        total = sum(sub_weight.values())
        self.subsector_p = np.array([sub_weight[s] / total for s in self.subsectors])

    def non_creative(self, n):
        return self.rng.choice(self.non_codes, size=n, p=self.non_p)

    def subsector(self, n, p=None):
        idx = self.rng.choice(len(self.subsectors), size=n, p=self.subsector_p if p is None else p)
        return np.array(self.subsectors)[idx]

    def creative_code(self, subsector):
        return self.rng.choice(self.sub_codes[subsector], p=self.sub_p[subsector])

    def mix(self, dominant, share):
        """Sub-sector probabilities: ``share`` for the dominant one, the rest in national proportions."""
        p = self.subsector_p.copy()
        i = self.subsectors.index(dominant)
        p[i] = 0.0
        p = p / p.sum() * (1.0 - share)
        p[i] = share
        return p


# ---------------------------------------------------------------------------------------------------
# main generator: one function per step
# ---------------------------------------------------------------------------------------------------
# Every step that takes ``rng`` draws from the one shared generator. The steps must run in the order of
# generate_demo_region, and the draws inside a step in the order written: moving a draw changes the
# output for every seed.


@dataclass
class Wards:
    """The ward-like small areas (output of :func:`_make_wards`)."""

    areas: object  #: GeoDataFrame ``area_id, area_name, town``, sorted by ``area_id``
    seed_tree: object  #: cKDTree of the ward seeds in the row order of ``areas``: nearest seed = the ward
    names: list  #: ward names in generation order (reused as place names in company names)


@dataclass
class PostcodeUnits:
    """Synthetic postcode units, in generation order (output of :func:`_make_postcode_units`)."""

    xy: np.ndarray  #: (n, 2) centroids in whole metres
    group: np.ndarray  #: -1 background, k planted cluster k, -2 the formation-agent postcode
    codes: np.ndarray  #: "DM1 4QT" (object)
    town: np.ndarray  #: post town (object)
    area: np.ndarray  #: ``area_id`` of the ward holding the unit (object)
    district_towns: list  #: post town of each district (index = district number - 1)


@dataclass
class FirmDraws:
    """Who each firm is, one entry per firm (output of :func:`_plant_firms`).

    In generation order the background firms come first, then the planted clusters, then the formation agent.
    """

    kind: np.ndarray  #: "bg", "bg_dormant", "cluster" or "fa" (object)
    unit: np.ndarray  #: index into :class:`PostcodeUnits`
    sub: object  #: DCMS sub-sector code of creative firms (first SIC code), None otherwise
    cluster: np.ndarray  #: k for planted cluster k, -1 background, -2 formation agent

    def __len__(self):
        return len(self.kind)

    def reordered(self, order):
        return FirmDraws(self.kind[order], self.unit[order], np.array(self.sub, dtype=object)[order],
                         self.cluster[order])


@dataclass
class SicColumns:
    """The four SIC text columns and the first 5-digit code of every firm (None when unusable)."""

    columns: list  #: four object arrays, ``SICCode.SicText_1`` … ``_4``
    first_codes: np.ndarray


@dataclass
class CompanyAttributes:
    """The other Companies House fields, one entry per firm in generation order."""

    inc_dates: list  #: ``datetime.date``
    numbers: np.ndarray  #: "DV000123" (object)
    category: np.ndarray  #: index into ``_CATEGORIES``
    names: np.ndarray  #: unique company names (object)


@dataclass
class SortedFirms:
    """The firms in Companies House order (sorted by name) with what the ground truth needs alongside."""

    table: object  #: pandas DataFrame with the :data:`FIRM_COLUMNS`
    xy: np.ndarray  #: (n, 2) firm coordinates (their postcode centroid)
    draws: FirmDraws
    first_codes: np.ndarray


def _town_xy():
    return np.array([_km(t[1], t[2]) for t in TOWNS])


# --- boundary ------------------------------------------------------------------------------------------
def _make_boundary(rng):
    """The region boundary: its ring of vertices (n×2) and the shapely Polygon."""
    from shapely.geometry import Polygon

    ring = _boundary_ring(rng)
    boundary = Polygon(ring)
    if not boundary.is_valid:
        raise CreativeClustersError("internal error: the demo boundary is not valid")
    if not _inside(ring, _town_xy()).all():
        raise CreativeClustersError("internal error: a demo town lies outside the boundary")
    return ring, boundary


# --- wards: Voronoi cells of population-weighted seeds -----------------------------------------------
def _quarter_seeds(rng, clusters=CLUSTERS):
    """Ward seeds for the creative quarters: one at each cluster centre and a ring of six around it.

    Creative quarters sit in dense inner-urban fabric where wards are small, so a cluster spans a small ward
    and its immediate neighbours (as real clusters do) instead of being cut at random by large wards.
    """
    quarter_seeds = []
    for c in clusters:
        cx, cy = _km(c[2], c[3])
        quarter_seeds.append((cx + rng.normal(0.0, 0.03 * c[4]), cy + rng.normal(0.0, 0.03 * c[4])))
        start = rng.uniform(0.0, 2.0 * np.pi)
        for j in range(6):
            ang = start + j * np.pi / 3.0 + rng.uniform(-0.12, 0.12)
            r = c[4] * rng.uniform(0.62, 0.72)
            quarter_seeds.append((cx + r * np.cos(ang), cy + r * np.sin(ang)))
    return np.array(quarter_seeds)


def _ward_seeds(rng, ring):
    """About :data:`N_AREAS` ward seeds at least 250 m apart: the quarter seeds first, then a random mix of
    85 % population-weighted and 15 % uniform candidates."""
    candidates = np.vstack([
        _sample_mixture(rng, 4 * N_AREAS, ring, RURAL_SHARE),
        _sample_mixture(rng, N_AREAS, ring, 1.0),  # uniform share so that rural wards are not enormous
    ])
    mix_order = rng.permutation(len(candidates))
    # 85 % population-weighted candidates, 15 % uniform ones, interleaved in a random order
    pop_idx = mix_order[mix_order < 4 * N_AREAS]
    uni_idx = mix_order[mix_order >= 4 * N_AREAS]
    n_uni = int(round(0.15 * N_AREAS))
    chosen = np.concatenate([pop_idx[: 2 * N_AREAS], uni_idx[:n_uni]])
    chosen = chosen[rng.permutation(len(chosen))]
    quarter_seeds = _quarter_seeds(rng)
    seeds = _spaced_sample(np.vstack([quarter_seeds, candidates[chosen]]), N_AREAS, min_dist=250.0)
    if len(seeds) < 250:
        raise CreativeClustersError("internal error: too few ward seeds in the demo generator")
    return seeds


def _ward_order(seeds):
    """Order of the ward seeds west->east within 2.5 km bands from the north, so that ids look systematic."""
    band = np.floor((seeds[:, 1] - seeds[:, 1].min()) / 2500.0)
    return np.lexsort((seeds[:, 0], -band))


def _make_wards(rng, seeds, boundary):
    """The areas layer: Voronoi cells of ``seeds`` clipped to ``boundary``, with ids, names and towns."""
    import geopandas as gpd
    from scipy.spatial import cKDTree

    cells = _voronoi_cells(seeds, boundary)
    ward_order = _ward_order(seeds)
    area_ids = np.empty(len(seeds), dtype=object)
    for rank, i in enumerate(ward_order):
        area_ids[i] = f"DM{rank + 1:06d}"
    ward_names = _place_names(rng, len(seeds))
    nearest_town = cKDTree(_town_xy()).query(seeds)[1]
    areas = gpd.GeoDataFrame(
        {
            "area_id": area_ids,
            "area_name": ward_names,
            "town": [TOWNS[i][0] for i in nearest_town],
        },
        geometry=cells,
        crs=CRS,
    )
    areas = areas.iloc[ward_order].reset_index(drop=True)
    return Wards(areas=areas, seed_tree=cKDTree(seeds[ward_order]), names=ward_names)


# --- postcode districts and units ----------------------------------------------------------------------
def _postcode_districts():
    """Centres (n×2) and post towns of the :data:`N_DISTRICTS` postcode districts. No random numbers.

    Each town with k ≥ 1 districts gets one at its centre and k - 1 on a ring around it; rural districts take
    the remaining numbers, their post town being the nearest town with districts.
    """
    town_xy = _town_xy()
    district_centres, district_towns = [], []
    for name, x, y, _, sigma, k in TOWNS:
        cx, cy = _km(x, y)
        if k >= 1:
            district_centres.append((cx, cy))
            district_towns.append(name)
        for j in range(1, k):
            ang = 2 * np.pi * (j - 1) / (k - 1) + 0.4
            r = 1000.0 * sigma * 1.1
            district_centres.append((cx + r * np.cos(ang), cy + r * np.sin(ang)))
            district_towns.append(name)
    rural_spots = [(4.0, 26.0), (36.0, 27.0), (37.5, 12.0), (5.0, 4.0)]
    for x, y in rural_spots[: N_DISTRICTS - len(district_centres)]:
        cx, cy = _km(x, y)
        district_centres.append((cx, cy))
        main = [i for i, t in enumerate(TOWNS) if t[5] >= 1]
        d = [math.hypot(cx - town_xy[i][0], cy - town_xy[i][1]) for i in main]
        district_towns.append(TOWNS[main[int(np.argmin(d))]][0])
    return np.array(district_centres), district_towns


def _cluster_unit_points(rng, ring, cluster):
    """Whole-metre postcode centroids for one planted cluster: max(12, n_firms // 5) of them inside its disc
    (and the region), denser towards the centre."""
    cx, cy = _km(cluster[2], cluster[3])
    radius = float(cluster[4])
    n_units = max(12, cluster[5] // 5)
    pts = np.empty((0, 2))
    while len(pts) < n_units:
        r = 0.95 * radius * rng.uniform(size=n_units) ** 0.7  # denser towards the centre
        a = rng.uniform(0.0, 2.0 * np.pi, n_units)
        cand = np.round(np.column_stack([cx + r * np.cos(a), cy + r * np.sin(a)]))
        ok = (np.hypot(cand[:, 0] - cx, cand[:, 1] - cy) <= radius - 1.0) & _inside(ring, cand)
        pts = np.vstack([pts, cand[ok]])
    return pts[:n_units]


def _postcode_unit_points(rng, ring):
    """Centroids (n×2) and groups of all postcode units: background, each planted cluster, formation agent."""
    bg_xy = np.round(_sample_mixture(rng, N_BACKGROUND_POSTCODES, ring, RURAL_SHARE))
    unit_xy = [bg_xy]
    unit_group = [np.full(len(bg_xy), -1)]  # -1 background, k cluster k, -2 formation agent
    for k, c in enumerate(CLUSTERS):
        pts = _cluster_unit_points(rng, ring, c)
        unit_xy.append(pts)
        unit_group.append(np.full(len(pts), k))
    fa_xy = np.round(np.array([_km(FORMATION_AGENT["x_km"], FORMATION_AGENT["y_km"])]))
    unit_xy.append(fa_xy)
    unit_group.append(np.array([-2]))
    unit_xy = np.vstack(unit_xy)
    if not _inside(ring, unit_xy).all():
        raise CreativeClustersError("internal error: a demo postcode lies outside the boundary")
    return unit_xy, np.concatenate(unit_group)


def _postcode_codes(rng, unit_xy, district_centres):
    """Unique postcodes: district by nearest district centre, sector by bearing from it (1..9, moving to another
    sector when one is full), two random inward letters. Returns the codes and each unit's district index."""
    from scipy.spatial import cKDTree

    district = cKDTree(district_centres).query(unit_xy)[1]
    dvec = unit_xy - district_centres[district]
    bearing = (np.degrees(np.arctan2(dvec[:, 1], dvec[:, 0])) + 360.0) % 360.0
    sector = (bearing // 40.0).astype(int) + 1  # 1..9
    used = {}
    codes = np.empty(len(unit_xy), dtype=object)
    letter_pairs = [a + b for a in _INWARD_LETTERS for b in _INWARD_LETTERS]
    unit_perm = rng.permutation(len(unit_xy))
    for i in unit_perm:
        d = int(district[i]) + 1
        for s in [int(sector[i])] + [x for x in range(10) if x != int(sector[i])]:
            taken = used.setdefault((d, s), set())
            if len(taken) < len(letter_pairs):
                break
        while True:
            pair = letter_pairs[rng.integers(len(letter_pairs))]
            if pair not in taken:
                taken.add(pair)
                break
        codes[i] = f"{POSTCODE_AREA}{d} {s}{pair}"
    return codes, district


def _make_postcode_units(rng, ring, wards):
    """All postcode units with their codes, post towns and wards."""
    district_centres, district_towns = _postcode_districts()
    unit_xy, unit_group = _postcode_unit_points(rng, ring)
    codes, district = _postcode_codes(rng, unit_xy, district_centres)
    return PostcodeUnits(
        xy=unit_xy,
        group=unit_group,
        codes=codes,
        town=np.array([district_towns[d] for d in district], dtype=object),
        area=wards.areas["area_id"].to_numpy()[wards.seed_tree.query(unit_xy)[1]],
        district_towns=district_towns,
    )


# --- firms: background, planted clusters, formation agent ----------------------------------------------
def _background_firms(rng, sic, units, n_bg, n_dormant_bg):
    """Background firms spread over the background postcodes (weight: lognormal × a town-centre boost);
    ``n_dormant_bg`` of them dormant, about :data:`BACKGROUND_CREATIVE_SHARE` of the rest creative.

    Returns lists ``(kind, unit, sub, cluster)``.
    """
    town_xy = _town_xy()
    unit_xy = units.xy
    bg_units = np.flatnonzero(units.group == -1)
    d_centre = np.min(
        np.hypot(unit_xy[bg_units, 0][:, None] - town_xy[None, :, 0],
                 unit_xy[bg_units, 1][:, None] - town_xy[None, :, 1]),
        axis=1,
    )
    w = rng.lognormal(0.0, 1.0, len(bg_units)) * (1.0 + 0.3 * np.exp(-0.5 * (d_centre / 500.0) ** 2))
    bg_choice = bg_units[rng.choice(len(bg_units), size=n_bg, p=w / w.sum())]
    bg_is_dormant = np.zeros(n_bg, dtype=bool)
    bg_is_dormant[rng.choice(n_bg, size=n_dormant_bg, replace=False)] = True
    bg_is_creative = (~bg_is_dormant) & (rng.uniform(size=n_bg) < BACKGROUND_CREATIVE_SHARE)
    bg_sub = np.full(n_bg, None, dtype=object)
    bg_sub[bg_is_creative] = sic.subsector(int(bg_is_creative.sum()))
    kind = ["bg_dormant" if bg_is_dormant[i] else "bg" for i in range(n_bg)]
    return kind, list(bg_choice), list(bg_sub), [-1] * n_bg


def _cluster_firms(rng, sic, units, k, cluster):
    """The creative firms of planted cluster ``k`` on its postcodes (lognormal weights), with its dominant
    sub-sector at its target share. Returns lists ``(kind, unit, sub, cluster)``."""
    units_k = np.flatnonzero(units.group == k)
    wk = rng.lognormal(0.0, 0.8, len(units_k))
    chosen_units = units_k[rng.choice(len(units_k), size=cluster[5], p=wk / wk.sum())]
    subs = sic.subsector(cluster[5], p=sic.mix(cluster[6], cluster[7]))
    n = len(chosen_units)
    return ["cluster"] * n, list(chosen_units), list(subs), [k] * n


def _formation_agent_firms(sic, units):
    """The formation agent's companies, all at one postcode; the first ``n_creative`` creative (national
    sub-sector mix). Returns lists ``(kind, unit, sub, cluster)``."""
    n_fa = FORMATION_AGENT["n_companies"]
    fa_unit = int(np.flatnonzero(units.group == -2)[0])
    fa_subs = list(sic.subsector(FORMATION_AGENT["n_creative"])) + [None] * (n_fa - FORMATION_AGENT["n_creative"])
    n = len(fa_subs)
    return ["fa"] * n, [fa_unit] * n, fa_subs, [-2] * n


def _plant_firms(rng, sic, units):
    """Every firm's kind, postcode unit, creative sub-sector and planted cluster (see :class:`FirmDraws`)."""
    n_cluster = sum(c[5] for c in CLUSTERS)
    n_fa = FORMATION_AGENT["n_companies"]
    n_bg = N_FIRMS_TARGET - n_cluster - n_fa
    n_fa_plain = n_fa - FORMATION_AGENT["n_creative"]
    # about 8 % of the formation agent's non-creative companies are dormant too (see _draw_sic_codes)
    n_dormant_bg = int(round(DORMANT_SHARE * N_FIRMS_TARGET)) - int(round(0.08 * n_fa_plain))
    parts = [_background_firms(rng, sic, units, n_bg, n_dormant_bg)]
    for k, c in enumerate(CLUSTERS):
        parts.append(_cluster_firms(rng, sic, units, k, c))
    parts.append(_formation_agent_firms(sic, units))
    kind, unit, sub, cluster = ([x for part in parts for x in part[j]] for j in range(4))
    return FirmDraws(kind=np.array(kind, dtype=object), unit=np.array(unit), sub=sub, cluster=np.array(cluster))


# --- SIC codes -------------------------------------------------------------------------------------------
def _trading_sic_codes(rng, sic, sub, noncreative_code, n_extra):
    """The SIC codes of a trading firm: its first code (creative of sub-sector ``sub``, else
    ``noncreative_code``) and up to ``n_extra`` distinct further codes."""
    code = sic.creative_code(sub) if sub is not None else noncreative_code
    codes = [code]
    for _ in range(n_extra):
        if sub is not None and rng.random() < 0.5:
            extra_sub = sub if rng.random() < 0.6 else sic.subsector(1)[0]
            extra = sic.creative_code(extra_sub)
        elif sub is None and rng.random() < 0.08:
            extra = sic.creative_code(sic.subsector(1)[0])
        else:
            extra = sic.non_creative(1)[0]
        if extra not in codes:
            codes.append(extra)
    return codes


def _draw_sic_codes(rng, sic, firms):
    """SIC codes of every firm: dormant firms (and about 8 % of the formation agent's non-creative ones) get
    a single dormant code, the others a first code matching their sub-sector and 0–3 more."""
    n = len(firms)
    sic_cols = [np.full(n, None, dtype=object) for _ in range(4)]
    first_codes = np.empty(n, dtype=object)
    n_extra = rng.choice(4, size=n, p=[0.78, 0.13, 0.06, 0.03])
    fa_dormant = (firms.kind == "fa") & (rng.uniform(size=n) < 0.08)
    noncreative_draw = sic.non_creative(n)
    for i in range(n):
        s = firms.sub[i]
        if firms.kind[i] == "bg_dormant" or (fa_dormant[i] and s is None):
            codes_i = ["99999" if rng.random() < DORMANT_CODES[0][2] else "74990"]
        else:
            codes_i = _trading_sic_codes(rng, sic, s, noncreative_draw[i], int(n_extra[i]))
        first_codes[i] = codes_i[0]
        for j, cd in enumerate(codes_i):
            sic_cols[j][i] = sic.text[cd]
    return SicColumns(columns=sic_cols, first_codes=first_codes)


# --- data-quality noise ----------------------------------------------------------------------------------
def _spoil_first_sic_codes(rng, firms, sic):
    """Make 0.5 % of all firms' SIC codes unusable, among background non-creative trading firms: "None
    Supplied", NULL and blank in the ratio 3:1:1. Changes ``sic`` in place; returns the counts."""
    n = len(firms)
    bg_plain = np.flatnonzero((firms.kind == "bg") & np.array([s is None for s in firms.sub]))
    bad = rng.choice(bg_plain, size=int(round(0.005 * n)), replace=False)
    counts = {"None Supplied": 0, "NULL": 0, "blank": 0}
    for j, i in enumerate(bad):
        for col in sic.columns:
            col[i] = None
        sic.first_codes[i] = None
        if j % 5 < 3:
            sic.columns[0][i] = "None Supplied"
            counts["None Supplied"] += 1
        elif j % 5 == 3:
            counts["NULL"] += 1
        else:
            sic.columns[0][i] = ""
            counts["blank"] += 1
    return counts


def _postcode_variants(rng, postcode_text, kind):
    """Write 0.5 % of the background firms' postcodes without the space (3 in 5) or in lower case, as in the
    register. Changes ``postcode_text`` in place; returns how many were changed."""
    variants = rng.choice(np.flatnonzero(kind == "bg"), size=int(round(0.005 * len(kind))), replace=False)
    for j, i in enumerate(variants):
        pc = postcode_text[i]
        postcode_text[i] = pc.replace(" ", "") if j % 5 < 3 else pc.lower()
    return len(variants)


# --- other Companies House fields ------------------------------------------------------------------------
def _incorporation_ages(rng, n):
    """Company ages in whole days at :data:`SNAPSHOT_DATE`: 85 % exponential (mean 7.5 years), 15 % uniform
    since :data:`FIRST_DATE`."""
    span_days = (SNAPSHOT_DATE - FIRST_DATE).days
    young = rng.exponential(7.5 * 365.25, n)
    old = rng.uniform(0, span_days, n)
    age_days = np.where(rng.uniform(size=n) < 0.85, young, old)
    return np.clip(age_days, 0, span_days).astype(int)


def _company_numbers(rng, age_days):
    """Company numbers with the fictional prefix "DV", increasing with incorporation date (random gaps 1–20)."""
    n = len(age_days)
    order = np.argsort(-age_days, kind="stable")
    gaps = rng.integers(1, 21, n)
    numbers = np.empty(n, dtype=object)
    running = 1000
    for i in order:
        running += int(gaps[i])
        numbers[i] = f"DV{running:06d}"
    if running > 999999:
        raise CreativeClustersError("internal error: demo company numbers overflow")
    return numbers


def _unique_company_names(rng, subs, first_codes, cat_idx, places):
    """A unique company name per firm, its wording from the firm's sub-sector or SIC division and its
    suffix from its company category."""
    n = len(subs)
    names = np.empty(n, dtype=object)
    seen = set()
    for i in range(n):
        s = subs[i]
        if s is not None:
            family = "media" if s == "film" else ("digital" if s == "it" else s)
        else:
            fc = first_codes[i]
            family = _DIVISION_FAMILY.get(fc[:2], "business") if fc else "business"
        suffix = _CATEGORIES[cat_idx[i]][2]
        name = _company_name(rng, family, places, suffix)
        tries = 0
        while name in seen:
            tries += 1
            extra = rng.choice(["UK", "GROUP", "(DUNMERE)", "SERVICES", "& CO", "NORTH", "2020", "ONE"])
            core = name[: -len(suffix) - 1] if suffix else name
            name = f"{core} {extra}" + (f" {suffix}" if suffix else "")
            if tries > 5:
                name = f"{core} {rng.integers(2, 999)}" + (f" {suffix}" if suffix else "")
        seen.add(name)
        names[i] = name
    return names


def _company_attributes(rng, firms, first_codes, places):
    """Incorporation dates, company numbers, categories and names of every firm."""
    n = len(firms)
    age_days = _incorporation_ages(rng, n)
    inc_dates = [SNAPSHOT_DATE - timedelta(days=int(a)) for a in age_days]
    numbers = _company_numbers(rng, age_days)
    cat_p = np.array([c[1] for c in _CATEGORIES])
    cat_idx = rng.choice(len(_CATEGORIES), size=n, p=cat_p / cat_p.sum())
    names = _unique_company_names(rng, firms.sub, first_codes, cat_idx, places)
    return CompanyAttributes(inc_dates=inc_dates, numbers=numbers, category=cat_idx, names=names)


# --- tables and layers -----------------------------------------------------------------------------------
def _firm_table(firms, units, sic, attrs, postcode_text):
    """The Companies House style table (:data:`FIRM_COLUMNS`) in generation order."""
    import pandas as pd

    return pd.DataFrame(
        OrderedDict(
            [
                ("CompanyName", attrs.names),
                ("CompanyNumber", attrs.numbers),
                ("Postcode", postcode_text),
                ("RegAddress.PostTown", [t.upper() for t in units.town[firms.unit]]),
                ("CompanyCategory", [_CATEGORIES[c][0] for c in attrs.category]),
                ("CompanyStatus", "Active"),
                ("CountryOfOrigin", "United Kingdom"),
                ("IncorporationDate", [d.isoformat() for d in attrs.inc_dates]),
                (SIC_COLUMNS[0], sic.columns[0]),
                (SIC_COLUMNS[1], sic.columns[1]),
                (SIC_COLUMNS[2], sic.columns[2]),
                (SIC_COLUMNS[3], sic.columns[3]),
            ]
        )
    )


def _sort_by_company_name(table, xy, firms, first_codes):
    """Companies House files are sorted by company name: sort the table and everything alongside it."""
    name_order = np.argsort(table["CompanyName"].to_numpy().astype(str), kind="stable")
    return SortedFirms(
        table=table.iloc[name_order].reset_index(drop=True),
        xy=xy[name_order],
        draws=firms.reordered(name_order),
        first_codes=first_codes[name_order],
    )


def _postcode_layer(units, unit_of_firm):
    """The postcodes layer, sorted by district number then unit, with the number of firms at each."""
    import geopandas as gpd

    codes, unit_xy = units.codes, units.xy
    n_firms_per_unit = np.bincount(unit_of_firm, minlength=len(unit_xy))
    postcodes = gpd.GeoDataFrame(
        {
            "Postcode": codes,
            "easting": unit_xy[:, 0].astype(np.int64),
            "northing": unit_xy[:, 1].astype(np.int64),
            "district": [c.split(" ")[0] for c in codes],
            "post_town": [t.upper() for t in units.town],
            "area_id": units.area,
            "n_firms": n_firms_per_unit.astype(np.int64),
        },
        geometry=gpd.points_from_xy(unit_xy[:, 0], unit_xy[:, 1]),
        crs=CRS,
    )
    pc_sort = np.argsort(
        np.array([(c.split(" ")[0][2:].zfill(3) + " " + c.split(" ")[1]) for c in codes]), kind="stable"
    )
    return postcodes.iloc[pc_sort].reset_index(drop=True)


def _codepoint_table(postcodes, district_towns):
    """The Code-Point Open style table (:data:`CODEPOINT_COLUMNS`) of the postcodes layer."""
    import pandas as pd

    district_codes = {t: f"E06{900001 + i:06d}"[:9] for i, t in enumerate(dict.fromkeys(district_towns))}
    return pd.DataFrame(
        OrderedDict(
            [
                ("Postcode", postcodes["Postcode"]),
                ("Positional_quality_indicator", 10),
                ("Eastings", postcodes["easting"]),
                ("Northings", postcodes["northing"]),
                ("Country_code", "E92000001"),
                ("NHS_regional_HA_code", "E19000001"),
                ("NHS_HA_code", "E18000003"),
                ("Admin_county_code", ""),
                ("Admin_district_code", [district_codes[t.title()] for t in postcodes["post_town"]]),
                ("Admin_ward_code", postcodes["area_id"]),
            ]
        )
    )


def _towns_layer():
    import geopandas as gpd
    from shapely.geometry import Point

    return gpd.GeoDataFrame(
        {
            "name": [t[0] for t in TOWNS],
            "population_share": [float(t[3]) for t in TOWNS],
            "sigma_m": [float(t[4] * 1000.0) for t in TOWNS],
        },
        geometry=[Point(*_km(t[1], t[2])) for t in TOWNS],
        crs=CRS,
    )


def generate_demo_region(seed: int = DEFAULT_SEED) -> dict:
    """Build the demo region in memory.

    Returns a dict with GeoDataFrames ``region``, ``towns``, ``roads``, ``areas``, ``postcodes``, ``firms``
    (EPSG:27700), the pandas frame ``codepoint`` (Code-Point Open style) and ``truth`` (the ground-truth dict).
    Deterministic: the same ``seed`` gives the same content.
    """
    import geopandas as gpd

    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise CreativeClustersError(f"The demo seed must be a non-negative integer, got {seed!r}.")
    rng = np.random.default_rng(int(seed))
    # the steps in the order they draw from rng
    ring, boundary = _make_boundary(rng)
    wards = _make_wards(rng, _ward_seeds(rng, ring), boundary)
    units = _make_postcode_units(rng, ring, wards)
    sic = _SicDrawer(rng)
    firms = _plant_firms(rng, sic, units)
    sic_codes = _draw_sic_codes(rng, sic, firms)
    n_unusable_sic = _spoil_first_sic_codes(rng, firms, sic_codes)
    attrs = _company_attributes(rng, firms, sic_codes.first_codes, places=list(wards.names) + [t[0] for t in TOWNS])
    postcode_text = units.codes[firms.unit].astype(object)
    n_postcode_variants = _postcode_variants(rng, postcode_text, firms.kind)
    # no random numbers from here on
    table = _firm_table(firms, units, sic_codes, attrs, postcode_text)
    ordered = _sort_by_company_name(table, units.xy[firms.unit], firms, sic_codes.first_codes)
    firms_gdf = gpd.GeoDataFrame(
        ordered.table.copy(), geometry=gpd.points_from_xy(ordered.xy[:, 0], ordered.xy[:, 1]), crs=CRS
    )
    postcodes = _postcode_layer(units, ordered.draws.unit)
    truth = _ground_truth(seed, boundary, wards, units, ordered, n_unusable_sic, n_postcode_variants)
    return {
        "region": gpd.GeoDataFrame({"name": [REGION_NAME]}, geometry=[boundary], crs=CRS),
        "towns": _towns_layer(),
        "roads": _roads(boundary),
        "areas": wards.areas,
        "postcodes": postcodes,
        "firms": firms_gdf,
        "codepoint": _codepoint_table(postcodes, units.district_towns),
        "truth": truth,
    }


MOTORWAY_TOWNS = ("Kelham", "Millbrook", "Stanton Cross", "Bramford")


def _roads(boundary):
    """The Vale Motorway through the corridor towns and A roads (a minimum spanning tree of the towns, the
    motorway's links taken first), clipped to the region. Deterministic: no random numbers are drawn."""
    import geopandas as gpd
    from scipy.sparse.csgraph import minimum_spanning_tree
    from shapely.geometry import LineString

    names = [t[0] for t in TOWNS]
    xy = np.array([_km(t[1], t[2]) for t in TOWNS])
    order = [names.index(n) for n in MOTORWAY_TOWNS]
    distances = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    for a, b in zip(order, order[1:]):  # the motorway's links cost almost nothing, so the tree keeps them
        distances[a, b] = distances[b, a] = 1e-3
    tree = minimum_spanning_tree(distances).tocoo()
    motorway = set(zip(order, order[1:])) | set(zip(order[1:], order))
    rows, number = [], 600
    for a, b in sorted(zip(tree.row.tolist(), tree.col.tolist())):
        if (a, b) in motorway:
            continue
        number += 1
        line = LineString([xy[a], xy[b]]).intersection(boundary)
        rows.append((f"A{number} {names[a]} – {names[b]}", "A road", line))
    rows.append(("Vale Motorway", "Motorway", LineString([xy[i] for i in order]).intersection(boundary)))
    return gpd.GeoDataFrame({"name": [r[0] for r in rows], "road_class": [r[1] for r in rows]},
                            geometry=[r[2] for r in rows], crs=CRS)



# ---------------------------------------------------------------------------------------------------
# ground truth
# ---------------------------------------------------------------------------------------------------
_TRUTH_NOTES = (
    "Creative means the first SIC code is in one of the 31 DCMS creative classes (rule 0).",
    "LQ = (creative / all firms in the area) / (creative / all firms in the region), counting "
    "every firm including dormant ones and those with unusable SIC codes.",
    "Firms sit exactly at their postcode centroid (integer metres), like Code-Point geocoding.",
    "CompanyNumber uses the fictional prefix DV so that it can never equal a real number.",
    "postcodes.csv follows the Code-Point Open column order but has a header row; "
    "Admin_ward_code holds the demo area_id.",
)


@dataclass
class _AreaCounts:
    """Firms per ward as the ground truth counts them (every firm, by the ward holding it)."""

    creative: np.ndarray  #: per firm: creative by its first SIC code
    firm_area: np.ndarray  #: per firm: row of its ward in the areas layer
    all_per_area: np.ndarray
    creative_per_area: np.ndarray
    share_region: float  #: creative share of all firms in the region

    @classmethod
    def of(cls, firms, wards):
        creative = np.array([s is not None for s in firms.draws.sub])
        firm_area = wards.seed_tree.query(firms.xy)[1]
        n_areas = len(wards.areas)
        return cls(
            creative=creative,
            firm_area=firm_area,
            all_per_area=np.bincount(firm_area, minlength=n_areas),
            creative_per_area=np.bincount(firm_area, weights=creative.astype(float), minlength=n_areas),
            share_region=creative.sum() / len(firms.table),
        )


def _cluster_truth(k, c, wards, firms, counts):
    """The ground truth of planted cluster ``k`` (``c`` is its row of :data:`CLUSTERS`)."""
    areas, xy = wards.areas, firms.xy
    cx, cy = _km(c[2], c[3])
    members = firms.draws.cluster == k
    subs = [s for s in firms.draws.sub[members]]
    mix = OrderedDict(
        (SUBSECTORS[code], round(subs.count(code) / len(subs), 4)) for code in SUBSECTORS if subs.count(code)
    )
    centre_area = int(wards.seed_tree.query([cx, cy])[1])
    d = np.hypot(xy[:, 0] - cx, xy[:, 1] - cy)
    within = d <= c[4]
    areas_with_members = sorted(set(areas["area_id"].to_numpy()[np.unique(counts.firm_area[members])]))
    n_creative_centre = counts.creative_per_area[centre_area]
    n_all_centre = counts.all_per_area[centre_area]
    lq = (n_creative_centre / n_all_centre) / counts.share_region
    return OrderedDict(
        [
            ("name", c[0]),
            ("town", c[1]),
            ("centre", [cx, cy]),
            ("radius_m", float(c[4])),
            ("n_firms", int(c[5])),
            ("dominant_subsector", SUBSECTORS[c[6]]),
            ("dominant_share_target", c[7]),
            ("subsector_mix", mix),
            ("chain_order", c[8]),
            ("centre_area_id", areas["area_id"].iloc[centre_area]),
            ("area_ids", areas_with_members),
            ("centre_area_creative_lq", round(float(lq), 4)),
            ("centre_area_n_creative", int(n_creative_centre)),
            ("centre_area_n_firms", int(n_all_centre)),
            ("n_creative_within_radius", int((within & counts.creative).sum())),
            ("n_firms_within_radius", int(within.sum())),
        ]
    )


def _chain_truth(clusters):
    """The corridor chain: its clusters in ``chain_order``, start, end and straight-line length."""
    chain = sorted([c for c in clusters if c["chain_order"] is not None], key=lambda c: c["chain_order"])
    start, end = chain[0]["centre"], chain[-1]["centre"]
    return OrderedDict(
        [
            ("cluster_names", [c["name"] for c in chain]),
            ("start", start),
            ("end", end),
            ("length_m", round(math.hypot(end[0] - start[0], end[1] - start[1]), 1)),
        ]
    )


def _formation_agent_truth(wards, units, firms, counts, clusters):
    """The formation-agent postcode: where it is, how many companies it holds, how far from the clusters."""
    fa_unit = int(np.flatnonzero(units.group == -2)[0])
    fa_xy = units.xy[fa_unit]
    fa_members = firms.draws.kind == "fa"
    nearest_cluster = min(math.hypot(fa_xy[0] - c["centre"][0], fa_xy[1] - c["centre"][1]) for c in clusters)
    return OrderedDict(
        [
            ("postcode", units.codes[fa_unit]),
            ("xy", [float(fa_xy[0]), float(fa_xy[1])]),
            ("n_companies", int(fa_members.sum())),
            ("n_creative", int((fa_members & counts.creative).sum())),
            ("area_id", wards.areas["area_id"].iloc[int(wards.seed_tree.query(fa_xy)[1])]),
            ("distance_to_nearest_cluster_m", round(nearest_cluster, 1)),
        ]
    )


def _truth_parameters():
    """The generator's fixed parameters, recorded in the ground truth."""
    return OrderedDict(
        [
            ("origin", list(ORIGIN)),
            ("n_firms_target", N_FIRMS_TARGET),
            ("n_areas_target", N_AREAS),
            ("n_background_postcodes", N_BACKGROUND_POSTCODES),
            ("background_creative_share", BACKGROUND_CREATIVE_SHARE),
            ("dormant_share_target", DORMANT_SHARE),
            ("snapshot_date", SNAPSHOT_DATE.isoformat()),
            ("towns", [OrderedDict(name=t[0], xy=list(_km(t[1], t[2])), population_share=t[3],
                                   sigma_m=t[4] * 1000.0) for t in TOWNS]),
        ]
    )


def _ground_truth(seed, boundary, wards, units, firms, n_unusable_sic, n_postcode_variants):
    """The ground-truth dict written to ``ground_truth.json``; ``firms`` is the :class:`SortedFirms`."""
    n = len(firms.table)
    counts = _AreaCounts.of(firms, wards)
    creative = counts.creative
    dormant = np.array([c in ("99999", "74990") for c in firms.first_codes])
    clusters = [_cluster_truth(k, c, wards, firms, counts) for k, c in enumerate(CLUSTERS)]
    xmin, ymin, xmax, ymax = boundary.bounds
    return OrderedDict(
        [
            ("name", REGION_NAME),
            ("crs", CRS),
            ("seed", int(seed)),
            ("extent", [xmin, ymin, xmax, ymax]),
            ("n_firms", int(n)),
            ("n_areas", int(len(wards.areas))),
            ("n_postcodes", int(len(units.xy))),
            ("n_creative_first_sic", int(creative.sum())),
            ("creative_share", round(float(creative.mean()), 6)),
            ("n_dormant", int(dormant.sum())),
            ("dormant_share", round(float(dormant.mean()), 6)),
            ("n_unusable_sic", n_unusable_sic),
            ("n_postcode_format_variants", int(n_postcode_variants)),
            ("clusters", clusters),
            ("chain", _chain_truth(clusters)),
            ("formation_agent", _formation_agent_truth(wards, units, firms, counts, clusters)),
            ("notes", list(_TRUTH_NOTES)),
            ("parameters", _truth_parameters()),
        ]
    )


def write_demo_region(folder, seed: int = DEFAULT_SEED) -> dict:
    """Generate the demo region and write it into ``folder`` (created when missing).

    Writes ``demo_region.gpkg`` (layers ``region``, ``towns``, ``roads``, ``areas``, ``postcodes``, ``firms``),
    ``firms.csv``, ``postcodes.csv`` and ``ground_truth.json``.

    Returns ``{"gpkg", "firms_csv", "postcodes_csv", "truth", "truth_data", "folder"}`` (paths as str;
    ``truth_data`` is the parsed ground truth, see the module docstring).
    """
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    data = generate_demo_region(seed)
    gpkg = os.path.join(folder, "demo_region.gpkg")
    if os.path.exists(gpkg):
        os.remove(gpkg)
    for layer in ("region", "towns", "roads", "areas", "postcodes", "firms"):
        data[layer].to_file(gpkg, driver="GPKG", layer=layer)
    firms_csv = os.path.join(folder, "firms.csv")
    data["firms"].drop(columns="geometry").to_csv(firms_csv, index=False)
    postcodes_csv = os.path.join(folder, "postcodes.csv")
    data["codepoint"].to_csv(postcodes_csv, index=False)
    truth_path = os.path.join(folder, "ground_truth.json")
    with open(truth_path, "w", encoding="utf-8") as fh:
        json.dump(data["truth"], fh, indent=2)
    with open(truth_path, encoding="utf-8") as fh:
        truth_data = json.load(fh)
    return {
        "folder": folder,
        "gpkg": gpkg,
        "firms_csv": firms_csv,
        "postcodes_csv": postcodes_csv,
        "truth": truth_path,
        "truth_data": truth_data,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m creative_clusters_plugin.core.demo_region",
        description="Write the synthetic Dunmere Vale demo region (GeoPackage, CSVs, ground truth).",
    )
    parser.add_argument("output_folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    result = write_demo_region(args.output_folder, seed=args.seed)
    t = result["truth_data"]
    print(
        f"Wrote {result['gpkg']} ({t['n_areas']} areas, {t['n_firms']} firms, {t['n_postcodes']} postcodes, "
        f"{len(t['clusters'])} planted clusters), {result['firms_csv']}, {result['postcodes_csv']}, "
        f"{result['truth']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
