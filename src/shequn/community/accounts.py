"""People who sign in to the console: accounts with argon2 password hashes, a role in each
workspace they work in, and sessions (one per signed-in browser) that expire and can be
revoked. Bearer tokens (community.service) stay the way scripts sign in."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, select, update

from shequn.community.models import user_sessions, users, workspace_roles, workspaces
from shequn.community.workspace import WorkspaceInfo
from shequn.i18n import t
from shequn.platform.errors import Conflict, Invalid, NotFound, Unauthorized

Role = Literal["owner", "admin", "operator", "staff", "viewer"]
ROLES: tuple[Role, ...] = get_args(Role)
# Roles that may change things; a viewer only reads.
WRITERS = frozenset({"owner", "admin", "operator", "staff"})
# Roles that manage people and tokens.
MANAGERS = frozenset({"owner", "admin"})
SESSION_HOURS = 12
MIN_PASSWORD = 8
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$")
_HASHER = PasswordHasher()
# Checked against when the email is unknown, so a wrong email costs what a wrong password does.
_DUMMY_HASH = _HASHER.hash("not anybody's password")


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session's user: who they are and their role in each workspace (slug → role)."""

    user_id: int
    email: str
    name: str | None
    roles: dict[str, str]


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise Invalid(t, "accounts.bad_role", role=role, roles=", ".join(ROLES))
    return role


def _email(value: str) -> str:
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise Invalid(t, "accounts.bad_email", email=value)
    return email


def do_create_user(
    conn: Connection,
    ws: WorkspaceInfo,
    email: str,
    password: str,
    role: str,
    *,
    now: datetime,
    name: str | None = None,
) -> dict[str, Any]:
    """An account with a role in `ws`; an existing account gets the role (its password stays)."""
    address = _email(email)
    check_role(role)
    found = conn.execute(select(users.c.id).where(users.c.email == address)).scalar()
    if found is None:
        if len(password) < MIN_PASSWORD:
            raise Invalid(t, "accounts.short_password", least=MIN_PASSWORD)
        made = conn.execute(
            users.insert().values(
                email=address, name=name, password_hash=_HASHER.hash(password), created_at=now
            )
        ).inserted_primary_key
        assert made is not None
        found = made[0]
    has = conn.execute(
        select(workspace_roles.c.role).where(
            workspace_roles.c.user_id == found, workspace_roles.c.workspace_id == ws.id
        )
    ).scalar()
    if has is not None:
        raise Conflict(t, "accounts.already_member", email=address, role=has)
    conn.execute(
        workspace_roles.insert().values(
            user_id=found, workspace_id=ws.id, role=role, created_at=now
        )
    )
    return {"email": address, "role": role}


def do_set_password(conn: Connection, email: str, password: str) -> None:
    """A new password for an account (its sessions go on)."""
    if len(password) < MIN_PASSWORD:
        raise Invalid(t, "accounts.short_password", least=MIN_PASSWORD)
    address = _email(email)
    done = conn.execute(
        update(users).where(users.c.email == address).values(password_hash=_HASHER.hash(password))
    )
    if not done.rowcount:
        raise NotFound(t, "accounts.no_account", email=address)


def list_users(conn: Connection, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    """The people who work in `ws`, with their role (never their password hash)."""
    u, r = users, workspace_roles
    rows = conn.execute(
        select(u.c.id, u.c.email, u.c.name, r.c.role, u.c.created_at, u.c.disabled_at)
        .join(r, r.c.user_id == u.c.id)
        .where(r.c.workspace_id == ws.id)
        .order_by(u.c.email)
    ).mappings()
    return [{str(k): v for k, v in row.items()} for row in rows]


def _member_id(conn: Connection, ws: WorkspaceInfo, email: str) -> int:
    address = _email(email)
    found = conn.execute(
        select(users.c.id)
        .join(workspace_roles, workspace_roles.c.user_id == users.c.id)
        .where(users.c.email == address, workspace_roles.c.workspace_id == ws.id)
    ).scalar()
    if found is None:
        raise NotFound(t, "accounts.no_user", email=address)
    return int(found)


def do_set_role(conn: Connection, ws: WorkspaceInfo, email: str, role: str) -> dict[str, Any]:
    check_role(role)
    user_id = _member_id(conn, ws, email)
    conn.execute(
        update(workspace_roles)
        .where(workspace_roles.c.user_id == user_id, workspace_roles.c.workspace_id == ws.id)
        .values(role=role)
    )
    return {"email": _email(email), "role": role}


def do_disable_user(
    conn: Connection, ws: WorkspaceInfo, email: str, *, now: datetime
) -> dict[str, Any]:
    """Disable an account: it cannot sign in, and its sessions end now."""
    user_id = _member_id(conn, ws, email)
    conn.execute(
        update(users)
        .where(users.c.id == user_id, users.c.disabled_at.is_(None))
        .values(disabled_at=now)
    )
    conn.execute(
        update(user_sessions)
        .where(user_sessions.c.user_id == user_id, user_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return {"email": _email(email), "disabled": True}


def do_sign_in(
    conn: Connection, email: str, password: str, *, now: datetime
) -> tuple[str, SignedIn]:
    """A new session for the right email and password: (session token, who); its CSRF token
    is `csrf_token(session)`.
    A wrong email and a wrong password get the same answer, in the same time."""
    address = email.strip().lower()
    row = conn.execute(
        select(users.c.id, users.c.password_hash, users.c.disabled_at).where(
            users.c.email == address
        )
    ).first()
    try:
        _HASHER.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized(t, "accounts.bad_login") from None
    if row is None or row.disabled_at is not None:
        raise Unauthorized(t, "accounts.bad_login")
    if _HASHER.check_needs_rehash(row.password_hash):
        conn.execute(
            update(users).where(users.c.id == row.id).values(password_hash=_HASHER.hash(password))
        )
    token = secrets.token_urlsafe(32)
    conn.execute(
        user_sessions.insert().values(
            user_id=row.id,
            token_hash=_hash_token(token),
            created_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    )
    who = session_user(conn, token, now=now)
    assert who is not None
    return token, who


def session_user(conn: Connection, token: str, *, now: datetime) -> SignedIn | None:
    """The user of a live session (not expired, revoked or disabled); None otherwise."""
    s, u = user_sessions, users
    row = conn.execute(
        select(u.c.id, u.c.email, u.c.name)
        .join(s, s.c.user_id == u.c.id)
        .where(
            s.c.token_hash == _hash_token(token),
            s.c.revoked_at.is_(None),
            s.c.expires_at > now,
            u.c.disabled_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    r = workspace_roles
    roles = conn.execute(
        select(workspaces.c.slug, r.c.role)
        .join(workspaces, workspaces.c.id == r.c.workspace_id)
        .where(r.c.user_id == row.id)
        .order_by(workspaces.c.slug)
    ).all()
    return SignedIn(int(row.id), str(row.email), row.name, {str(w): str(ro) for w, ro in roles})


def csrf_token(session: str) -> str:
    """The session's CSRF token: derived from the session's secret (which only the HttpOnly
    cookie carries), so a page on another site cannot know it and `me` can answer it again."""
    return hmac.new(session.encode(), b"shequn csrf", hashlib.sha256).hexdigest()


def csrf_matches(session: str, csrf: str | None) -> bool:
    """Whether `csrf` is the CSRF token of the session `session`."""
    return bool(csrf) and hmac.compare_digest(csrf_token(session), str(csrf))


def do_sign_out(conn: Connection, token: str, *, now: datetime) -> None:
    conn.execute(
        update(user_sessions)
        .where(
            user_sessions.c.token_hash == _hash_token(token), user_sessions.c.revoked_at.is_(None)
        )
        .values(revoked_at=now)
    )
