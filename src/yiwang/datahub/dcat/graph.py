"""DCAT-AP 3.0.1 graphs of open datasets, built with rdflib.

- Dataset `<site>/dataset/<public_id>`: title, description, keywords (tags), identifier, issued/modified,
  publisher (the department: foaf:Agent, `<site>/organization/<code>`), contact point (vcard:Organization),
  landing page (the portal page), language, themes (the platform's theme as a skos:Concept of its own scheme,
  and the EU data theme that fits), accrual periodicity (EU frequency), access rights (EU access-right PUBLIC for
  无条件开放, RESTRICTED for 有条件开放), distributions.
- Distribution `<site>/dataset/<id>/resource/<rid>`: access and download URL (the portal's download), media type
  (IANA), format (EU file type), byte size, checksum (SM3 by its OID — SPDX lists no SM3 and the shapes ask only
  for an algorithm and a hexBinary value), licence (dct:LicenseDocument), the datastore as dcat:accessService;
  for 有条件开放 an ODRL policy (`odrl:hasPolicy`): use permitted for the stated purpose to those whose
  application was approved, attribution as a duty, redistribution prohibited.
- Catalog `<site>/catalog`: title, description, publisher, homepage, language, theme taxonomy, its datasets of
  the page, and a Hydra `PartialCollectionView` (first/previous/next/last, totalItems, itemsPerPage).

Every object whose class the shapes' range checks is typed explicitly (no inference is assumed), and every
skos:Concept carries a skos:prefLabel.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from django.conf import settings
from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, URIRef

from ..ckan.serialise import LICENCES, dataset_page_path, resource_download_path, resources_of, themes_of
from ..models import OpenDataset, OpenTier
from . import vocab
from .vocab import ADMS, DCAT, DCATAP, DCT, FOAF, HYDRA, ODRL, SKOS, SPDX, VCARD

FORMATS = {
    "ttl": ("turtle", "text/turtle; charset=utf-8"),
    "jsonld": ("json-ld", "application/ld+json"),
    "rdf": ("pretty-xml", "application/rdf+xml; charset=utf-8"),
}
PAGE_SIZE = 100
PREFIXES = {
    "dcat": DCAT,
    "dct": DCT,
    "dcatap": DCATAP,
    "foaf": FOAF,
    "vcard": VCARD,
    "odrl": ODRL,
    "spdx": SPDX,
    "hydra": HYDRA,
    "adms": ADMS,
    "skos": SKOS,
    "rdfs": RDFS,
    "xsd": XSD,
}


def new_graph() -> Graph:
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    return graph


def _zh(text: str) -> Literal:
    return Literal(text, lang="zh")


def _when(moment) -> Literal | None:
    if moment is None:
        return None
    return Literal(moment.replace(microsecond=0).isoformat(), datatype=XSD.dateTime)


def _concept(
    graph: Graph, node: URIRef, zh: str, en: str, *, scheme: URIRef | None = None, extra=()
) -> URIRef:
    graph.add((node, RDF.type, SKOS.Concept))
    for cls in extra:
        graph.add((node, RDF.type, cls))
    graph.add((node, SKOS.prefLabel, Literal(zh, lang="zh")))
    graph.add((node, SKOS.prefLabel, Literal(en, lang="en")))
    if scheme is not None:
        graph.add((node, SKOS.inScheme, scheme))
    return node


class Builder:
    """Adds datasets to one graph, each shared node (publisher, licence, theme, service) once."""

    def __init__(self, base: str, graph: Graph | None = None) -> None:
        self.base = base
        self.graph = graph if graph is not None else new_graph()
        self._done: set = set()

    # --- shared nodes ------------------------------------------------------------------------------------------
    def _once(self, key) -> bool:
        if key in self._done:
            return False
        self._done.add(key)
        return True

    def publisher(self, department) -> URIRef:
        node = URIRef(f"{self.base}/organization/{department.code.lower()}")
        if self._once(node):
            g = self.graph
            g.add((node, RDF.type, FOAF.Agent))
            g.add((node, RDF.type, FOAF.Organization))
            g.add((node, FOAF.name, _zh(department.name)))
            g.add((node, DCT.identifier, Literal(department.code)))
            g.add((node, DCT.type, vocab.PUBLISHER_TYPE_LOCAL))
            if self._once(vocab.PUBLISHER_TYPE_LOCAL):
                _concept(g, vocab.PUBLISHER_TYPE_LOCAL, "地方政府部门", "Local Authority")
        return node

    def contact_point(self, department) -> URIRef:
        node = URIRef(f"{self.base}/organization/{department.code.lower()}#contact")
        if self._once(node):
            g = self.graph
            g.add((node, RDF.type, VCARD.Kind))
            g.add((node, RDF.type, VCARD.Organization))
            g.add((node, VCARD.fn, _zh(department.name)))
            g.add((node, VCARD.hasURL, URIRef(f"{self.base}/open/")))
        return node

    def title(self) -> str:
        return getattr(settings, "YIWANG_OPEN_DATA_TITLE", "") or "一网公共数据开放平台"

    def site_publisher(self) -> URIRef:
        node = URIRef(f"{self.base}/open/#publisher")
        if self._once(node):
            g = self.graph
            g.add((node, RDF.type, FOAF.Agent))
            g.add((node, FOAF.name, _zh(self.title())))
            g.add((node, DCT.type, vocab.PUBLISHER_TYPE_LOCAL))
            if self._once(vocab.PUBLISHER_TYPE_LOCAL):
                _concept(g, vocab.PUBLISHER_TYPE_LOCAL, "地方政府部门", "Local Authority")
        return node

    def site_contact(self) -> URIRef:
        node = URIRef(f"{self.base}/open/#contact")
        if self._once(node):
            g = self.graph
            g.add((node, RDF.type, VCARD.Kind))
            g.add((node, RDF.type, VCARD.Organization))
            g.add((node, VCARD.fn, _zh(self.title())))
            g.add((node, VCARD.hasURL, URIRef(f"{self.base}/open/")))
        return node

    def spatial(self) -> URIRef:
        node = vocab.COUNTRY_CHN
        if self._once(node):
            wkt = URIRef("http://www.opengis.net/ont/geosparql#wktLiteral")
            self.graph.add((node, RDF.type, DCT.Location))
            self.graph.add((node, DCAT.centroid, Literal("POINT(104.1954 35.8617)", datatype=wkt)))
            self.graph.add(
                (
                    node,
                    DCAT.bbox,
                    Literal(
                        "POLYGON((73.5 18.2, 134.8 18.2, 134.8 53.6, 73.5 53.6, 73.5 18.2))", datatype=wkt
                    ),
                )
            )
        return node

    def availability(self) -> URIRef:
        node = vocab.AVAILABILITY_STABLE
        if self._once(node):
            _concept(self.graph, node, "长期可用", "stable")
        return node

    def licence(self, licence_id: str) -> URIRef:
        title, url, _is_open = LICENCES.get(licence_id, (licence_id, "", False))
        node = URIRef(url or f"{self.base}/licences/{licence_id}")
        if self._once(node):
            self.graph.add((node, RDF.type, DCT.LicenseDocument))
            self.graph.add((node, RDFS.label, Literal(title)))
            self.graph.add((node, DCT.identifier, Literal(licence_id)))
            kind = vocab.LICENCE_TYPE_OF.get(licence_id, "attribution")
            code, zh = vocab.LICENCE_TYPES[kind]
            type_node = URIRef("http://purl.org/adms/licencetype/" + code)
            self.graph.add((node, DCT.type, type_node))
            if self._once(type_node):
                _concept(self.graph, type_node, zh, code)
        return node

    def access_rights(self, tier: str) -> URIRef:
        node = vocab.ACCESS_RESTRICTED if tier == OpenTier.CONDITIONAL else vocab.ACCESS_PUBLIC
        if self._once(node):
            zh, en = vocab.ACCESS_LABELS[node]
            _concept(self.graph, node, zh, en, extra=(DCT.RightsStatement,))
        return node

    def themes(self, theme) -> list[URIRef]:
        nodes = []
        own = URIRef(f"{self.base}/group/{theme.name}")
        scheme = URIRef(f"{self.base}/group/")
        if self._once(own):
            _concept(self.graph, own, theme.title, theme.name, scheme=scheme)
            if self._once(scheme):
                self.graph.add((scheme, RDF.type, SKOS.ConceptScheme))
                self.graph.add((scheme, DCT.title, _zh("开放数据主题")))
        nodes.append(own)
        code = vocab.eu_theme_for(theme.name, theme.title)
        if code:
            node = URIRef(vocab.EU + "data-theme/" + code)
            if self._once(node):
                en, zh = vocab.EU_THEMES[code]
                _concept(self.graph, node, zh, en, scheme=vocab.THEME_SCHEME)
            nodes.append(node)
        return nodes

    def frequency(self, cycle: str) -> URIRef | None:
        found = vocab.FREQUENCIES.get(cycle)
        if not found:
            return None
        code, zh, en = found
        node = URIRef(vocab.EU + "frequency/" + code)
        if self._once(node):
            _concept(self.graph, node, zh, en, scheme=vocab.FREQUENCY_SCHEME, extra=(DCT.Frequency,))
        return node

    def language(self) -> URIRef:
        node = vocab.LANGUAGE_ZHO
        if self._once(node):
            self.graph.add((node, RDF.type, DCT.LinguisticSystem))
        return node

    def datastore_service(self) -> URIRef:
        node = URIRef(f"{self.base}/api/3/action/datastore_search")
        if self._once(node):
            g = self.graph
            g.add((node, RDF.type, DCAT.DataService))
            g.add((node, DCT.title, _zh("数据存储查询接口（CKAN datastore_search）")))
            g.add((node, DCAT.endpointURL, node))
            g.add(
                (
                    node,
                    DCAT.endpointDescription,
                    URIRef(f"{self.base}/api/3/action/help_show?name=datastore_search"),
                )
            )
            g.add((node, DCT.publisher, self.site_publisher()))
            g.add((node, DCAT.contactPoint, self.site_contact()))
            g.add((node, DCT.conformsTo, vocab.DATASTORE_STANDARD))
            g.add((vocab.DATASTORE_STANDARD, RDF.type, DCT.Standard))
            for word in ("CKAN", "datastore_search", "数据存储"):
                g.add((node, DCAT.keyword, Literal(word)))
            gove = URIRef(vocab.EU + "data-theme/GOVE")
            g.add((node, DCAT.theme, gove))
            if self._once(gove):
                en, zh = vocab.EU_THEMES["GOVE"]
                _concept(g, gove, zh, en, scheme=vocab.THEME_SCHEME)
        return node

    def media(self, fmt: str) -> tuple[URIRef | None, URIRef | None]:
        found = vocab.FORMATS.get((fmt or "").upper())
        if not found:
            return None, None
        file_type, media_type = found
        fmt_node = URIRef(vocab.EU + "file-type/" + file_type)
        media_node = vocab.iana(media_type)
        if self._once(fmt_node):
            self.graph.add((fmt_node, RDF.type, DCT.MediaTypeOrExtent))
        if self._once(media_node):
            self.graph.add((media_node, RDF.type, DCT.MediaType))
        return fmt_node, media_node

    # --- datasets ----------------------------------------------------------------------------------------------
    def dataset_uri(self, dataset: OpenDataset) -> URIRef:
        return URIRef(f"{self.base}/dataset/{dataset.public_id}")

    def add_dataset(self, dataset: OpenDataset) -> URIRef:
        g = self.graph
        node = self.dataset_uri(dataset)
        g.add((node, RDF.type, DCAT.Dataset))
        g.add((node, DCT.identifier, Literal(str(dataset.public_id))))
        g.add((node, DCT.title, _zh(dataset.title)))
        g.add((node, DCT.description, _zh(dataset.notes or dataset.title)))
        for tag in dataset.tags or []:
            if isinstance(tag, str) and tag:
                g.add((node, DCAT.keyword, _zh(tag)))
        publisher = self.publisher(dataset.department)
        g.add((node, DCT.publisher, publisher))
        g.add((node, DCAT.contactPoint, self.contact_point(dataset.department)))
        issued = _when(dataset.published_at or dataset.created_at)
        modified = _when(dataset.modified_at or dataset.published_at or dataset.created_at)
        if issued is not None:
            g.add((node, DCT.issued, issued))
        if modified is not None:
            g.add((node, DCT.modified, modified))
        page = URIRef(self.base + dataset_page_path(dataset))
        g.add((node, DCAT.landingPage, page))
        g.add((page, RDF.type, FOAF.Document))
        g.add((node, DCT.language, self.language()))
        g.add((node, DCT.spatial, self.spatial()))
        g.add((node, DCT.accessRights, self.access_rights(dataset.tier)))
        frequency = self.frequency(dataset.update_cycle)
        if frequency is not None:
            g.add((node, DCT.accrualPeriodicity, frequency))
        for theme in themes_of(dataset):
            for concept in self.themes(theme):
                g.add((node, DCAT.theme, concept))
        for resource in resources_of(dataset):
            g.add((node, DCAT.distribution, self.add_distribution(dataset, resource, node, publisher)))
        return node

    def add_distribution(self, dataset, resource, dataset_node: URIRef, publisher: URIRef) -> URIRef:
        g = self.graph
        node = URIRef(f"{self.base}/dataset/{dataset.public_id}/resource/{resource.public_id}")
        download = URIRef(self.base + resource_download_path(dataset, resource))
        g.add((node, RDF.type, DCAT.Distribution))
        g.add((node, DCT.title, _zh(resource.name)))
        g.add((node, DCT.description, _zh(resource.description or resource.name)))
        g.add((node, DCATAP.availability, self.availability()))
        g.add((node, DCAT.accessURL, download))
        g.add((node, DCAT.downloadURL, download))
        fmt_node, media_node = self.media(resource.format)
        if fmt_node is not None:
            g.add((node, DCT["format"], fmt_node))
            g.add((node, DCAT.mediaType, media_node))
        if resource.size:
            g.add((node, DCAT.byteSize, Literal(int(resource.size), datatype=XSD.nonNegativeInteger)))
        if resource.sm3:
            checksum = URIRef(f"{node}#sm3")
            g.add((node, SPDX.checksum, checksum))
            g.add((checksum, RDF.type, SPDX.Checksum))
            g.add((checksum, SPDX.algorithm, vocab.SM3_ALGORITHM))
            g.add((checksum, SPDX.checksumValue, Literal(resource.sm3.lower(), datatype=XSD.hexBinary)))
        g.add((node, DCT.license, self.licence(dataset.licence_id)))
        modified = _when(resource.modified_at)
        if modified is not None:
            g.add((node, DCT.modified, modified))
        issued = _when(resource.created_at)
        if issued is not None:
            g.add((node, DCT.issued, issued))
        if resource.datastore_active:
            service = self.datastore_service()
            g.add((node, DCAT.accessService, service))
            g.add((service, DCAT.servesDataset, dataset_node))
        if dataset.tier == OpenTier.CONDITIONAL:
            g.add((node, ODRL.hasPolicy, self.policy(dataset, node, publisher)))
        return node

    def policy(self, dataset: OpenDataset, target: URIRef, publisher: URIRef) -> URIRef:
        """有条件开放: an ODRL offer — use for the approved purpose (the dataset's conditions), attribution as a
        duty, redistribution prohibited."""
        g = self.graph
        node = URIRef(f"{target}#policy")
        g.add((node, RDF.type, ODRL.Policy))
        g.add((node, RDF.type, ODRL.Offer))
        g.add((node, ODRL.uid, node))
        g.add((node, ODRL.assigner, publisher))
        permission = BNode()
        g.add((node, ODRL.permission, permission))
        g.add((permission, RDF.type, ODRL.Permission))
        g.add((permission, ODRL.target, target))
        g.add((permission, ODRL.assigner, publisher))
        g.add((permission, ODRL.action, ODRL.use))
        constraint = BNode()
        g.add((permission, ODRL.constraint, constraint))
        g.add((constraint, RDF.type, ODRL.Constraint))
        g.add((constraint, ODRL.leftOperand, ODRL.purpose))
        g.add((constraint, ODRL.operator, ODRL.eq))
        g.add((constraint, ODRL.rightOperand, _zh(dataset.conditions or "经开放部门批准的申请用途")))
        duty = BNode()
        g.add((permission, ODRL.duty, duty))
        g.add((duty, RDF.type, ODRL.Duty))
        g.add((duty, ODRL.action, ODRL.attribute))
        prohibition = BNode()
        g.add((node, ODRL.prohibition, prohibition))
        g.add((prohibition, RDF.type, ODRL.Prohibition))
        g.add((prohibition, ODRL.target, target))
        g.add((prohibition, ODRL.action, ODRL.distribute))
        return node

    # --- the catalogue -----------------------------------------------------------------------------------------
    def catalog(
        self,
        datasets: Iterable[OpenDataset],
        *,
        total: int,
        page: int,
        query: dict,
        fmt: str = "ttl",
        modified=None,
        issued=None,
    ) -> URIRef:
        g = self.graph
        node = URIRef(f"{self.base}/catalog")
        g.add((node, RDF.type, DCAT.Catalog))
        g.add((node, DCT.title, _zh(self.title())))
        g.add((node, DCT.description, _zh("政府部门依法开放的公共数据集目录（DCAT-AP 3.0.1）。")))
        g.add((node, DCT.publisher, self.site_publisher()))
        g.add((node, DCT.license, self.licence("cc-zero")))  # the catalogue's metadata
        g.add((node, DCT.spatial, self.spatial()))
        if issued is not None:
            g.add((node, DCT.issued, _when(issued)))
        homepage = URIRef(f"{self.base}/open/")
        g.add((homepage, RDF.type, FOAF.Document))
        g.add((node, FOAF.homepage, homepage))
        g.add((node, DCT.language, self.language()))
        g.add((node, DCAT.themeTaxonomy, vocab.THEME_SCHEME))
        g.add((vocab.THEME_SCHEME, RDF.type, SKOS.ConceptScheme))
        g.add((vocab.THEME_SCHEME, DCT.title, Literal("Data theme", lang="en")))
        if modified is not None:
            g.add((node, DCT.modified, _when(modified)))
        for dataset in datasets:
            g.add((node, DCAT.dataset, self.add_dataset(dataset)))
        service = URIRef(f"{self.base}/api/3/action/datastore_search")
        if service in self._done:
            g.add((node, DCAT.service, service))
        self._paging(node, total=total, page=page, query=query, fmt=fmt)
        return node

    def _paging(self, catalog: URIRef, *, total: int, page: int, query: dict, fmt: str) -> None:
        g = self.graph
        last = max(1, -(-total // PAGE_SIZE))

        def url(number: int) -> URIRef:
            params = {k: v for k, v in query.items() if v}
            params["page"] = number
            return URIRef(f"{self.base}/catalog.{fmt}?{urlencode(params)}")

        view = url(page)
        g.add((catalog, HYDRA.view, view))
        g.add((view, RDF.type, HYDRA.PartialCollectionView))
        g.add((view, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
        g.add((view, HYDRA.itemsPerPage, Literal(PAGE_SIZE, datatype=XSD.integer)))
        g.add((view, HYDRA.first, url(1)))
        g.add((view, HYDRA.last, url(last)))
        if page > 1:
            g.add((view, HYDRA.previous, url(min(page - 1, last))))
        if page < last:
            g.add((view, HYDRA.next, url(page + 1)))


def serialise(graph: Graph, fmt: str) -> tuple[bytes, str]:
    rdflib_format, content_type = FORMATS[fmt]
    if rdflib_format == "json-ld":
        context = {prefix: str(ns) for prefix, ns in PREFIXES.items()}
        data = graph.serialize(format="json-ld", context=context, auto_compact=True)
    else:
        data = graph.serialize(format=rdflib_format)
    return (data.encode("utf-8") if isinstance(data, str) else data), content_type
