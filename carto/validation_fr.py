"""Pydantic's validation errors in French, for every answer a user may read.

Pydantic writes its messages in English ("value is not a valid email address: An
email address must have an @-sign."); the web app shows the server's message as it
is, so each error type gets a French sentence here, with its limits from `ctx`.
Our own validators raise `ValueError("…")` in French: their text is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SIMPLE = {
    "missing": "champ obligatoire",
    "extra_forbidden": "champ inconnu",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "float_type": "nombre attendu",
    "finite_number": "nombre fini attendu",
    "bool_parsing": "oui ou non attendu (true ou false)",
    "bool_type": "oui ou non attendu (true ou false)",
    "string_type": "texte attendu",
    "string_pattern_mismatch": "format invalide",
    "json_invalid": "JSON invalide",
    "json_type": "JSON attendu",
    "dict_type": "objet attendu",
    "model_type": "objet attendu",
    "model_attributes_type": "objet attendu",
    "list_type": "liste attendue",
    "tuple_type": "liste attendue",
    "datetime_parsing": "date et heure invalides (format ISO 8601 attendu)",
    "datetime_type": "date et heure attendues",
    "datetime_from_date_parsing": "date et heure invalides (format ISO 8601 attendu)",
    "date_parsing": "date invalide (AAAA-MM-JJ attendu)",
    "date_from_datetime_parsing": "date invalide (AAAA-MM-JJ attendu)",
    "timezone_aware": "indiquez le fuseau horaire (par exemple +01:00 ou Z)",
    "url_parsing": "adresse web invalide",
    "url_scheme": "adresse web invalide (http ou https attendu)",
    "uuid_parsing": "identifiant invalide",
    "none_required": "doit être vide",
}
BOUNDS = {
    "greater_than": ("gt", "doit être supérieur à {}"),
    "greater_than_equal": ("ge", "doit être supérieur ou égal à {}"),
    "less_than": ("lt", "doit être inférieur à {}"),
    "less_than_equal": ("le", "doit être inférieur ou égal à {}"),
}


def _number(value: Any) -> str:
    """90.0 -> '90', 0.5 -> '0,5' (French decimal comma)."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value).replace(".", ",")
    return str(value)


def _plural(n: Any, word: str) -> str:
    return f"{n} {word}{'s' if isinstance(n, int) and n > 1 else ''}"


def _value_error(error: Mapping[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    if "reason" in ctx:  # email-validator's refusal (its reason is English)
        return "adresse e-mail invalide"
    return str(error.get("msg", "")).removeprefix("Value error, ") or "valeur invalide"


def french_message(error: Mapping[str, Any]) -> str:
    """One pydantic error (`ValidationError.errors()` item) as a short French phrase."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in SIMPLE:
        return SIMPLE[kind]
    if kind in BOUNDS:
        key, text = BOUNDS[kind]
        return text.format(_number(ctx[key]) if key in ctx else "la limite")
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "ne peut pas être vide" if n == 1 else f"trop court : au moins {n} caractères"
    if kind == "string_too_long":
        return f"trop long : au plus {_plural(ctx.get('max_length', '?'), 'caractère')}"
    if kind == "too_short":
        return f"trop peu d'éléments : au moins {ctx.get('min_length', '?')}"
    if kind == "too_long":
        return f"trop d'éléments : au plus {ctx.get('max_length', '?')}"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace(" or ", " ou ")
        return f"valeur non reconnue (attendu : {expected})" if expected else "valeur non reconnue"
    if kind in ("value_error", "assertion_error"):
        return _value_error(error)
    return "valeur invalide"


def field_path(loc: Iterable[object]) -> str:
    """`("body", "email")` -> `email`: where the error is, without the request part."""
    return ".".join(str(part) for part in loc if part not in ("body", "query", "path"))


def french_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Each error as `{"field", "message"}` in French (no input echoed back)."""
    return [
        {"field": field_path(err.get("loc", ())), "message": french_message(err)} for err in errors
    ]
