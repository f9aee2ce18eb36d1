"""Flask-WTF forms of the lifecycle pages (CSRF-protected by web/security/guard.py).

Who acts is the signed-in user: no form asks for an actor or a role."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from geo.core.text import tr


class TransitionForm(FlaskForm):
    """Rectify, close or reopen one problem (note required; photo optional)."""

    note = TextAreaField(tr("说明", "note"), validators=[Optional(), Length(max=2000)])
    version = IntegerField(validators=[DataRequired()])
    photo = FileField(tr("照片", "photo"))


class AssignForm(TransitionForm):
    """Assign one problem to a responsible unit with an optional deadline date."""

    unit = SelectField(tr("责任单位", "unit"), choices=[], validate_choice=False)
    deadline = DateField(tr("整改时限", "deadline"), validators=[Optional()])


class BulkAssignForm(FlaskForm):
    """Assign every found problem of an area (optionally of one category) to a unit."""

    level = HiddenField(validators=[DataRequired()])
    code = HiddenField(validators=[DataRequired()])
    category = SelectField(tr("问题类别", "category"), choices=[], validate_choice=False)
    unit = SelectField(tr("责任单位", "unit"), choices=[], validate_choice=False)
    deadline = DateField(tr("整改时限", "deadline"), validators=[Optional()])
    note = TextAreaField(tr("说明", "note"), validators=[Optional(), Length(max=2000)])


class DeadlineForm(TransitionForm):
    """Request an extension (new deadline required) or approve one (a deadline other than
    the one requested, optional)."""

    deadline = DateField(tr("新的整改时限", "new deadline"), validators=[Optional()])


class NoticeIssueForm(FlaskForm):
    """Issue (number and record) a notice; optionally assign its found problems to a unit."""

    unit = SelectField(tr("交办给", "assign to"), choices=[], validate_choice=False)
