"""Where simulated members come from: acquisition channels with their cost and member quality.

The numbers follow what operators report: store and official-account members stay and buy,
paid feed ads bring many who leave within days and never speak.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Quality:
    """How members from one source behave: each value is a probability or propensity in 0..1."""

    stay: float
    """Chance a member is still in the group four weeks after joining."""
    talk: float
    """Propensity to speak at all; speakers' volume is heavy-tailed on top of it."""
    buy: float
    """Propensity to place orders."""


@dataclass(frozen=True, slots=True)
class AcquisitionChannel:
    name: str
    label: str
    state: str
    """Attribution tag carried by the channel's live code (member.joined / code.scanned `state`)."""
    code: str
    """The channel's live-code id."""
    cost_fen: int
    """What one member from this channel costs, in fen."""
    quality: Quality
    share: float
    """Relative share of channel arrivals."""


ACQUISITION_CHANNELS: tuple[AcquisitionChannel, ...] = (
    AcquisitionChannel(
        "poster", "裂变海报", "poster-q4", "lc-poster", 150, Quality(0.80, 0.55, 0.25), 0.20
    ),
    AcquisitionChannel(
        "store_qr", "门店二维码", "store-qr", "lc-store", 50, Quality(0.90, 0.60, 0.40), 0.22
    ),
    AcquisitionChannel(
        "oa_article", "公众号文章", "oa-article", "lc-oa", 200, Quality(0.85, 0.50, 0.30), 0.15
    ),
    AcquisitionChannel(
        "xiaohongshu", "小红书笔记", "xhs-note", "lc-xhs", 600, Quality(0.70, 0.40, 0.18), 0.13
    ),
    AcquisitionChannel(
        "douyin", "抖音直播", "douyin-live", "lc-douyin", 800, Quality(0.55, 0.30, 0.10), 0.12
    ),
    AcquisitionChannel(
        "ads", "信息流广告", "ads-feed", "lc-ads", 1500, Quality(0.40, 0.15, 0.05), 0.10
    ),
    AcquisitionChannel(
        "partner", "异业互推", "partner-yoga", "lc-partner", 300, Quality(0.65, 0.35, 0.15), 0.08
    ),
)

REFERRAL_QUALITY = Quality(0.88, 0.60, 0.35)
"""Friends invited by a member are the best members a community gets."""

CHANNEL_BY_NAME: dict[str, AcquisitionChannel] = {c.name: c for c in ACQUISITION_CHANNELS}
