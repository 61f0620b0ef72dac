"""Namespaces, with our own vocabulary closed: a typo in a term is an error, not a new IRI.

Terms are pre-encoded N-Quads IRIs (``<https://...>``) because the emitter writes
N-Quads text. The list of ``tkg:`` terms here and the ontology file must agree; a test
checks that every term below is declared (with label and comment) in
``ontology/trialkg.ttl`` and vice versa.

Example:
    >>> TKG.Trial
    '<https://w3id.org/trialkg/ontology#Trial>'
    >>> TKG.Trail
    Traceback (most recent call last):
    ...
    AttributeError: tkg:Trail is not in the trialkg ontology
"""

from __future__ import annotations

ONTOLOGY = "https://w3id.org/trialkg/ontology#"
RESOURCE = "https://w3id.org/trialkg/resource/"
GRAPH = "https://w3id.org/trialkg/graph/"
META_GRAPH = GRAPH + "meta"
RESOLUTION_GRAPH = GRAPH + "resolution"
SHARING_GRAPH = GRAPH + "sharing"
MESH_LINKS_GRAPH = GRAPH + "mesh-links"
TRIAL = "https://clinicaltrials.gov/study/"
PUBMED = "https://pubmed.ncbi.nlm.nih.gov/"
MESH = "http://id.nlm.nih.gov/mesh/"
DOI = "https://doi.org/"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
PROV = "http://www.w3.org/ns/prov#"
DCT = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
FOAF = "http://xmlns.com/foaf/0.1/"

PREFIXES = {
    "tkg": ONTOLOGY,
    "res": RESOURCE,
    "ct": TRIAL,
    "pubmed": PUBMED,
    "mesh": MESH,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "prov": PROV,
    "dct": DCT,
    "schema": SCHEMA,
    "foaf": FOAF,
    "void": "http://rdfs.org/ns/void#",
}

CLASSES = (
    "Trial", "Arm", "Intervention", "Condition", "Outcome", "EligibilityCriterion", "InclusionCriterion",
    "ExclusionCriterion", "CriterionConcept", "Person", "Organization", "Site", "TrialSite", "Publication",
    "Role", "RoleType", "Identifier", "Document", "SourceRecord", "SourceFile", "Extraction",
)
ROLE_TYPES = (
    "PrincipalInvestigator", "StudyChair", "StudyDirector", "ResponsiblePartyInvestigator", "SiteInvestigator",
    "SubInvestigator", "OtherRole",
)
PROPERTIES = (
    # trial identity and description
    "nctId", "orgStudyId", "hasIdentifier", "identifierValue", "identifierType", "identifierDomain",
    "briefTitle", "officialTitle", "acronym", "briefSummary", "detailedDescription",
    # status and design
    "overallStatus", "whyStopped", "phase", "studyType", "startDate", "startDateType", "primaryCompletionDate",
    "primaryCompletionDateType", "completionDate", "completionDateType", "enrollment", "enrollmentType",
    "allocation", "interventionModel", "masking", "primaryPurpose",
    # conditions and terms
    "condition", "keyword", "conditionMesh", "conditionMeshAncestor", "interventionMesh",
    "interventionMeshAncestor", "conditionMeshTerm", "interventionMeshTerm", "meshText",
    # arms, interventions, outcomes
    "hasArm", "armType", "armIntervention", "hasIntervention", "interventionType", "otherName", "normalizedName",
    "hasOutcome", "outcomeKind", "measure", "timeFrame", "description", "name",
    # eligibility
    "hasCriterion", "criterionText", "criterionScope", "normalizedText", "criterionConcept", "inclusionConcept",
    "exclusionConcept", "position", "minimumAgeYears",
    "maximumAgeYears", "minimumAge", "maximumAge", "sex", "healthyVolunteers", "stdAge", "eligibilityText",
    # organisations, people, places
    "leadSponsor", "collaborator", "agencyClass", "responsiblePartyType", "hasRole", "agent", "roleType",
    "roleCode", "affiliation", "affiliationText", "mentionedName", "degree", "roleTitle", "atSite", "hasSite",
    "hasTrialSite", "site", "recruitmentStatus", "facilityName", "city", "state", "postalCode", "country",
    "latitude", "longitude",
    # publications and documents
    "hasReference", "backgroundReference", "resultReference", "derivedReference", "pmid", "doi", "citation",
    "hasDocument", "documentType", "documentDate",
    # record dates
    "firstSubmitted", "firstPosted", "lastUpdateSubmitted", "lastUpdatePosted", "lastVerified",
    "resultsFirstPosted", "hasResults",
    # provenance
    "describes", "recordId", "sourceFormat", "sha256", "fileName", "lastChanged", "extractorVersion",
)
# Publications (PubMed records, parsed citations) and investigator-author links.
PUBLICATION_TERMS = (
    # classes
    "Journal", "Authorship", "MeshHeading", "Grant", "InvestigatorAuthorLink", "Linking",
    # the article
    "title", "abstract", "journal", "volume", "issue", "pages", "publicationDate", "publicationDateText",
    "electronicPublicationDate", "pmcid", "language", "publicationType", "articleKeyword", "cites",
    # the journal
    "issn", "issnLinking", "isoAbbreviation", "medlineAbbreviation", "nlmId",
    # authors, in order
    "hasAuthorship", "authorName", "familyName", "givenName", "initials", "nameSuffix", "collectiveName",
    "authorKey", "orcid", "authorAffiliation", "authorListComplete",
    # MeSH, funding, databanks, trials the article names
    "meshHeading", "meshDescriptor", "majorMeshDescriptor", "descriptor", "qualifier", "majorQualifier",
    "majorTopic", "grant", "grantId", "fundingAgency", "dataBankAccession", "reportsTrial", "databankTrial",
    "abstractTrial",
    # investigator-author links
    "linkedInvestigator", "linkedRole", "linkedAuthorship", "linkedTrial", "linkedPublication", "confidence",
    "evidence",
)

# Entity resolution, structured eligibility constraints and data-quality findings.
RESOLUTION_TERMS = (
    # classes
    "Constraint", "ClinicalVariable", "DataQualityFinding", "Resolution", "MatchEvidence",
    # structured constraints of criteria
    "hasConstraint", "constrainedVariable", "comparator", "constraintValue", "constraintUnit", "normalizedValue",
    "normalizedUnit", "variableCode",
    # data-quality findings
    "hasFinding", "findingType", "severity", "findingMessage", "statedValue", "structuredValue",
    # resolution: canonical links, mentions, confidence, evidence
    "resolvedAs", "resolvedAgent", "resolvedSite", "hasMention", "resolutionConfidence", "siteOrganization",
    "anonymizedFacility", "evidenceFor", "matchedMention", "matchScore", "matchReason",
    # the sharing graph (registry-wide ranked pairs) and the VoID description
    "SharedPair", "sharingKind", "firstTrial", "secondTrial", "sharedCount", "pairRank", "recordGraphs",
)

# Network analyses written back into the store (kg.analyze.writeback): the analysis activity,
# its algorithms and parameters, and one measurement of each node.
ANALYTICS_TERMS = (
    # classes
    "GraphAnalysis", "Algorithm", "AlgorithmParameter", "NodeMeasurement",
    # the analysis and its algorithms
    "projectionName", "nodeCount", "edgeCount", "usedAlgorithm", "implementation", "hasParameter",
    "parameterName", "parameterValue", "durationSeconds",
    # node metrics
    "measuredNode", "nodeDegree", "weightedDegree", "betweenness", "pageRank", "component", "componentSize",
    "community", "communitySize",
)


class ClosedVocabulary:
    """Attribute access to a fixed list of terms; unknown names raise AttributeError."""

    def __init__(self, prefix: str, namespace: str, terms: tuple[str, ...]) -> None:
        self._prefix = prefix
        self.namespace = namespace
        self.terms = terms
        self._encoded = {term: f"<{namespace}{term}>" for term in terms}

    def __getattr__(self, name: str) -> str:
        try:
            return self._encoded[name]
        except KeyError:
            raise AttributeError(f"{self._prefix}:{name} is not in the trialkg ontology") from None

    def iri(self, name: str) -> str:
        """The plain IRI (not N-Quads encoded) of a term."""
        getattr(self, name)
        return self.namespace + name


TKG = ClosedVocabulary("tkg", ONTOLOGY, CLASSES + ROLE_TYPES + PROPERTIES + PUBLICATION_TERMS + RESOLUTION_TERMS
                       + ANALYTICS_TERMS)

A = f"<{RDF}type>"
LABEL = f"<{RDFS}label>"
SAME_AS = f"<{OWL}sameAs>"
PROV_ENTITY = f"<{PROV}Entity>"
PROV_ACTIVITY = f"<{PROV}Activity>"
PROV_DERIVED_FROM = f"<{PROV}wasDerivedFrom>"
PROV_GENERATED_BY = f"<{PROV}wasGeneratedBy>"
PROV_GENERATED_AT = f"<{PROV}generatedAtTime>"
PROV_USED = f"<{PROV}used>"
PROV_ASSOCIATED = f"<{PROV}wasAssociatedWith>"
PROV_STARTED = f"<{PROV}startedAtTime>"
DCT_FORMAT = f"<{DCT}format>"
