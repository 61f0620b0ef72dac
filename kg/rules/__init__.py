"""The rules layer: pure functions on strings, one module per concept, used by every format.

Why one layer: the same spelling must give the same key whatever format it came from, so
each rule (how a person's name folds, which abbreviations an institution name expands,
where one eligibility criterion ends, what a citation's DOI is, what counts as contact
data) is written once, here, and the parsers of every format call it. Nothing here knows
about RDF, stores or files.

- :mod:`~kg.rules.text`: folding to ASCII (the one fold every name rule uses)
- :mod:`~kg.rules.persons`, :mod:`~kg.rules.person_names`, :mod:`~kg.rules.authors`: people names
- :mod:`~kg.rules.institutions`, :mod:`~kg.rules.places`: organisations, sites, cities
- :mod:`~kg.rules.concepts`: keys of conditions and interventions
- :mod:`~kg.rules.eligibility`, :mod:`~kg.rules.criteria`, :mod:`~kg.rules.constraints`: criteria
- :mod:`~kg.rules.citations`: citation strings and the one DOI pattern
- :mod:`~kg.rules.contacts`: personal contact data left out of the graph
- :mod:`~kg.rules.codes`: registry codes and the one meaning of yes/no
- :mod:`~kg.rules.quality`: data-quality findings of one record
- :mod:`~kg.rules.finish`: the step that applies all of them to a parsed record
"""
