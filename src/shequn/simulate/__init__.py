"""Seeded simulation of community life, for demos, backtests and benchmarks."""

from shequn.simulate.traffic import chat_traffic
from shequn.simulate.world import (
    ACQUISITION_CHANNELS,
    AcquisitionChannel,
    Quality,
    World,
    WorldSpec,
    build_world,
    generate_events,
)

__all__ = [
    "ACQUISITION_CHANNELS",
    "AcquisitionChannel",
    "Quality",
    "World",
    "WorldSpec",
    "build_world",
    "chat_traffic",
    "generate_events",
]
