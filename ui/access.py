"""Login and the signed-in user's role, read on the server every run.

Login is on when ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit's
``st.login`` against the deployment's OpenID Connect provider); its ``[access]`` section
says which claim of the user's token names their roles (analytics.access, which holds the
rule from a role to what it allows). Without ``[auth]`` the dashboard runs as it always
has and says in the sidebar that it has no login. The role comes from the identity
Streamlit keeps on the server (``st.user``), never from a widget or a link, so nothing a
browser sends can raise it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from analytics.access import AccessError, AccessRule, Allowed, Role, access_rule, allowed
from analytics.scope import CentreScope, Choice
from ui.text import plain

AUTH, ACCESS = "auth", "access"  # the sections of .streamlit/secrets.toml
SCOPE = "scope"  # ui.state's parameter: a centre's user's choice of scope (Choice)
NO_LOGIN = "This dashboard has no login: whoever can reach its address sees what it shows."
LOG_IN, LOG_OUT = "Log in", "Log out"


@dataclass(frozen=True)
class SignedIn:
    """The user a page is drawn for: the name their provider gives, and their role."""

    name: str
    role: Role


def _secrets() -> dict[str, Any]:
    """The deployment's secrets; none when it has no secrets file. A secrets file that
    exists but cannot be read raises AccessError: it may hold the login, so the dashboard
    must not open without it."""
    try:
        return st.secrets.to_dict()
    except StreamlitSecretNotFoundError as exc:
        if any(Path(path).is_file() for path in st.get_option("secrets.files")):
            raise AccessError(f"the secrets file cannot be read ({exc})") from None
        return {}


def rule() -> AccessRule | None:
    """The deployment's access rule; None when login is off (no ``[auth]``). AccessError
    when login is on without an ``[access]`` section, or roles are mapped without login
    (they would protect nothing)."""
    secrets = _secrets()
    if AUTH not in secrets:
        if ACCESS in secrets:
            raise AccessError(
                "[access] maps roles but there is no [auth] section, so nobody signs in: "
                "add [auth], or remove [access]"
            )
        return None
    if ACCESS not in secrets:
        raise AccessError(
            "[auth] turns login on, but there is no [access] section saying which claim "
            "gives a user's role"
        )
    return access_rule(secrets[ACCESS])


def user_name() -> str:
    """The signed-in user's name as their provider gives it (else email, else subject)."""
    user = st.user
    return str(user.get("name") or user.get("email") or user.get("sub") or "You")


def session_role() -> Role | None:
    """The signed-in user's role; None without login, when signed out, or with no role."""
    access = rule()
    if access is None or not st.user.is_logged_in:
        return None
    return access.role_of(st.user.to_dict())


def subject() -> str | None:
    """The signed-in user's token subject (``sub``, which the provider keeps for the user
    for good), which owns their imports; None without login, signed out, or without one."""
    if rule() is None or not st.user.is_logged_in:
        return None
    return str(st.user.get("sub") or "") or None


def session_centre() -> str | None:
    """The centre the signed-in user is scoped to; None without login, signed out, or for
    a registry-level user. A claim that names no one centre raises AccessError (fail
    closed; require_user refuses such a user first)."""
    access = rule()
    if access is None or not st.user.is_logged_in:
        return None
    return access.centre_of(st.user.to_dict())


def session_scope() -> CentreScope:
    """Whom this session sees: the registry, or the user's centre or the other centres as
    they chose (the scope parameter; their centre unless it holds the other choice)."""
    centre = session_centre()
    if centre is None:
        return CentreScope()
    chosen = st.session_state.get(SCOPE)
    return CentreScope(centre, Choice.OTHERS if chosen == Choice.OTHERS else Choice.MINE)


def session_allowed() -> Allowed:
    """What this session may do: everything without login, its role's with it, a viewer's
    when it has none (never reached: require_user stops such a page first)."""
    if rule() is None:
        return allowed(None)
    return allowed(session_role() or Role.VIEWER)


def require_user(title: str) -> SignedIn | None:
    """Stop the page unless login is off (None) or a user with a role is signed in: a
    signed-out visitor gets the title and Log in, a user without a role a refusal."""
    access = rule()
    if access is None:
        return None
    if not st.user.is_logged_in:
        st.title(title)
        st.info("Sign in with your organisation's account to see this dashboard.", icon="🔒")
        st.button(LOG_IN, on_click=st.login, type="primary", icon=":material/login:")
        st.stop()
    role = access.role_of(st.user.to_dict())
    if role is None:
        _refuse(title, "this account has no role on this dashboard, so it shows nothing. Ask "
                "whoever runs it to give your account a role.")  # fmt: skip
    try:
        access.centre_of(st.user.to_dict())
    except AccessError as exc:
        _refuse(title, f"{plain(str(exc))}, so this dashboard shows nothing. Ask whoever runs "
                "your accounts to correct it.")  # fmt: skip
    return SignedIn(user_name(), role)


def _refuse(title: str, why: str) -> None:
    """Stop the page for a signed-in user it may not serve, saying why, with Log out."""
    st.title(title)
    st.error(f"{plain(user_name())} is signed in, but {why}", icon="🚫")
    st.button(LOG_OUT, on_click=st.logout, icon=":material/logout:")
    st.stop()


def show_user(user: SignedIn | None) -> None:
    """The sidebar's line on login: who is signed in and as what, with Log out; or that
    the dashboard has none."""
    if user is None:
        st.sidebar.caption(NO_LOGIN)
        return
    st.sidebar.caption(f"Signed in as **{plain(user.name)}**, {user.role}.")
    st.sidebar.button(LOG_OUT, on_click=st.logout, icon=":material/logout:", width="stretch")
