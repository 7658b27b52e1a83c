from __future__ import annotations

from pathlib import Path

import pytest

from partner_model.empathy.data import DataFormatError, locate_spans, read_epitome_csv

HEADER = "sp_id,rp_id,seeker_post,response_post,ER,ER_rationales,IP,IP_rationales,EX,EX_rationales\n"


def test_rows_become_examples_with_rationale_offsets(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    row = 's1,r1,"I failed my exam.","Oh no, that hurts. What happened?",1,"that hurts|",0,,2,"What happened?|"'
    path.write_text(HEADER + row + "\n")
    (example,) = read_epitome_csv(path)
    assert example.levels == {"ER": 1, "IP": 0, "EX": 2}
    assert example.total == 3
    start, end = example.rationales["EX"][0]
    assert example.response[start:end] == "What happened?"
    assert example.rationales["IP"] == []


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("seeker_post,response_post\nx,y\n")
    with pytest.raises(DataFormatError, match="ER_rationales"):
        read_epitome_csv(path)


def test_a_bad_level_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(HEADER + "s,r,a,b,3,,0,,0,\n")
    with pytest.raises(DataFormatError, match=":2:"):
        read_epitome_csv(path)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="cannot read"):
        read_epitome_csv(tmp_path / "nope.csv")


def test_fragments_not_in_the_text_are_dropped() -> None:
    assert locate_spans("abc def", ["def", "xyz", ""]) == [(4, 7)]
