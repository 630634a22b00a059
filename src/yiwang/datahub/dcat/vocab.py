"""Namespaces and the mappings onto the EU controlled vocabularies (publications.europa.eu authority tables)."""

from __future__ import annotations

from rdflib import Namespace, URIRef

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
DCATAP = Namespace("http://data.europa.eu/r5r/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
LOCN = Namespace("http://www.w3.org/ns/locn#")

EU = "http://publications.europa.eu/resource/authority/"
ACCESS_PUBLIC = URIRef(EU + "access-right/PUBLIC")
ACCESS_RESTRICTED = URIRef(EU + "access-right/RESTRICTED")
ACCESS_LABELS = {ACCESS_PUBLIC: ("公开", "public"), ACCESS_RESTRICTED: ("受限", "restricted")}
LANGUAGE_ZHO = URIRef(EU + "language/ZHO")
THEME_SCHEME = URIRef(EU + "data-theme")
FREQUENCY_SCHEME = URIRef(EU + "frequency")
# SM3 (GB/T 32905-2016) by its OID: SPDX's algorithm list has no SM3, and the shapes ask only for an algorithm.
SM3_ALGORITHM = URIRef("urn:oid:1.2.156.10197.1.401")
PUBLISHER_TYPE_LOCAL = URIRef("http://purl.org/adms/publishertype/LocalAuthority")
COUNTRY_CHN = URIRef(EU + "country/CHN")
AVAILABILITY_STABLE = URIRef(EU + "planned-availability/STABLE")
# ADMS licence types (dct:type of a licence document)
LICENCE_TYPES = {
    "attribution": ("Attribution", "署名"),
    "public-domain": ("PublicDomain", "公有领域"),
    "non-commercial": ("NonCommercialUse", "非商业使用"),
    "share-alike": ("ShareAlike", "相同方式共享"),
}
LICENCE_TYPE_OF = {
    "cc-zero": "public-domain",
    "odc-pddl": "public-domain",
    "cc-nc": "non-commercial",
    "cc-by-sa": "share-alike",
    "odc-odbl": "share-alike",
}
DATASTORE_STANDARD = URIRef("https://docs.ckan.org/en/2.10/maintaining/datastore.html")

# The EU data themes (code → English label, Chinese label).
EU_THEMES = {
    "AGRI": ("Agriculture, fisheries, forestry and food", "农业、渔业、林业和食品"),
    "ECON": ("Economy and finance", "经济和金融"),
    "EDUC": ("Education, culture and sport", "教育、文化和体育"),
    "ENER": ("Energy", "能源"),
    "ENVI": ("Environment", "环境"),
    "GOVE": ("Government and public sector", "政府和公共部门"),
    "HEAL": ("Health", "卫生健康"),
    "INTR": ("International issues", "国际事务"),
    "JUST": ("Justice, legal system and public safety", "司法、法律和公共安全"),
    "REGI": ("Regions and cities", "区域和城市"),
    "SOCI": ("Population and society", "人口和社会"),
    "TECH": ("Science and technology", "科学技术"),
    "TRAN": ("Transport", "交通运输"),
}
# Words in a theme's name or title → the EU theme that fits (first match wins).
THEME_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("TRAN", ("交通", "出行", "运输", "transport", "traffic")),
    ("HEAL", ("卫生", "健康", "医疗", "医保", "health")),
    ("EDUC", ("教育", "文化", "体育", "旅游", "education", "culture")),
    ("ENVI", ("环境", "生态", "气象", "环保", "environment", "ecology")),
    ("AGRI", ("农业", "农村", "林业", "渔业", "食品", "agri", "food")),
    ("ENER", ("能源", "电力", "energy")),
    ("TECH", ("科技", "创新", "科学", "tech", "science")),
    ("JUST", ("司法", "公安", "安全", "应急", "法律", "justice", "safety")),
    (
        "ECON",
        ("经济", "市场", "企业", "财政", "金融", "税", "信用", "economy", "finance", "market", "credit"),
    ),
    ("REGI", ("城市", "城建", "规划", "住房", "建设", "区划", "地理", "city", "urban", "housing")),
    ("SOCI", ("社会", "民生", "人口", "就业", "社保", "救助", "养老", "social", "population", "employ")),
    ("GOVE", ("政务", "政府", "机构", "公共服务", "办件", "government", "public")),
)
# The platform's update cycles → EU frequencies.
FREQUENCIES = {
    "realtime": ("UPDATE_CONT", "持续更新", "continuously updated"),
    "daily": ("DAILY", "每日", "daily"),
    "weekly": ("WEEKLY", "每周", "weekly"),
    "monthly": ("MONTHLY", "每月", "monthly"),
    "quarterly": ("QUARTERLY", "每季度", "quarterly"),
    "yearly": ("ANNUAL", "每年", "annual"),
    "irregular": ("IRREG", "不定期", "irregular"),
}
# Resource formats → (EU file type, IANA media type).
FORMATS = {
    "CSV": ("CSV", "text/csv"),
    "JSON": ("JSON", "application/json"),
    "XLSX": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "XLS": ("XLS", "application/vnd.ms-excel"),
    "XML": ("XML", "application/xml"),
    "PDF": ("PDF", "application/pdf"),
    "ZIP": ("ZIP", "application/zip"),
    "GEOJSON": ("GEOJSON", "application/geo+json"),
    "API": ("JSON", "application/json"),
}


def eu_theme_for(name: str, title: str) -> str | None:
    text = f"{name} {title}".lower()
    for code, words in THEME_WORDS:
        if any(word in text for word in words):
            return code
    return None


def iana(media_type: str) -> URIRef:
    return URIRef("http://www.iana.org/assignments/media-types/" + media_type)
