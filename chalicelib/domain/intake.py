"""Checking a client's intake answers against the service's form."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.domain.catalog import IntakeField, IntakeFieldType
from chalicelib.domain.validation import calendar_date, is_email

_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,20}$")
MAX_TEXT = 500
MAX_TEXTAREA = 5000


def intake_problems(fields: tuple[IntakeField, ...], answers: dict[str, Any]) -> dict[str, str]:
    """`intake.<fieldId>` -> problem, for every missing, unknown or malformed answer."""
    problems: dict[str, str] = {}
    known = {f.id for f in fields}
    for key in answers:
        if key not in known:
            problems[f"intake.{key}"] = "is not a field of this service"
    for field in fields:
        value = answers.get(field.id)
        empty = value is None or value == "" or (field.type is IntakeFieldType.CHECKBOX and value is False)
        if empty:
            if field.required:
                problems[f"intake.{field.id}"] = "is required"
            continue
        problem = _answer_problem(field, value)
        if problem:
            problems[f"intake.{field.id}"] = problem
    return problems


def _answer_problem(field: IntakeField, value: Any) -> str | None:
    kind = field.type
    if kind is IntakeFieldType.CHECKBOX:
        return None if isinstance(value, bool) else "must be true or false"
    if kind is IntakeFieldType.NUMBER:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else "must be a number"
    if not isinstance(value, str):
        return "must be a string"
    if kind is IntakeFieldType.TEXT:
        return None if len(value) <= MAX_TEXT else f"must be at most {MAX_TEXT} characters"
    if kind is IntakeFieldType.TEXTAREA:
        return None if len(value) <= MAX_TEXTAREA else f"must be at most {MAX_TEXTAREA} characters"
    if kind is IntakeFieldType.SELECT:
        return None if value in field.options else "must be one of the field's options"
    if kind is IntakeFieldType.EMAIL:
        return None if is_email(value) else "must be an email address"
    if kind is IntakeFieldType.PHONE:
        return None if _PHONE.match(value) else "must be a phone number"
    if kind is IntakeFieldType.DATE:
        return None if calendar_date(value) is not None else "must be a date (YYYY-MM-DD)"
    return None
