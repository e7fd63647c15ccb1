"""Content moderation 群风控: the pure text analysis the engine's rules call.

Normalise away evasions, match word lists, detect links, phone numbers, contact ids, QR
codes, cards and mass mentions (`scan`), and keep the behavioural state machines for
flooding, cross-group duplicates and similarity to marked spam. No database, no clock.
"""

from shequn.moderation.behaviour import DuplicateDetector, FloodDetector, Similarity, SpamSamples
from shequn.moderation.detectors import (
    Message,
    MessageLike,
    ScanConfig,
    domain_allowed,
    find_cards,
    find_contacts,
    find_links,
    find_mentions,
    find_phones,
    find_qr,
    find_words,
    normalize_domains,
    scan,
)
from shequn.moderation.findings import CATEGORIES, Action, Category, Finding, Severity
from shequn.moderation.normalize import Normalized, Normalizer, default_normalizer
from shequn.moderation.wordlist import (
    WordList,
    WordMatch,
    WordMatcher,
    builtin_lists,
    builtin_matcher,
    format_words,
    parse_words,
)

__all__ = [
    "CATEGORIES",
    "Action",
    "Category",
    "DuplicateDetector",
    "Finding",
    "FloodDetector",
    "Message",
    "MessageLike",
    "Normalized",
    "Normalizer",
    "ScanConfig",
    "Severity",
    "Similarity",
    "SpamSamples",
    "WordList",
    "WordMatch",
    "WordMatcher",
    "builtin_lists",
    "builtin_matcher",
    "default_normalizer",
    "domain_allowed",
    "find_cards",
    "find_contacts",
    "find_links",
    "find_mentions",
    "find_phones",
    "find_qr",
    "find_words",
    "format_words",
    "normalize_domains",
    "parse_words",
    "scan",
]
