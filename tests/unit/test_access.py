"""The role rule and its configuration: what each role may do, how a claim gives a role,
and that an [access] section the dashboard cannot read is refused, never opened."""

from __future__ import annotations

import pytest

from analytics.access import (
    AccessError,
    Allowed,
    Role,
    access_rule,
    allowed,
    privacy_setting,
)
from analytics.present.privacy import Setting

RULE = access_rule(
    {
        "role_claim": "groups",
        "roles": {"vs-viewers": "viewer", "vs-analysts": "analyst", "vs-managers": "data manager"},
    }
)


def test_a_viewer_sees_masked_counts_and_exports_no_model_nor_from_the_browser():
    assert allowed(Role.VIEWER) == Allowed(
        exact_counts=False, model_exports=False, browser_exports=False, manage_data=False
    )


def test_an_analyst_sees_exact_counts_and_exports_everything_but_imports_nothing():
    assert allowed(Role.ANALYST) == Allowed(
        exact_counts=True, model_exports=True, browser_exports=True, manage_data=False
    )


def test_a_data_manager_may_do_what_an_analyst_does_and_import():
    assert allowed(Role.DATA_MANAGER) == Allowed(
        exact_counts=True, model_exports=True, browser_exports=True, manage_data=True
    )


def test_without_login_the_dashboard_allows_what_it_always_has():
    assert allowed(None) == allowed(Role.DATA_MANAGER)


@pytest.mark.parametrize("mode", ["off", "on", "enforced"])
def test_a_viewer_runs_enforced_at_the_deployments_k_whatever_its_mode(mode):
    assert privacy_setting(Setting(mode, 7), allowed(Role.VIEWER)) == Setting("enforced", 7)


@pytest.mark.parametrize("role", [Role.ANALYST, Role.DATA_MANAGER, None])
@pytest.mark.parametrize("mode", ["off", "on", "enforced"])
def test_an_enforced_deployment_stays_a_floor_for_roles_with_exact_counts(role, mode):
    deployment = Setting(mode, 6)
    assert privacy_setting(deployment, allowed(role)) == deployment


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        ({"groups": "vs-viewers"}, Role.VIEWER),
        ({"groups": ["vs-analysts"]}, Role.ANALYST),
        ({"groups": ["other", "vs-viewers", "vs-managers", "vs-analysts"]}, Role.DATA_MANAGER),
        ({"groups": ["vs-viewers", "vs-analysts"]}, Role.ANALYST),
        ({"groups": ["other"]}, None),
        ({"groups": []}, None),
        ({"roles": ["vs-managers"]}, None),  # another claim than the one configured
        ({}, None),
        ({"groups": {"vs-managers": True}}, None),  # neither a string nor a list
        ({"groups": [1, None, "vs-viewers"]}, Role.VIEWER),
        ({"groups": "VS-VIEWERS"}, None),  # claim values match exactly
    ],
)
def test_a_user_has_the_highest_role_their_claim_maps_to(claims, role):
    assert RULE.role_of(claims) is role


def test_the_claim_name_is_the_one_configured():
    rule = access_rule({"role_claim": " roles ", "roles": {"Dashboard.Read": "viewer"}})
    assert rule.claim == "roles"
    assert rule.role_of({"roles": ["Dashboard.Read"]}) is Role.VIEWER


@pytest.mark.parametrize(
    ("section", "said"),
    [
        (
            {"role_claim": "groups", "roles": {"vs-analysts": "analist"}},
            "[access.roles] maps 'vs-analysts' to 'analist', which is not a role: use "
            '"viewer", "analyst", "data manager"',
        ),
        (
            {"role_claim": "groups", "roles": {"vs-managers": "data_manager"}},
            "maps 'vs-managers' to 'data_manager', which is not a role",
        ),
        (
            {"role_claim": "groups", "roles": {"vs-analysts": "Analyst"}},
            "maps 'vs-analysts' to 'Analyst', which is not a role",
        ),
        (
            {"role_claims": "groups", "roles": {"vs-viewers": "viewer"}},
            "[access] has 'role_claims', which is not a setting: use role_claim, roles and "
            "center_claim",
        ),
        (
            {"roles": {"vs-viewers": "viewer"}},
            "[access] role_claim must name the claim that holds a user's roles",
        ),
        (
            {"role_claim": "  ", "roles": {"vs-viewers": "viewer"}},
            "[access] role_claim must name the claim",
        ),
        (
            {"role_claim": ["groups"], "roles": {"vs-viewers": "viewer"}},
            "[access] role_claim must name the claim",
        ),
        (
            {"role_claim": "groups"},
            "[access.roles] must map at least one value of the 'groups' claim to a role",
        ),
        ({"role_claim": "groups", "roles": {}}, "[access.roles] must map at least one value"),
        ({"role_claim": "groups", "roles": "viewer"}, "[access.roles] must map at least one"),
    ],
)
def test_an_access_section_it_cannot_read_is_refused_naming_the_problem(section, said):
    with pytest.raises(AccessError) as refused:
        access_rule(section)
    assert said in str(refused.value)
