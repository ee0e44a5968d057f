"""Recognising personal data: check digits, shapes, names; suggestions; tags written."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from afluente.governance.classify import classify_table
from afluente.governance.pii_kinds import (
    birth_date_ok,
    cep_ok,
    cnpj_ok,
    cpf_ok,
    email_ok,
    kind_of_name,
    masked,
    name_ok,
    normalize,
    phone_ok,
)
from afluente.governance.tag_writer import _tag_sql


@pytest.mark.parametrize(("value", "ok"), [
    ("529.982.247-25", True), ("52998224725", True), ("529.982.247-24", False),
    ("111.111.111-11", False), ("5299822472", False)])
def test_cpf_check_digits(value: str, ok: bool) -> None:
    assert cpf_ok(value) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("11.222.333/0001-81", True), ("11222333000181", True), ("11.222.333/0001-82", False),
    ("00.000.000/0000-00", False)])
def test_cnpj_check_digits(value: str, ok: bool) -> None:
    assert cnpj_ok(value) is ok


def test_shapes_of_contact_data_and_names() -> None:
    assert phone_ok("+55 (11) 98765-4321") and phone_ok("1133334444")
    assert not phone_ok("(20) 98765-4321")  # no DDD 20
    assert not phone_ok("11 88765-4321")  # 9 digits but not a mobile
    assert not phone_ok("11 8876-5432")  # 8 digits but not a landline
    assert email_ok(" Ana.Souza+x@Example.com.br ") and not email_ok("ana@example")
    assert cep_ok("01310-100") and not cep_ok("00000-000")
    assert name_ok("Maria das Graças Silva") and name_ok("JOSÉ DA SILVA")
    assert not name_ok("Smart TV 50 Polegadas") and not name_ok("Rio de Janeiro")
    assert birth_date_ok("1980-02-29") and not birth_date_ok("1890-01-01")
    assert normalize("email", " Ana@X.COM ") == "ana@x.com"
    assert normalize("phone", "+55 (11) 98765-4321") == "11987654321"
    assert masked("52998224725") == "•••••••••25"


def test_column_names() -> None:
    assert [kind_of_name(c) for c in ("cpf_cliente", "e_mail", "telefone", "nome_completo",
                                      "data_nascimento", "cep", "cpf_valid", "city")] == [
        "cpf", "email", "phone", "name", "birth_date", "cep", None, None]


def test_classify_a_table_by_values_and_names() -> None:
    data = pa.table({
        "doc": ["529.982.247-25", "111.444.777-35", None],  # values only: CPFs
        "contato": ["ana@x.com.br", "bia@y.com", "sem e-mail"],
        "customer_name": ["Ana Souza", "Beatriz Lima", "Carlos Alberto Nunes"],
        "product": ["Smart TV 50", "Geladeira Frost Free", "Fone Bluetooth"],
        "city_name": ["Rio de Janeiro", "Belo Horizonte", "Porto Alegre"],
        "cpf": [None, None, None],  # the name alone: half confidence
    })
    found = {s.column: s for s in classify_table("silver.people", data, {"silver.people.cpf"})}
    assert sorted(found) == ["contato", "cpf", "customer_name", "doc"]
    assert (found["doc"].kind, found["doc"].confidence, found["doc"].reason) == (
        "cpf", 0.9, "values")
    assert found["doc"].samples == ("•••.•••.•••-25", "•••.•••.•••-35")
    assert (found["contato"].kind, found["contato"].matched, found["contato"].sampled) == (
        "email", 2, 3)
    assert (found["customer_name"].kind, found["customer_name"].confidence) == ("name", 1.0)
    assert (found["cpf"].confidence, found["cpf"].tagged) == (0.5, True)


def test_tags_written_into_a_sql_header(tmp_path: Path) -> None:
    model = tmp_path / "customers.sql"
    model.write_text(
        "/* @config\nkind: full\ncolumns:\n  doc: {description: The document}\n*/\n"
        "SELECT 1 AS doc, 'x' AS contato\n", encoding="utf-8")
    assert _tag_sql(model, ["doc", "contato"])
    assert model.read_text(encoding="utf-8") == (
        "/* @config\nkind: full\ncolumns:\n  contato: {tags: [pii]}\n"
        "  doc: {description: The document, tags: [pii]}\n*/\n"
        "SELECT 1 AS doc, 'x' AS contato\n")
