"""Sandbox adapter: carries out actions on groups that live in Shequn itself.

A sent message is stored in the group's history; a removal arrives back as a `member.left`
event, as a real channel's callback would, so the projections stay driven by events alone.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Engine

from shequn.actions import ActionKind
from shequn.channels.base import (
    Capability,
    ChannelAdapter,
    OutboundAction,
    PermanentError,
)
from shequn.channels.sandbox.models import sandbox_sent
from shequn.config.community import SHEQUN_BOT
from shequn.platform.db import insert_ignore, transaction

BOT = SHEQUN_BOT


class SandboxChannel(ChannelAdapter):
    name = "sandbox"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)

    def execute(self, action: OutboundAction, engine: Engine) -> None:
        if action.group is None:
            raise PermanentError("sandbox actions need a group")
        if action.kind in (ActionKind.MESSAGE_SEND, ActionKind.MEMBER_WARN):
            text = str(action.data.get("text") or action.reason)
            mentions = list(action.data.get("mentions") or [])
            if action.kind == ActionKind.MEMBER_WARN and action.member:
                mentions = [action.member]
            with transaction(engine) as conn:
                insert_ignore(
                    conn,
                    sandbox_sent,
                    [
                        {
                            "action_id": action.id,
                            "workspace_id": action.workspace_id,
                            "group_ext": action.group,
                            "text": text,
                            "mentions": mentions,
                            "at": action.decided_at,
                        }
                    ],
                )
            return
        if action.kind in (ActionKind.MEMBER_REMOVE, ActionKind.MEMBER_BLACKLIST):
            self._feed_back_removal(action, engine)
            return
        # Deletion and muting are read back from the action log by the history view.
        if action.kind in (ActionKind.MESSAGE_DELETE, ActionKind.MEMBER_MUTE):
            return
        raise PermanentError(f"sandbox cannot carry out {action.kind}")

    def _feed_back_removal(self, action: OutboundAction, engine: Engine) -> None:
        from shequn.channels.sandbox.service import feed_back

        if action.member is None:
            raise PermanentError("a removal needs a member")
        feed_back(
            engine,
            action.workspace_id,
            {
                "id": f"{action.id}-left",
                "type": "member.left",
                "channel": "sandbox",
                "group": action.group,
                "member": action.member,
                "at": action.decided_at,
                "data": {"reason": "removed", "by": BOT},
            },
        )
