"""An intervention that names an arm no arm group declares links to no arm (found by the 5,000-example fuzz run).

A mutated record gave an intervention the arm label "\\x00": the graph stated an arm link from
an arm node it never typed or labelled (a SHACL violation). Links go only to declared arms.
"""

from __future__ import annotations

import json
from pathlib import Path

from kg import build, open_store
from tests.conftest import DATA

TKG = "https://w3id.org/trialkg/ontology#"


def test_an_undeclared_arm_label_gives_no_untyped_arm(tmp_path: Path) -> None:
    studies = json.loads((DATA / "ctgov-json" / "herniated-disc.ctg-studies.json").read_text(encoding="utf-8"))
    study = next(s for s in studies if s["protocolSection"].get("armsInterventionsModule", {}).get("interventions"))
    interventions = study["protocolSection"]["armsInterventionsModule"]["interventions"]
    interventions[0]["armGroupLabels"] = ["\x00", "No such arm"]
    path = tmp_path / "study.json"
    path.write_text(json.dumps(study), encoding="utf-8")
    store = open_store(None)
    build([path], store, resolve=False)
    untyped = list(store.iter_select(f"""SELECT ?arm WHERE {{ ?arm <{TKG}armIntervention> ?i
                                          FILTER NOT EXISTS {{ ?arm a <{TKG}Arm> }} }}"""))
    assert untyped == []
