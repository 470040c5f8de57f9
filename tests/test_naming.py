"""Names a certification is asked by that no one wrote in data/."""

from __future__ import annotations

from index.catalog import Certification
from index.naming import with_bare_numbers


def _cert(key: str, *names: str) -> Certification:
    return Certification(key=key, name=names[0], titles=(names[0],), names=names[1:])


def test_a_standards_number_alone_names_it():
    certs = with_bare_numbers({
        "iso27017": _cert("iso27017", "ISO/IEC 27017:2015 Code of Practice", "ISO/IEC 27017"),
        "fips": _cert("fips", "FIPS 140-2"),
    })
    assert "27017" in certs["iso27017"].names
    assert "140-2" in certs["fips"].names


def test_a_number_two_certifications_share_names_neither():
    certs = with_bare_numbers({
        "iso27001": _cert("iso27001", "ISO 27001"),
        "tisax": _cert("tisax", "TISAX", "ISO 27001 based assessment"),
    })
    assert "27001" not in certs["iso27001"].names + certs["tisax"].names


def test_years_and_short_numbers_are_not_names():
    certs = with_bare_numbers({
        "c5": _cert("c5", "C5:2020 Cloud Computing Compliance Criteria Catalogue"),
        "o365": _cert("ens", "ENS 2010", "Office 365 ENS"),
    })
    assert certs["c5"].names == () and certs["o365"].names == ("Office 365 ENS",)


def test_the_standards_body_before_a_number_is_not_the_standards_name():
    from index.naming import title_names
    assert "ISO" not in title_names("ISO 9001", frozenset())
    assert "ISO 9001" in title_names("ISO 9001", frozenset())
    assert "TISAX" in title_names("TISAX", frozenset())
