"""Who may see and export what once login is on: the roles, how a deployment maps its
identity provider's claim to them, and what each role allows.

A deployment maps the values of one claim of its users' tokens (``groups`` in Keycloak and
Okta, ``roles`` in Entra ID: a string or a list of strings) to the product's three roles
in the ``[access]`` section of ``.streamlit/secrets.toml``::

    [access]
    role_claim = "groups"
    center_claim = "center"

    [access.roles]
    "venous-registry-viewers" = "viewer"
    "venous-registry-analysts" = "analyst"
    "venous-registry-managers" = "data manager"

A user holding values of several roles has the highest of them; a user holding none has
no role, and sees nothing. ``center_claim`` (optional) names the claim that ties a user to
one centre, a code as the cohort's ``center`` column holds it: such a user is centre-scoped
(analytics.scope); a user without it, or every user where it is not set, sees the
registry. The rule is read fail closed: a key or a role name that is not one of those
above stops the dashboard with a message naming it, never opens it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from analytics.present.privacy import Setting

ROLE_CLAIM, ROLES, CENTRE_CLAIM = "role_claim", "roles", "center_claim"  # the keys of [access]


class Role(StrEnum):
    """The product's roles, lowest first; the value is the word a deployment writes."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    DATA_MANAGER = "data manager"


RANKS = {role: rank for rank, role in enumerate(Role)}


class AccessError(ValueError):
    """An ``[access]`` section the dashboard cannot read as a rule: it must not open."""


@dataclass(frozen=True)
class Allowed:
    """What a session may do. ``exact_counts``: may see counts below k (privacy off or a
    k of its choosing, never below a k the deployment enforces); ``model_exports``: the
    Models page's tables and charts as files and the model's slides in the deck;
    ``browser_exports``: plotly's camera button, which saves a picture in the browser
    where the server decides nothing; ``manage_data``: imports, which publish to every
    user where the deployment shares imports (their reports are the only patient-level
    rows the dashboard hands out)."""

    exact_counts: bool
    model_exports: bool
    browser_exports: bool
    manage_data: bool


EVERYTHING = Allowed(exact_counts=True, model_exports=True, browser_exports=True, manage_data=True)
ALLOWED = {
    Role.VIEWER: Allowed(
        exact_counts=False, model_exports=False, browser_exports=False, manage_data=False
    ),
    Role.ANALYST: Allowed(
        exact_counts=True, model_exports=True, browser_exports=True, manage_data=False
    ),
    Role.DATA_MANAGER: EVERYTHING,
}


def allowed(role: Role | None) -> Allowed:
    """What ``role`` may do; None (no login configured) may do all, as the dashboard
    always has: a deployment without login relies on who can reach it."""
    return EVERYTHING if role is None else ALLOWED[role]


def privacy_setting(deployment: Setting, allows: Allowed) -> Setting:
    """The privacy setting a session runs under: the deployment's, enforced at its k for
    a session that may not see exact counts. An enforced deployment stays a floor for
    every role, as the deployment's own setting is returned to the others."""
    return deployment if allows.exact_counts else Setting("enforced", deployment.k)


@dataclass(frozen=True)
class AccessRule:
    """Which claim names a user's roles, the role each of its values gives, and which
    claim (if any) names the one centre a user is scoped to."""

    claim: str
    roles: Mapping[str, Role]
    centre_claim: str | None = None

    def role_of(self, claims: Mapping[str, object]) -> Role | None:
        """The highest role the user's claim values map to; None when none maps (or the
        claim is missing, or neither a string nor a list of them)."""
        held = claims.get(self.claim)
        values = held if isinstance(held, list) else [held]
        roles = [self.roles[v] for v in values if isinstance(v, str) and v in self.roles]
        return max(roles, key=RANKS.__getitem__, default=None)

    def centre_of(self, claims: Mapping[str, object]) -> str | None:
        """The centre the user is scoped to; None (the registry) without a centre claim
        configured or held. A held claim that is not one centre (a list of several, a
        number, blank) raises AccessError: read fail closed, it never means the registry."""
        if self.centre_claim is None or claims.get(self.centre_claim) is None:
            return None
        held = claims[self.centre_claim]
        values = held if isinstance(held, list) else [held]
        if len(values) != 1 or not isinstance(values[0], str) or not values[0].strip():
            raise AccessError(
                f"the {self.centre_claim!r} claim of this account does not name one centre"
            )
        return values[0].strip()


def access_rule(section: Mapping[str, object]) -> AccessRule:
    """The ``[access]`` section read as a rule, or AccessError naming what is wrong."""
    unknown = sorted(set(section) - {ROLE_CLAIM, ROLES, CENTRE_CLAIM})
    if unknown:
        raise AccessError(
            f"[access] has {', '.join(map(repr, unknown))}, which is not a setting: "
            f"use {ROLE_CLAIM}, {ROLES} and {CENTRE_CLAIM}"
        )
    claim = section.get(ROLE_CLAIM)
    if not isinstance(claim, str) or not claim.strip():
        raise AccessError(
            f"[access] {ROLE_CLAIM} must name the claim that holds a user's roles, "
            'such as "groups" or "roles"'
        )
    mapping = section.get(ROLES)
    if not isinstance(mapping, Mapping) or not mapping:
        raise AccessError(
            f"[access.{ROLES}] must map at least one value of the {claim!r} claim to a role"
        )
    roles = {str(value): _role(value, name) for value, name in mapping.items()}
    return AccessRule(claim.strip(), roles, _centre_claim(section.get(CENTRE_CLAIM)))


def _centre_claim(claim: object) -> str | None:
    """``center_claim`` as configured: None when not set, else a claim's name."""
    if claim is None:
        return None
    if not isinstance(claim, str) or not claim.strip():
        raise AccessError(
            f"[access] {CENTRE_CLAIM} must name the claim that holds a user's centre, "
            'such as "center", or be left out'
        )
    return claim.strip()


def _role(value: object, name: object) -> Role:
    """The role ``name`` names, or AccessError naming the mapping and the roles there are."""
    try:
        return Role(name)
    except ValueError:
        words = ", ".join(f'"{role}"' for role in Role)
        raise AccessError(
            f"[access.{ROLES}] maps {str(value)!r} to {name!r}, which is not a role: use {words}"
        ) from None
