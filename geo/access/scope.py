"""Who may see and do what: roles, the permission table, area scopes and scope filters.

One place decides access to data: every query the web serves is filtered by the
caller's ``Scope`` through ``visible`` / ``scoped`` below, never route by route.

A scope is either the whole city or a set of areas of any level. Problems and
inspection points carry their whole ancestry (district/street/community/grid ids), so
"in scope" is a match at the level each scope area has; an area is visible when it is
a scope area or lies inside one (never an ancestor: a district's outline and counts
would reveal its other grids). Rows outside every area are visible to whole-city
scopes only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.actions import ACTIONS as LIFECYCLE_ACTIONS
from geo.core.errors import ForbiddenError, InvalidParameterError
from geo.core.text import tr
from geo.storage.models import Area

ROLES: tuple[str, ...] = ("admin", "city_officer", "district_officer", "grid_manager", "planner")
"""Roles a user or token can have."""

PUBLIC_ROLE = "public"
"""The anonymous visitor of a public read-only demo (CIVICGRID_PUBLIC_DEMO)."""

TOKEN_ROLES: tuple[str, ...] = ROLES[1:]
"""Scripts never get the admin role."""

PROBLEM_ACTIONS: tuple[str, ...] = tuple(LIFECYCLE_ACTIONS)
"""Lifecycle actions on problems (geo/access/actions.py): assign, rectify, close, reopen,
extension and hold requests and decisions, resume, send back, void."""

ACTIONS: tuple[str, ...] = (
    "view",
    "export",
    "report",
    *PROBLEM_ACTIONS,
    "issue_notice",
    "ingest",
    "manage_users",
)
"""Everything a permission can be asked for. ``report`` = create one problem;
``issue_notice`` = number and record a notice (抄告单) of a round."""

_UNIT_WORK = frozenset({"rectify", "request_extension", "request_hold"})
"""What the people who fix problems do (a grid manager reports for the grid's units)."""
_OFFICE_WORK = _UNIT_WORK | {"assign", "close", "reopen", "send_back"}
"""What a district or street campaign office does: hand out, verify, close, send back."""

_ALL = frozenset(ACTIONS)
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": _ALL,
    "city_officer": _ALL - {"manage_users"},
    "district_officer": frozenset({"view", "export", "report", *_OFFICE_WORK}),
    "grid_manager": frozenset({"view", "export", "report", *_UNIT_WORK}),
    "planner": frozenset({"view", "export"}),
    PUBLIC_ROLE: frozenset({"view"}),
}
# Approving or refusing requests, resuming and voiding stay with admin and city_officer,
# the APPROVER_ROLES of geo/access/actions.py (tests/geo/test_access.py checks both agree).
"""The permission table: role → allowed actions. Scope limits *where* on top of this."""

SCOPE_LEVELS: dict[str, tuple[str, ...]] = {
    "admin": (),
    "city_officer": (),
    "planner": ("district",),
    "district_officer": ("district", "street"),
    "grid_manager": ("grid",),
}
"""Levels a role's scope areas may have; () = always the whole city."""

SCOPE_REQUIRED: frozenset[str] = frozenset({"district_officer", "grid_manager"})
"""Roles that must be given at least one area."""

ROLE_LABELS: dict[str, tuple[str, str]] = {
    "admin": ("系统管理员", "Administrator"),
    "city_officer": ("市创建办", "City campaign office"),
    "district_officer": ("区/街道创建办", "District officer"),
    "grid_manager": ("网格员", "Grid manager"),
    "planner": ("规划分析", "Planner"),
    PUBLIC_ROLE: ("公开演示访客", "Public demo visitor"),
}


def can(role: str, action: str) -> bool:
    """True when ``role`` may do ``action`` (anywhere in its scope).

    Raises ``ValueError`` for an action not in ACTIONS: a typo must never grant access.
    """
    if action not in _ALL:
        raise ValueError(f"unknown action {action!r}")
    return action in PERMISSIONS.get(role, frozenset())


def role_label(role: str, lang: str = "zh") -> str:
    """The role's name for people, in ``lang``."""
    zh, en = ROLE_LABELS.get(role, (role, role))
    return en if lang == "en" else zh


@dataclass(frozen=True)
class Scope:
    """The whole city, or the areas (ids per level) someone is limited to."""

    whole_city: bool
    districts: frozenset[int] = frozenset()
    streets: frozenset[int] = frozenset()
    communities: frozenset[int] = frozenset()
    grids: frozenset[int] = frozenset()

    @classmethod
    def city(cls) -> Scope:
        """Everything, including rows outside every area."""
        return cls(True)

    @classmethod
    def nothing(cls) -> Scope:
        """No data at all (a scoped role whose areas were all removed)."""
        return cls(False)

    @property
    def area_ids(self) -> frozenset[int]:
        return self.districts | self.streets | self.communities | self.grids

    def contains(
        self,
        district_id: int | None,
        street_id: int | None,
        community_id: int | None,
        grid_id: int | None,
    ) -> bool:
        """Whether a location with this ancestry is in scope (the Python twin of visible)."""
        return self.whole_city or any(
            value is not None and value in ids
            for value, ids in (
                (district_id, self.districts),
                (street_id, self.streets),
                (community_id, self.communities),
                (grid_id, self.grids),
            )
        )


def resolve_scope(session: so.Session, area_ids: Iterable[int]) -> Scope:
    """The ``Scope`` of a set of area ids (any level); no ids means the whole city.

    A city-level area also means the whole city. Ids that no longer exist are ignored.
    """
    ids = sorted(set(area_ids))
    if not ids:
        return Scope.city()
    rows = session.execute(sa.select(Area.level, Area.id).where(Area.id.in_(ids))).all()
    per_level: dict[str, set[int]] = {}
    for level, id_ in rows:
        per_level.setdefault(level, set()).add(id_)
    if "city" in per_level:
        return Scope.city()
    return Scope(
        False,
        frozenset(per_level.get("district", ())),
        frozenset(per_level.get("street", ())),
        frozenset(per_level.get("community", ())),
        frozenset(per_level.get("grid", ())),
    )


def check_scope_levels(role: str, levels: Iterable[str]) -> None:
    """Refuse scope areas whose level does not fit ``role`` (see SCOPE_LEVELS)."""
    if role not in SCOPE_LEVELS:
        raise InvalidParameterError(
            tr(
                f"未知的角色 '{role}'; 可选: {', '.join(ROLES)}",
                f"unknown role '{role}'; one of: {', '.join(ROLES)}",
            )
        )
    levels = list(levels)
    allowed = SCOPE_LEVELS[role]
    if role in SCOPE_REQUIRED and not levels:
        raise InvalidParameterError(
            tr(
                f"角色 {role} 必须指定区域",
                f"role {role} needs at least one area ({'/'.join(allowed)})",
            )
        )
    wrong = sorted({level for level in levels if level not in allowed})
    if wrong:
        fits_zh = "/".join(allowed) if allowed else "只能全市"
        fits_en = "/".join(allowed) if allowed else "whole city only"
        raise InvalidParameterError(
            tr(
                f"角色 {role} 不能限定到 {', '.join(wrong)} 级区域（可选: {fits_zh}）",
                f"role {role} cannot be scoped to {', '.join(wrong)} areas (allowed: {fits_en})",
            )
        )


@dataclass(frozen=True)
class Principal:
    """Whoever makes a request: a user, a token, the public demo visitor or the CLI."""

    kind: str  # "user", "token", "public" or "cli"
    name: str
    role: str
    scope: Scope = field(default_factory=Scope.city)
    id: int | None = None
    display_name: str = ""

    @property
    def actor(self) -> str:
        """How the audit log and problem history name this principal."""
        return f"{self.kind}:{self.name}"[:100]

    def can(self, action: str) -> bool:
        return can(self.role, action)


def require(principal: Principal, action: str) -> None:
    """Raise ``ForbiddenError`` unless ``principal`` may do ``action``."""
    if not principal.can(action):
        raise ForbiddenError(
            tr(
                f"无权限：{role_label(principal.role)} ({principal.role}) 不能执行 {action}",
                f"not allowed: {role_label(principal.role, 'en')} ({principal.role}) "
                f"cannot {action}",
            )
        )


def require_whole_city(principal: Principal, action: str) -> None:
    """Raise ``ForbiddenError`` unless ``principal`` may do ``action`` city-wide."""
    require(principal, action)
    if not principal.scope.whole_city:
        raise ForbiddenError(
            tr(
                f"{action} 需要全市范围，当前账号只限于部分区域",
                (
                    f"{action} needs a whole-city scope; this {principal.kind} is "
                    "limited to some areas"
                ),
            )
        )


def visible(scope: Scope, entity: Any) -> sa.ColumnElement[bool]:
    """SQL condition: rows of ``entity`` that ``scope`` may see.

    ``entity`` is Problem or InspectionPoint (or anything with the four ancestry
    columns), Area, AreaSummary, or an alias of one of them.
    """
    if scope.whole_city:
        return sa.true()
    if hasattr(entity, "grid_id"):
        return _ancestry_clause(scope, entity)
    if hasattr(entity, "area_id"):  # AreaSummary and other per-area tables
        return entity.area_id.in_(sa.select(Area.id).where(_area_clause(scope, Area)))
    if hasattr(entity, "level"):
        return _area_clause(scope, entity)
    raise TypeError(f"no scope rule for {entity!r}")


def area_in_scope(session: so.Session, scope: Scope, area_id: int) -> bool:
    """Whether the area ``area_id`` is one of ``scope``'s areas or lies inside one."""
    if scope.whole_city:
        return True
    stmt = sa.select(Area.id).where(Area.id == area_id, _area_clause(scope, Area))
    return session.scalar(stmt) is not None


def visible_area_ids(session: so.Session, scope: Scope, level: str) -> frozenset[int] | None:
    """Ids of the areas of ``level`` that ``scope`` may see; None for the whole city."""
    if scope.whole_city:
        return None
    stmt = sa.select(Area.id).where(Area.level == level, _area_clause(scope, Area))
    return frozenset(session.scalars(stmt).all())


def scoped(stmt: Any, scope: Scope, *entities: Any) -> Any:
    """``stmt`` limited to what ``scope`` may see of each of ``entities``."""
    for entity in entities:
        stmt = stmt.where(visible(scope, entity))
    return stmt


def _ancestry_clause(scope: Scope, entity: Any) -> sa.ColumnElement[bool]:
    parts = [
        getattr(entity, column).in_(sorted(ids))
        for column, ids in (
            ("district_id", scope.districts),
            ("street_id", scope.streets),
            ("community_id", scope.communities),
            ("grid_id", scope.grids),
        )
        if ids
    ]
    return sa.or_(*parts) if parts else sa.false()


def _area_clause(scope: Scope, area: Any) -> sa.ColumnElement[bool]:
    parts = [
        column.in_(sorted(ids))
        for column, ids in (
            (area.district_id, scope.districts),
            (area.street_id, scope.streets),
            (area.community_id, scope.communities),
            (area.id, scope.grids),
        )
        if ids
    ]
    return sa.or_(*parts) if parts else sa.false()
