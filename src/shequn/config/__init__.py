"""The workspace configuration as one statically declared model, `WorkspaceConfig`.

Each domain's sections are declared in a module of this package (`community`, `moderation`,
`engagement`, `growth`, `commerce`, `crm`, `analytics`) and gathered here, once, as the
fields of `WorkspaceConfig`. The package is pure data — models, their validators and pure
reads of their own values — and imports nothing of Shequn but `shequn.i18n`'s template
parser, so every layer above may read the configuration with its types checked.
"""

from __future__ import annotations

from pydantic import Field

from shequn.config.analytics import AnalyticsSection
from shequn.config.base import Section
from shequn.config.commerce import (
    ChainSection,
    CouponsSection,
    DistributionSection,
    MembershipSection,
)
from shequn.config.community import (
    GROUP_SCOPED,
    Blueprint,
    GroupsSection,
    RolesSection,
    WorkspaceSection,
)
from shequn.config.crm import CrmSection
from shequn.config.engagement import (
    ActivitiesSection,
    CheckinSection,
    CleanupSection,
    EliminationSection,
    FlashSection,
    HealthSection,
    IntroSection,
    KeywordsSection,
    KolSection,
    LevelsSection,
    MilestonesSection,
    PointsSection,
    SopSection,
    WelcomeSection,
)
from shequn.config.growth import CampaignsSection, GrowthSection
from shequn.config.moderation import ModerationSection

__all__ = ["GROUP_SCOPED", "Section", "WorkspaceConfig"]


class WorkspaceConfig(Section):
    """A workspace's configuration: every section, each with its defaults."""

    # The fields are in the order `shequn config show` has always printed the sections. A
    # group's view (its blueprint's and its own `settings` merged in,
    # `WorkspaceInfo.group_config`) is a WorkspaceConfig too, in which only the sections of
    # GROUP_SCOPED can differ.
    workspace: WorkspaceSection = Field(default_factory=WorkspaceSection)
    groups: GroupsSection = Field(default_factory=GroupsSection)
    roles: RolesSection = Field(default_factory=RolesSection)
    blueprints: dict[str, Blueprint] = Field(default_factory=dict)
    analytics: AnalyticsSection = Field(default_factory=AnalyticsSection)
    moderation: ModerationSection = Field(default_factory=ModerationSection)
    welcome: WelcomeSection = Field(default_factory=WelcomeSection)
    points: PointsSection = Field(default_factory=PointsSection)
    checkin: CheckinSection = Field(default_factory=CheckinSection)
    levels: LevelsSection = Field(default_factory=LevelsSection)
    cleanup: CleanupSection = Field(default_factory=CleanupSection)
    keywords: KeywordsSection = Field(default_factory=KeywordsSection)
    milestones: MilestonesSection = Field(default_factory=MilestonesSection)
    intro: IntroSection = Field(default_factory=IntroSection)
    crm: CrmSection = Field(default_factory=CrmSection)
    sop: SopSection = Field(default_factory=SopSection)
    activities: ActivitiesSection = Field(default_factory=ActivitiesSection)
    health: HealthSection = Field(default_factory=HealthSection)
    kol: KolSection = Field(default_factory=KolSection)
    elimination: EliminationSection = Field(default_factory=EliminationSection)
    flash: FlashSection = Field(default_factory=FlashSection)
    growth: GrowthSection = Field(default_factory=GrowthSection)
    campaigns: CampaignsSection = Field(default_factory=CampaignsSection)
    coupons: CouponsSection = Field(default_factory=CouponsSection)
    distribution: DistributionSection = Field(default_factory=DistributionSection)
    membership: MembershipSection = Field(default_factory=MembershipSection)
    order_chain: ChainSection = Field(default_factory=ChainSection)
