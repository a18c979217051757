"""Forms; labels and help live in the templates, WTForms' own messages are translated."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (BooleanField, HiddenField, PasswordField, RadioField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from .cases import MESSAGE_MAX, REASON_MAX, TEXT_MAX, TEXT_MIN, WISHES_MAX
from .accounts import ASSIGNABLE_ROLES
from .models import AREAS, CLOSE_REASONS, DECISIONS


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(validators=[DataRequired(), Length(max=80)])
    password = PasswordField(validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class NoteForm(FlaskForm):
    """A volunteer's account of a citizen's situation."""

    text = TextAreaField(validators=[DataRequired(), Length(min=TEXT_MIN, max=TEXT_MAX)])
    area = RadioField(choices=list(AREAS), default="andet",
                      validators=[DataRequired()])
    consent = BooleanField(validators=[DataRequired()])
    wishes = TextAreaField(validators=[Optional(), Length(max=WISHES_MAX)])


class DecisionForm(FlaskForm):
    """Confirm or reject one corpus entry for a case."""

    entry_id = HiddenField(validators=[DataRequired(), Length(max=80)])
    decision = HiddenField(validators=[AnyOf(DECISIONS)])
    reason = TextAreaField(validators=[Optional(), Length(max=REASON_MAX)])


class CloseForm(FlaskForm):
    """Close a case with a message to the volunteer and/or a reason for no action."""

    message = TextAreaField(validators=[Optional(), Length(max=MESSAGE_MAX)])
    reason = SelectField(choices=[""] + list(CLOSE_REASONS), default="", validate_choice=False)
    reason_text = StringField(validators=[Optional(), Length(max=REASON_MAX)])
    #: Set by the confirmation step ("Ja, luk sagen"); without it the page asks first.
    confirmed = HiddenField()


class ReopenForm(FlaskForm):
    """Open a closed case again, saying why."""

    reason = TextAreaField(validators=[DataRequired(), Length(max=REASON_MAX)])


class AssignForm(FlaskForm):
    """Take a case, hand it to a colleague (username) or put it back in the queue (empty)."""

    to = StringField(validators=[Optional(), Length(max=80)])


class MessageForm(FlaskForm):
    """A question to the volunteer, or the volunteer's answer or added information."""

    text = TextAreaField(validators=[DataRequired(), Length(max=MESSAGE_MAX)])


class WithdrawForm(FlaskForm):
    """The volunteer withdraws a case, saying why."""

    reason = TextAreaField(validators=[DataRequired(), Length(max=REASON_MAX)])


class UserForm(FlaskForm):
    """An admin creates a user (who then sets a password from a one-time link)."""

    username = StringField(validators=[DataRequired(), Length(min=2, max=80)])
    role = SelectField(choices=list(ASSIGNABLE_ROLES), validators=[DataRequired()])
    organisation = StringField(validators=[Optional(), Length(max=120)])


class RoleForm(FlaskForm):
    """An admin gives a user another role."""

    role = SelectField(choices=list(ASSIGNABLE_ROLES), validators=[DataRequired()])


class SetPasswordForm(FlaskForm):
    """A user chooses a password from a set-password link (the policy is checked on save)."""

    password = PasswordField(validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(validators=[DataRequired(), Length(max=200)])


class DeleteCaseForm(FlaskForm):
    """An admin deletes a case on request, typing its reference again to confirm."""

    confirm = StringField(validators=[DataRequired(), Length(max=40)])


class LanguageForm(FlaskForm):
    """Switch the page language for this session."""

    lang = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token (log out, deactivate a user)."""
