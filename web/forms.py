"""Flask-WTF forms of the lifecycle pages (CSRF-protected through the app's CSRFProtect)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from geo.actions import ROLES

# Until access control exists (issue 6), the actor states their role; geo.actions.may_approve
# decides what it allows. Replace this field with the signed-in user's role then.
ROLE_CHOICES = [("", "—")] + [(code, f"{zh} / {en}") for code, (zh, en) in ROLES.items()]


class TransitionForm(FlaskForm):
    """Rectify, close or reopen one problem (note required; photo optional)."""

    actor = StringField("操作人 / actor", validators=[Length(max=100)])
    note = TextAreaField("说明 / note", validators=[Optional(), Length(max=2000)])
    version = IntegerField(validators=[DataRequired()])
    photo = FileField("照片 / photo")
    role = SelectField("角色 / role", choices=ROLE_CHOICES, validate_choice=False)


class AssignForm(TransitionForm):
    """Assign one problem to a responsible unit with an optional deadline date."""

    unit = SelectField("责任单位 / unit", choices=[], validate_choice=False)
    deadline = DateField("整改时限 / deadline", validators=[Optional()])


class BulkAssignForm(FlaskForm):
    """Assign every found problem of an area (optionally of one category) to a unit."""

    level = HiddenField(validators=[DataRequired()])
    code = HiddenField(validators=[DataRequired()])
    category = SelectField("问题类别 / category", choices=[], validate_choice=False)
    actor = StringField("操作人 / actor", validators=[Length(max=100)])
    unit = SelectField("责任单位 / unit", choices=[], validate_choice=False)
    deadline = DateField("整改时限 / deadline", validators=[Optional()])
    note = TextAreaField("说明 / note", validators=[Optional(), Length(max=2000)])


class DeadlineForm(TransitionForm):
    """Request an extension (new deadline required) or approve one (a deadline other than
    the one requested, optional)."""

    deadline = DateField("新的整改时限 / new deadline", validators=[Optional()])


class NoticeIssueForm(FlaskForm):
    """Issue (number and record) a notice; optionally assign its found problems to a unit."""

    actor = StringField("签发人 / issued by", validators=[DataRequired(), Length(max=100)])
    unit = SelectField("交办给 / assign to", choices=[], validate_choice=False)
