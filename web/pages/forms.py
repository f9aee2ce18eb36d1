"""Flask-WTF forms of the lifecycle pages (CSRF-protected by web/security/guard.py).

Who acts is the signed-in user: no form asks for an actor or a role."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from geo.core.params import MAX_ID
from geo.core.text import tr
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


class DeadlineForm(TransitionForm):
    """Request an extension (new deadline required) or approve one (a deadline other than
    the one requested, optional)."""

    deadline = DateField(tr("新的整改时限", "new deadline"), validators=[Optional()])


class NoticeIssueForm(FlaskForm):
    """Issue (number and record) a notice; optionally assign its found problems to a unit."""

    unit = SelectField(tr("交办给", "assign to"), choices=[], validate_choice=False)
