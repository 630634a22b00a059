"""bench/quick.py's comparison: a figure more than 20 % below its recorded ratio is reported, one within the
tolerance is not, a figure that could not be measured counts as fallen; the ratios come out of each script's JSON
as documented. Pure functions only: no benchmark runs here."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick():
    spec = importlib.util.spec_from_file_location("bench_quick", ROOT / "bench" / "quick.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_drop_of_more_than_twenty_percent_is_flagged(quick):
    report = quick.compare(
        {"api_noop": 0.39, "licence_verify": 0.21}, {"api_noop": 0.5, "licence_verify": 0.25}
    )
    assert report["fell"] == ["api_noop"]  # −22 %; licence_verify −16 % stays
    assert report["figures"]["api_noop"]["change"] == -0.22
    assert report["figures"]["licence_verify"]["fell"] is False


def test_the_boundary_and_improvements(quick):
    report = quick.compare({"a": 0.8, "b": 2.0, "c": 0.7999}, {"a": 1.0, "b": 1.0, "c": 1.0})
    assert report["fell"] == ["c"]
    assert report["figures"]["b"]["change"] == 1.0


def test_missing_measurement_counts_as_fallen_and_unrecorded_does_not(quick):
    report = quick.compare({"submit": None, "new_figure": 0.3}, {"submit": 0.01})
    assert report["fell"] == ["submit"]
    assert report["figures"]["new_figure"] == {"ratio": 0.3, "recorded": None, "change": None, "fell": False}


def test_ratios_from_each_scripts_json(quick):
    assert quick.ratio_of("api_noop", {"api_to_bare_ratio": 0.55}, None) == 0.55
    assert quick.ratio_of("submit", {"submit_to_bare_ratio": 0.05}, None) == 0.05
    assert quick.ratio_of("licence_verify", {"api_http": {"ratio_to_bare": 0.3}}, None) == 0.3
    assert quick.ratio_of("incident_intake", {"intake_http": {"accepted_per_s": 400.0}}, 4000.0) == 0.1
    inbox = {"results": {"page_500_1_clients": {"median_ms": 10.0}}}
    assert quick.ratio_of("inbox_page500", inbox, 5000.0) == 0.02
    assert quick.ratio_of("inbox_page500", inbox, None) is None  # no bare view in the run: nothing to compare


def test_recorded_file_covers_every_figure(quick):
    recorded = quick.recorded_ratios()
    assert set(recorded) == set(quick.BENCHES)
    data = json.loads((ROOT / "bench" / "recorded.json").read_text(encoding="utf-8"))
    assert all(entry["before"] > 0 for entry in data["figures"].values())


def test_last_json_line(quick):
    assert quick.last_json('human line\n{"bench": "x", "v": 1}\n') == {"bench": "x", "v": 1}
    with pytest.raises(ValueError):
        quick.last_json("no json here")
