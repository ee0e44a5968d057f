"""The kinds of personal data afluente recognises, by column name and by value.

Value checks are strict where the data allows it: a CPF or CNPJ must have correct check
digits (a random 11-digit number passes one time in a hundred), an e-mail the shape
`local@domain.tld`, a phone a Brazilian area code (DDD) and a mobile or landline length.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Literal

Kind = Literal["cpf", "cnpj", "email", "phone", "cep", "name", "birth_date"]
KINDS: tuple[Kind, ...] = ("cpf", "cnpj", "email", "phone", "cep", "name", "birth_date")
#: kinds that identify one person on their own: erasure matches rows by these
IDENTIFYING: tuple[Kind, ...] = ("cpf", "cnpj", "email")

_NAME_PATTERNS: tuple[tuple[Kind, str], ...] = (
    ("cpf", r"cpf"),
    ("cnpj", r"cnpj"),
    ("email", r"e_?mail"),
    ("phone", r"phone|telefone|celular|fone|mobile|whatsapp"),
    ("cep", r"cep|zip_?code|postal_?code"),
    ("birth_date", r"birth|nascimento|dob|data_nasc"),
    ("name", r"(?:full_?|first_?|last_?|customer_?|client_?)?name|nome(?:_completo)?"),
)
_NOT_VALUES = {"valid", "ok", "flag", "is", "has", "count", "n", "num", "qtd", "hash", "len",
               "length", "key", "id", "type", "domain", "masked"}
_EMAIL = re.compile(r"^[\w.+%-]+@[\w-]+(\.[\w-]+)+$")
_NAME_WORD = re.compile(r"^[^\W\d_]+$")
_CONNECTORS = {"da", "de", "do", "das", "dos", "e"}
_DDD = frozenset((
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 24, 27, 28, 31, 32, 33, 34, 35, 37, 38, 41, 42,
    43, 44, 45, 46, 47, 48, 49, 51, 53, 54, 55, 61, 62, 63, 64, 65, 66, 67, 68, 69, 71, 73, 74,
    75, 77, 79, 81, 82, 83, 84, 85, 86, 87, 88, 89, 91, 92, 93, 94, 95, 96, 97, 98, 99,
))


def kind_of_name(column: str) -> Kind | None:
    """The kind a column's name suggests (`cpf_cliente` → cpf, `email` → email)."""
    words = column.lower()
    if set(words.split("_")) & _NOT_VALUES:
        return None  # `cpf_valid`, `email_count`, `name_hash`: about the value, not it
    for kind, pattern in _NAME_PATTERNS:
        if re.search(rf"(?:^|_)(?:{pattern})(?:_|$)", words):
            return kind
    return None


def digits(value: str) -> str:
    return re.sub(r"[^0-9]", "", value)


def cpf_ok(value: str) -> bool:
    """11 digits, not one repeated digit, both check digits right."""
    d = digits(value)
    if len(d) != 11 or d == d[0] * 11:
        return False
    nums = [int(c) for c in d]
    first = sum(n * w for n, w in zip(nums[:9], range(10, 1, -1), strict=True)) * 10 % 11 % 10
    second = sum(n * w for n, w in zip(nums[:10], range(11, 1, -1), strict=True)) * 10 % 11 % 10
    return first == nums[9] and second == nums[10]


def cnpj_ok(value: str) -> bool:
    """14 digits, not one repeated digit, both check digits right."""
    d = digits(value)
    if len(d) != 14 or d == d[0] * 14:
        return False
    nums = [int(c) for c in d]

    def check(count: int) -> int:
        weights = [*range(count - 7, 1, -1), *range(9, 1, -1)]
        total = sum(n * w for n, w in zip(nums[:count], weights, strict=True)) % 11
        return 0 if total < 2 else 11 - total

    return check(12) == nums[12] and check(13) == nums[13]


def email_ok(value: str) -> bool:
    return bool(_EMAIL.match(value.strip()))


def phone_ok(value: str) -> bool:
    """A Brazilian number: optional +55, a valid DDD, then 8 digits starting 2-5 (landline)
    or 9 starting with 9 (mobile)."""
    d = digits(value)
    if len(d) in (12, 13) and d.startswith("55"):
        d = d[2:]
    if len(d) not in (10, 11) or int(d[:2]) not in _DDD:
        return False
    return d[2] in "2345" if len(d) == 10 else d[2] == "9"  # landline; mobile


def cep_ok(value: str) -> bool:
    text = value.strip()
    return bool(re.fullmatch(r"\d{5}-?\d{3}", text)) and digits(text) != "00000000"


def name_ok(value: str) -> bool:
    """A person's full name: two to six words of letters (connectors da/de/do/... aside),
    the first a common Brazilian given name (product and place names seldom start so)."""
    words = value.split()
    if not 2 <= len(words) <= 6:
        return False
    if not all(_NAME_WORD.match(w) for w in words):
        return False
    return (_fold(words[0]) in GIVEN_NAMES and all(
        w[0].isupper() or w.lower() in _CONNECTORS for w in words[1:])) or (
        value.isupper() and _fold(words[0]) in GIVEN_NAMES)


def _fold(word: str) -> str:
    plain = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in plain if not unicodedata.combining(c))


#: frequent Brazilian given names (IBGE's most common), folded: no accents, lower case
GIVEN_NAMES = frozenset((
    "maria", "jose", "ana", "joao", "antonio", "francisco", "carlos", "paulo", "pedro", "lucas",
    "luiz", "marcos", "luis", "gabriel", "rafael", "daniel", "marcelo", "bruno", "eduardo",
    "felipe", "raimundo", "rodrigo", "manoel", "mateus", "andre", "fernando", "fabio",
    "leonardo", "gustavo", "guilherme", "leandro", "tiago", "anderson", "ricardo", "marcio",
    "jorge", "sebastiao", "alexandre", "roberto", "edson", "diego", "vitor", "sergio",
    "claudio", "joana", "francisca", "antonia", "adriana", "juliana", "marcia", "fernanda",
    "patricia", "aline", "sandra", "camila", "amanda", "bruna", "jessica", "leticia", "julia",
    "luciana", "vanessa", "mariana", "gabriela", "vera", "vitoria", "larissa", "claudia",
    "beatriz", "luana", "rita", "sonia", "renata", "eliane", "josefa", "simone", "natalia",
    "cristina", "carla", "debora", "rosangela", "jaqueline", "rosa", "daniela", "aparecida",
    "marlene", "terezinha", "raimunda", "andreia", "fabiana", "lucia", "raquel", "angela",
    "rafaela", "joaquim", "miguel", "arthur", "heitor", "davi", "bernardo", "samuel", "enzo",
    "murilo", "helena", "alice", "laura", "isabela", "sofia", "valentina", "manuela", "livia",
    "giovanna", "cecilia", "conceicao", "thiago", "caio", "igor", "otavio", "henrique",
    "benedito", "geraldo", "reinaldo", "wagner", "wellington", "william", "jefferson",
    "washington", "renato",
))


def birth_date_ok(value: object) -> bool:
    """A date (or date text) of a living adult or child: between 110 and 0 years ago."""
    moment = _as_date(value)
    if moment is None:
        return False
    today = date.today()
    return today.replace(year=today.year - 110) <= moment < today


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(str(value).strip(), pattern).date()
        except ValueError:
            continue
    return None


CHECKS = {"cpf": cpf_ok, "cnpj": cnpj_ok, "email": email_ok, "phone": phone_ok,
          "cep": cep_ok, "name": name_ok}


def kind_of_value(value: object) -> Kind | None:
    """The kind one value has, checked strictest first (a CPF is also 11 digits)."""
    if isinstance(value, date):
        return None  # a date alone is not a birth date; the column name decides
    if not isinstance(value, str) or not value.strip():
        return None
    checked: tuple[Kind, ...] = ("cpf", "cnpj", "email", "phone", "cep", "name")
    for kind in checked:
        if CHECKS[kind](value):
            return kind
    return None


def normalize(kind: str, value: str) -> str:
    """The comparable form of a value: digits for numbers, lower-case e-mail, folded name."""
    if kind in ("cpf", "cnpj", "cep"):
        return digits(value)
    if kind == "phone":
        d = digits(value)
        return d[2:] if len(d) in (12, 13) and d.startswith("55") else d
    if kind == "email":
        return value.strip().lower()
    if kind == "name":
        return " ".join(unicodedata.normalize("NFC", value).casefold().split())
    return value.strip()


def masked(value: object) -> str:
    """A sample shown without its content: shape kept, letters and digits hidden but the
    last two characters."""
    text = str(value)
    hidden = re.sub(r"[^\W_]", "•", text[:-2]) if len(text) > 4 else "•" * len(text)
    return hidden + (text[-2:] if len(text) > 4 else "")
