"""Spam as it is really posted in Chinese chat groups: ads with contact details and evasions.

Ad accounts carry WeChat ids, mobile numbers, QQ numbers, links to throwaway domains and QR
codes, and often disguise them (full-width digits, separators, 薇信 for 微信) to slip past
keyword filters. The moderation engine is measured against these.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_ID_LETTERS = "abcdefghijkmnpqrstuvwxyz"
_TLDS = ("top", "xyz", "cc", "vip", "club", "icu", "cn")
_DOMAIN_WORDS = ("jz", "hb", "fl", "vip", "fuli", "zq", "lq", "kx", "sq", "mall")
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_WECHAT_WORDS = (
    "加微信",
    "加V信",
    "vx：",
    "威信",
    "薇信：",
    "+v",
    "wx：",
    "加 微 信",
    "加*微*信",
    "v❤",
)

_AD_NICKNAMES = (
    "AAA批发-小雅",
    "AAA兼职日结",
    "A01优品推荐",
    "🔥好物分享",
    "微商代理招募",
    "💰副业导师",
    "宝妈兼职群主",
    "A-工厂直销",
)


@dataclass(frozen=True, slots=True)
class Ad:
    """One ad message: its kind, text, and for cards and pictures the link or decoded QR."""

    kind: str
    text: str | None
    url: str | None = None
    qr: str | None = None


def ad_nickname(rng: random.Random, ordinary: str) -> str:
    """Many spammers announce themselves in their nickname; others look like anyone."""
    return rng.choice(_AD_NICKNAMES) if rng.random() < 0.55 else ordinary


def _wechat_id(rng: random.Random) -> str:
    letters = "".join(rng.choice(_ID_LETTERS) for _ in range(rng.randint(3, 6)))
    return f"{letters}{rng.randint(10, 99999)}"


def _mobile(rng: random.Random) -> str:
    digits = f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
    style = rng.random()
    if style < 0.4:
        return digits
    if style < 0.65:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style < 0.85:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    return digits.translate(_FULL_WIDTH)


def _qq(rng: random.Random) -> str:
    return str(rng.randint(10_000_000, 3_999_999_999))


def _domain(rng: random.Random) -> str:
    return f"{rng.choice(_DOMAIN_WORDS)}{rng.randint(10, 9999)}.{rng.choice(_TLDS)}"


def _url(rng: random.Random) -> str:
    path = "".join(rng.choice(_ID_LETTERS) for _ in range(5))
    return f"https://{_domain(rng)}/{path}"


def _wechat_contact(rng: random.Random) -> str:
    return f"{rng.choice(_WECHAT_WORDS)}{_wechat_id(rng)}"


_TEXT_ADS = (
    "兼职日结，在家动动手指一天200+，有意者{wx}",
    "低价代购各大品牌化妆品，正品保证，{wx}",
    "刷单返利，一单一结，不收任何费用，加QQ {qq}",
    "招聘宝妈、学生党，手机操作，联系电话 {phone}",
    "点击领取888元新人红包 {url}",
    "工厂直销面包机、烤箱，价格是市场价一半，{wx} 电话{phone}",
    "免费领鸡蛋🥚，前50名，{wx}",
    "有需要贷款的朋友吗？当天放款，电话 {phone}",
    "内部渠道，名额有限 {url} 扣扣{qq}",
    "打扰了，不喜勿扰，{wx}有惊喜",
)


def _text_ad(rng: random.Random) -> Ad:
    template = rng.choice(_TEXT_ADS)
    text = template.format(wx=_wechat_contact(rng), qq=_qq(rng), phone=_mobile(rng), url=_url(rng))
    if rng.random() < 0.15:
        # Full-width digits defeat naive number patterns.
        text = text.translate(_FULL_WIDTH)
    return Ad("text", text)


def _link_ad(rng: random.Random) -> Ad:
    title = rng.choice(("限时福利，点击领取", "618同款低价清仓", "你有一个红包待领取"))
    return Ad("link", title, url=_url(rng))


def _qr_ad(rng: random.Random) -> Ad:
    if rng.random() < 0.5:
        code = "".join(rng.choice(_ID_LETTERS + "0123456789") for _ in range(16))
        decoded = f"https://weixin.qq.com/g/{code}"
    else:
        decoded = f"{_url(rng)}?c={rng.randint(1000, 9999)}"
    return Ad("image", None, url=f"https://{_domain(rng)}/qr.png", qr=decoded)


def advert(rng: random.Random) -> Ad:
    """One ad: mostly text with contact details, sometimes a link card or a QR picture."""
    roll = rng.random()
    if roll < 0.7:
        return _text_ad(rng)
    if roll < 0.85:
        return _qr_ad(rng)
    return _link_ad(rng)
