"""WeCom's capabilities, declared honestly: what Shequn may carry out itself in a customer
group, and what must be a staff task.

WeCom has no API that posts in, removes a member from, mutes in or deletes a message of a
customer group (CHANNELS.md; docs/channels/wecom.md). Sending goes through
`add_msg_template`, which the group owner confirms on the phone — not yet wired, so for now
every action Shequn decides for a WeCom group is a staff task, with the reason and what to
do in the workspace's language.
"""

from __future__ import annotations

from typing import ClassVar

from shequn.channels.base import Capability, ChannelAdapter

NO_API = frozenset({Capability.DELETE, Capability.MUTE, Capability.REMOVE, Capability.BAN})
"""Capabilities WeCom offers no API for, in customer groups: always staff tasks."""


class WecomChannel(ChannelAdapter):
    name = "wecom"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
