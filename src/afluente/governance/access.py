"""The project's access rules, from both places they live: the `governance:` block of
`afluente.yml` and the grants, role members and tokens in the state store."""

from __future__ import annotations

from afluente.config import Project
from afluente.config.governance import GovernanceConfig
from afluente.governance.grants import Grant, parse_privilege
from afluente.governance.identity import Identity, current_identity, file_owner
from afluente.governance.principals import Directory
from afluente.state.access_state import AccessStore, StoredGrant


def load_directory(project: Project, config: GovernanceConfig) -> tuple[Directory, Identity]:
    """Who holds which role and grant, and who the caller is."""
    with AccessStore.open(project.state_url) as store:
        identity = current_identity(store)
        stored_grants = store.grants()
        stored_members = store.members()
    return directory_of(project, config, stored_grants, stored_members), identity


def project_directory(project: Project, config: GovernanceConfig) -> Directory:
    """Who holds which role and grant (the caller is known otherwise, e.g. by a server)."""
    with AccessStore.open(project.state_url) as store:
        return directory_of(project, config, store.grants(), store.members())


def directory_of(project: Project, config: GovernanceConfig, stored_grants: list[StoredGrant],
                 stored_members: list[tuple[str, str]]) -> Directory:
    grants = [Grant(role, g.privilege, g.on) for role, spec in config.roles.items()
              for g in spec.grants]
    grants += [Grant(g.role, parse_privilege(g.privilege), g.securable) for g in stored_grants]
    members: dict[str, list[str]] = {role: list(spec.members)
                                     for role, spec in config.roles.items()}
    for role, principal in stored_members:
        members.setdefault(role, []).append(principal)
    admins = config.admins or tuple(filter(None, [file_owner(project.file)]))
    roles = tuple(sorted({*config.roles, *members, *(g.role for g in grants)}))
    return Directory(admins, dict(config.groups),
                     {r: tuple(m) for r, m in members.items()}, tuple(grants), roles)
