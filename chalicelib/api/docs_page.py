"""`GET /v1/docs`: the OpenAPI document rendered as one accessible HTML page, server-side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "docs"
RULES = ("format", "pattern", "minimum", "maximum", "multipleOf", "minLength", "maxLength", "minItems", "maxItems")


def schema_link(schema: dict[str, Any]) -> Markup:
    """A schema's type, with links to the named schemas it uses."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return Markup('<a href="#schema-{0}">{0}</a>').format(name)
    if "anyOf" in schema:
        return Markup(" or ").join(schema_link(option) for option in schema["anyOf"])
    if schema.get("type") == "array":
        return Markup("list of ") + schema_link(schema.get("items", {}))
    if "enum" in schema:
        return Markup(" | ").join(Markup("<code>{}</code>").format(v) for v in schema["enum"])
    return escape(schema.get("type", "any"))


def describe(schema: dict[str, Any]) -> Markup:
    rules = [f"{rule} {schema[rule]}" for rule in RULES if rule in schema]
    for option in schema.get("anyOf", []):
        rules += [f"{rule} {option[rule]}" for rule in RULES if rule in option]
    return schema_link(schema) + (Markup("; ") + escape(", ".join(rules)) if rules else Markup(""))


def reference_html(document: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    env.globals.update(schema_link=schema_link, describe=describe)
    return env.get_template("reference.html").render(doc=document)
