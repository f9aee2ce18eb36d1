"""Flask-WTF forms of the lifecycle pages (CSRF-protected by web/security/guard.py).

Who acts is the signed-in user: no form asks for an actor or a role."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from geo.core.params import MAX_ID
from geo.core.text import tr
from geo.lifecycle.problems import units
from geo.lifecycle.unit_choice import unit_choice
from web import database
from web.i18n import translate

_VERSION = NumberRange(min=1, max=MAX_ID)


def _deadline(form: FlaskForm, field: DateField) -> None:
    """A deadline within the sane window (a year-9999 date would overflow later)."""
    if field.data is not None and not date(1900, 1, 1) <= field.data <= date(2199, 12, 31):
        raise ValidationError(translate("时限须在 1900–2199 年之间", "years 1900–2199 only"))


class TransitionForm(FlaskForm):
    """Rectify, close or reopen one problem (note required; photo optional)."""

    note = TextAreaField(tr("说明", "note"), validators=[Optional(), Length(max=2000)])
    version = IntegerField(validators=[DataRequired(), _VERSION])
    photo = FileField(tr("照片", "photo"))


class AssignForm(TransitionForm):
    """Assign one problem to a responsible unit with an optional deadline date."""

    unit = SelectField(tr("责任单位", "unit"), choices=[], validate_choice=False)
    deadline = DateField(tr("整改时限", "deadline"), validators=[Optional(), _deadline])


class BulkAssignForm(FlaskForm):
    """Assign every found problem of an area (optionally of one category) to a unit."""

    level = HiddenField(validators=[DataRequired()])
    code = HiddenField(validators=[DataRequired()])
    category = SelectField(tr("问题类别", "category"), choices=[], validate_choice=False)
    unit = SelectField(tr("责任单位", "unit"), choices=[], validate_choice=False)
    deadline = DateField(tr("整改时限", "deadline"), validators=[Optional(), _deadline])
    note = TextAreaField(tr("说明", "note"), validators=[Optional(), Length(max=2000)])


def _given(form: FlaskForm, field: DateField) -> None:
    """The new deadline must be given (a wrong date also stops here, said plainly)."""
    if field.data is None:
        raise StopValidation(
            translate(
                "返工需要填写新的整改时限（有效日期）", "reopening needs the new deadline (a date)"
            )
        )


def _not_past(form: FlaskForm, field: DateField) -> None:
    """A new deadline from today on (the configured time zone's today)."""
    today = datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()
    if field.data is not None and field.data < today:
        raise ValidationError(
            translate(
                f"新的整改时限 {field.data:%Y-%m-%d} 早于今天，请选今天或以后的日期",
                f"the new deadline {field.data:%Y-%m-%d} is before today",
            )
        )


class ReopenForm(TransitionForm):
    """Reopen (返工) a closed or rectified problem: the new deadline is asked for, never
    left to shorten or lengthen silently."""

    deadline = DateField(
        tr("新的整改时限", "new deadline"),
        validators=[_given, _deadline, _not_past],
    )


class DeadlineForm(TransitionForm):
    """Request an extension (new deadline required) or approve one (a deadline other than
    the one requested, optional)."""

    deadline = DateField(tr("新的整改时限", "new deadline"), validators=[Optional()])


class NoticeIssueForm(FlaskForm):
    """Issue (number and record) a notice; optionally assign its found problems to a unit."""

    unit = SelectField(tr("交办给", "assign to"), choices=[], validate_choice=False)


def _unit_choices() -> list[tuple[str, str]]:
    return [("", translate("请选择", "Choose…"))] + [
        (u.name, u.name) for u in units(database.session())
    ]


def unit_field(form: Any, level: str, area_id: int | None, category: str | None) -> None:
    """An assign form's units: the area's own first (marked), the one past assignments
    suggest chosen unless the user chose, and ``form.unit_hint`` saying why."""
    form.unit_hint = None
    if area_id is None:
        form.unit.choices = _unit_choices()
        return
    choice = unit_choice(database.session(), level, area_id, category)
    mark = translate("（本区域）", " (this area)")
    form.unit.choices = [
        ("", translate("请选择", "Choose…")),
        *[(n, n + mark) for n in choice.own],
        *[(n, n) for n in choice.others],
    ]
    if choice.suggested is None:
        return
    if not form.unit.data:
        form.unit.data = choice.suggested
    where = (
        translate("本区域", "in this area")
        if choice.basis == "area"
        else translate("全市", "city-wide")
    )
    what = translate("此类问题", " of this category") if category else translate("问题", "")
    form.unit_hint = translate(
        f"建议：{choice.suggested}（按以往交办：{where}{what}有 {choice.times} 次交办给该单位；"
        "类别目录未指定责任单位）",
        f"Suggested: {choice.suggested} (from past assignments: {choice.times} problems"
        f"{what} {where} went to it; the taxonomy names no unit)",
    )
