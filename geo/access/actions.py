"""The lifecycle's actions and who may take them.

Main path (DOMAIN.md): found → assign 交办 → assigned → rectify 整改 → rectified → close
销号 → closed, and reopen 返工 back to assigned. Besides it:

- extension 延期: the unit requests a new deadline with a reason (request_extension); a
  supervisor approves (the deadline moves, ``extension_count`` + 1) or refuses;
- hold 挂账: the unit requests that the problem be held (cannot be fixed within the
  campaign's horizon) with a reason; a supervisor approves (status held) or refuses;
  resume 解除挂账 hands a held problem back to its unit with a fresh deadline;
- send back 回退: an assigned problem goes back to the assigning office (status found, no
  unit, no deadline) when it was assigned to the wrong unit;
- void 作废: a false report is voided with a reason (status voided).

A pending request (``Problem.pending``) does not change the status; rectifying, sending
back or voiding a problem drops it. Approving, refusing, resuming and voiding need the
approval right: ``may_approve(role)`` (the roles of geo/access/scope.py: the web passes the
signed-in user's role, the CLI its ``--role`` option). Which role may take which action at
all is geo/access/scope.py's permission table; this rule holds wherever the change comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from geo.core.errors import InvalidParameterError, PermissionDeniedError
from geo.core.text import tr


@dataclass(frozen=True)
class Action:
    """A lifecycle action: states it starts from, state it leads to (None: unchanged),
    its labels, whether a note (reason) is required, the pending request it needs
    (``needs_pending``) or that none may be pending (``no_pending``), and whether it
    needs the approval right."""

    name: str
    sources: frozenset[str]
    target: str | None
    zh: str
    en: str
    note_required: bool
    needs_pending: str | None = None
    no_pending: bool = False
    needs_right: bool = False
    group: str = "main"  # "main", "request", "decision", "other": how pages group forms

    def label(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh

    @property
    def cli_name(self) -> str:
        return self.name.replace("_", "-")


_ASSIGNED = frozenset({"assigned"})

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("assign", frozenset({"found"}), "assigned", "交办", "Assign", False),
        Action("rectify", _ASSIGNED, "rectified", "整改", "Rectify", True),
        Action("close", frozenset({"rectified"}), "closed", "销号", "Close", True),
        Action("reopen", frozenset({"rectified", "closed"}), "assigned", "返工", "Reopen", True),
        Action(
            "request_extension",
            _ASSIGNED,
            None,
            "申请延期",
            "Request extension",
            True,
            no_pending=True,
            group="request",
        ),
        Action(
            "approve_extension",
            _ASSIGNED,
            None,
            "批准延期",
            "Approve extension",
            False,
            needs_pending="extension",
            needs_right=True,
            group="decision",
        ),
        Action(
            "refuse_extension",
            _ASSIGNED,
            None,
            "驳回延期",
            "Refuse extension",
            True,
            needs_pending="extension",
            needs_right=True,
            group="decision",
        ),
        Action(
            "request_hold",
            _ASSIGNED,
            None,
            "申请挂账",
            "Request hold",
            True,
            no_pending=True,
            group="request",
        ),
        Action(
            "approve_hold",
            _ASSIGNED,
            "held",
            "批准挂账",
            "Approve hold",
            False,
            needs_pending="hold",
            needs_right=True,
            group="decision",
        ),
        Action(
            "refuse_hold",
            _ASSIGNED,
            None,
            "驳回挂账",
            "Refuse hold",
            True,
            needs_pending="hold",
            needs_right=True,
            group="decision",
        ),
        Action(
            "resume",
            frozenset({"held"}),
            "assigned",
            "解除挂账",
            "Resume",
            True,
            needs_right=True,
        ),
        Action("send_back", _ASSIGNED, "found", "回退", "Send back", True, group="other"),
        Action(
            "void",
            frozenset({"found", "assigned", "rectified"}),
            "voided",
            "作废",
            "Void",
            True,
            needs_right=True,
            group="other",
        ),
    )
}
"""Every action by name; see the module docstring."""

REQUEST_KINDS: dict[str, tuple[str, str]] = {
    "extension": ("延期申请", "extension request"),
    "hold": ("挂账申请", "hold request"),
}

APPROVER_ROLES: frozenset[str] = frozenset({"city_officer", "admin"})
"""Roles with the approval right (approve or refuse a request, resume, void)."""


def may_approve(role: str | None) -> bool:
    """True when an actor of ``role`` (a role of geo/access/scope.py) may approve or refuse
    extensions and holds, resume a held problem and void a report."""
    return (role or "").strip() in APPROVER_ROLES


def check_right(action: Action, role: str | None) -> None:
    """Raise ``PermissionDeniedError`` unless ``role`` may take ``action``."""
    if action.needs_right and not may_approve(role):
        allowed = ", ".join(sorted(APPROVER_ROLES))
        raise PermissionDeniedError(
            tr(
                f"无权{action.zh}：需要审批权限（{allowed}），当前角色「{role or '未填写'}」",
                (
                    f"role '{role or 'none'}' may not {action.en.lower()}: needs "
                    f"the approval right ({allowed})"
                ),
            )
        )


def allowed_actions(status: str, pending: str | None = None) -> list[str]:
    """Names of the actions a problem in ``status`` with ``pending`` request allows."""
    return [name for name, a in ACTIONS.items() if allows(a, status, pending)]


def allows(action: Action, status: str, pending: str | None) -> bool:
    """True when ``action`` may be taken on a problem in ``status`` with ``pending``."""
    if status not in action.sources:
        return False
    if action.needs_pending is not None:
        return pending == action.needs_pending
    return not (action.no_pending and pending is not None)


def pending_refusal(problem_id: int, action: Action, pending: str | None) -> str:
    """Why ``action`` cannot be taken on a problem with (or without) ``pending`` request."""
    if pending is None:
        zh, en = REQUEST_KINDS[action.needs_pending or "extension"]
        return tr(
            f"问题 #{problem_id} 没有待审批的{zh}，不能{action.zh}",
            f"problem #{problem_id} has no pending {en}: cannot {action.en.lower()}",
        )
    zh, en = REQUEST_KINDS.get(pending, (pending, pending))
    return tr(
        f"问题 #{problem_id} 已有待审批的{zh}，不能{action.zh}",
        f"problem #{problem_id} already has a pending {en}: cannot {action.en.lower()}",
    )


def check_extension(
    action: Action,
    deadline: datetime | None,
    before: pd.DataFrame,
    max_days: int,
    now: datetime,
) -> None:
    """Raise ``InvalidParameterError`` unless the new ``deadline`` (naive UTC) of an
    extension is later than each problem's current one (in ``before``) and at most
    ``max_days`` natural days past it (past ``now`` for a problem without one)."""
    if action.name not in ("request_extension", "approve_extension") or deadline is None:
        return
    base = pd.to_datetime(before["deadline"]).fillna(pd.Timestamp(now))
    new = pd.Timestamp(deadline)
    limit = base + pd.Timedelta(days=max_days)
    early = before.loc[(new <= base).to_numpy(), "id"].tolist()
    if early:
        raise InvalidParameterError(
            tr(
                "新时限须晚于原时限",
                (
                    f"the new deadline {new:%Y-%m-%d %H:%M} UTC must be later "
                    "than the current one (problem "
                    f"#{', #'.join(map(str, early))})"
                ),
            )
        )
    far = (new > limit).to_numpy()
    if far.any():
        i = int(far.argmax())
        raise InvalidParameterError(
            tr(
                (
                    f"延期超过上限 {max_days} 天：问题 #{before['id'].iloc[i]} 的"
                    f"时限为 {base.iloc[i]:%Y-%m-%d %H:%M} UTC，最多延至 "
                    f"{limit.iloc[i]:%Y-%m-%d %H:%M} UTC（申请 "
                    f"{new:%Y-%m-%d %H:%M} UTC）"
                ),
                (
                    f"extension beyond the maximum of {max_days} days: problem "
                    f"#{before['id'].iloc[i]} is due "
                    f"{base.iloc[i]:%Y-%m-%d %H:%M} UTC, so at most "
                    f"{limit.iloc[i]:%Y-%m-%d %H:%M} UTC (asked "
                    f"{new:%Y-%m-%d %H:%M} UTC)"
                ),
            )
        )
