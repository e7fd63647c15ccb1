"""What simulated members of a bakery community are called and what they say.

Everything takes an explicit `random.Random`, so a seeded world always reads the same.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

BRAND = "幸福烘焙"
OWN_DOMAIN = "xfhb-bakery.cn"
"""The brand's own domain (shop, images): links to it are normal member talk, not ads."""


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    price_fen: int


PRODUCTS: tuple[Product, ...] = (
    Product("toast-milk", "北海道生吐司", 1990),
    Product("croissant-4", "黄油可颂 4只装", 3990),
    Product("egg-tart-6", "葡式蛋挞 6只", 2990),
    Product("bagel-wheat", "全麦贝果", 1290),
    Product("cheesecake", "重芝士蛋糕", 8800),
    Product("cake-6in", "6寸动物奶油蛋糕", 12900),
    Product("mooncake-box", "流心奶黄月饼礼盒", 16800),
    Product("annual-card", "年卡会员", 19900),
)
# Cheap everyday bread sells far more often than cakes and gift boxes.
PRODUCT_WEIGHTS: tuple[float, ...] = (30, 22, 20, 14, 6, 4, 3, 1)

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程苏魏吕丁"
)
_GIVEN = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂英华玉兰红建文辉琳婷雪晨悦欣怡佳琪思雨萱"
_CITIES = ("上海", "杭州", "苏州", "南京", "北京", "深圳", "广州", "成都", "武汉", "宁波", "无锡")
_JOBS = ("宝妈", "教师", "会计", "设计", "程序员", "护士", "销售", "学生", "自由职业", "HR", "律师")
_ADJECTIVES = (
    "快乐的",
    "爱吃",
    "安静的",
    "努力的",
    "慢慢",
    "小小",
    "今天也要",
    "一只",
    "元气",
    "佛系",
)
_NOUNS = (
    "小熊",
    "草莓",
    "兔子",
    "奶茶",
    "芝士",
    "猫咪",
    "饭团",
    "橘子",
    "面包",
    "布丁",
    "星星",
    "小鱼",
)
_LATIN = ("Lily", "Coco", "Amy", "Momo", "Kiki", "Jason", "Kevin", "Yoyo", "Vivian", "Echo", "Tony")
_NICK_EMOJI = ("🌸", "🍓", "🌈", "☀️", "🍰", "🐱", "🌙", "🍀", "✨", "💕")
_RELATIONS = ("姐", "哥", "老师", "阿姨", "妈妈", "总")


def _person_name(rng: random.Random) -> str:
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(_SURNAMES) + given


def formatted_nickname(rng: random.Random) -> str:
    """The 城市-姓名-职业 group card that operators ask members to set."""
    return f"{rng.choice(_CITIES)}-{_person_name(rng)}-{rng.choice(_JOBS)}"


def nickname(rng: random.Random) -> str:
    """A believable WeChat nickname; about one in five carries an emoji."""
    roll = rng.random()
    if roll < 0.25:
        name = rng.choice(_SURNAMES) + rng.choice(_RELATIONS)
    elif roll < 0.35:
        name = "小" + rng.choice(_SURNAMES)
    elif roll < 0.6:
        name = rng.choice(_ADJECTIVES) + rng.choice(_NOUNS)
    elif roll < 0.75:
        name = rng.choice(_LATIN)
    elif roll < 0.9:
        name = _person_name(rng)
    else:
        name = formatted_nickname(rng)
    if rng.random() < 0.2:
        emoji = rng.choice(_NICK_EMOJI)
        name = name + emoji if rng.random() < 0.6 else emoji + name
    return name


def price_text(fen: int) -> str:
    yuan, cents = divmod(fen, 100)
    if cents == 0:
        return f"¥{yuan}"
    return f"¥{yuan}.{cents:02d}".rstrip("0")


_GREETINGS = (
    "大家好",
    "大家好呀～新人报到",
    "新人报到，请多关照[抱拳]",
    "hello 大家好👋",
    "朋友推荐进来的，大家好",
    "大家好，住附近，经常去店里买面包",
)
_MORNING = ("早上好☀️", "早安", "早呀各位", "早[太阳]", "大家早上好，今天有什么新品吗")
_EVENING = ("晚安🌙", "晚安各位", "睡了睡了，明天见", "今天的面包吃完了😂")
_SMALL_TALK = (
    "哈哈哈哈",
    "👍",
    "[强]",
    "[呲牙]",
    "收到",
    "好的",
    "谢谢群主[玫瑰]",
    "学到了",
    "+1",
    "同问",
    "今天天气真好",
    "孩子放学回来一口气吃了两个😂",
    "周末有人去店里吗",
    "下雨了，大家出门带伞",
    "有没有人拼单呀",
    "这个群好热闹",
    "潜水好久了，冒个泡",
    "哈哈，我也是",
    "真的假的😮",
    "下午茶时间到[咖啡]",
)
_QUESTIONS = (
    "{p}今天还有吗？",
    "{p}多少钱呀",
    "请问{p}能放几天？",
    "{p}是动物奶油吗",
    "有无糖的吗？家里老人要控糖",
    "周末能配送到浦东吗？",
    "请问怎么下单呀",
    "优惠券在哪里领？",
    "年卡会员有什么权益？",
    "满多少包邮啊",
    "{p}可以预定吗？想周六来拿",
    "今天几点关门？",
)
_ANSWERS = (
    "有的，小程序里直接下单就行",
    "{price} 一份，会员还能再打九五折",
    "冷藏可以放3天，吃之前烤一下更香",
    "满99包邮，同城当天送到",
    "我上周买过{p}，很好吃👍",
    "在公众号菜单「幸福烘焙」里可以预定",
    "群公告里有优惠券链接",
    "可以的，备注一下取货时间",
    "微信支付就行，下单后会有通知",
    "晚上九点关门",
    "问一下群主吧@群主",
)
_PRODUCT_TALK = (
    "刚下单了{p}，{price}，期待！",
    "晒单！{p}真香😋",
    "{p}回购第三次了",
    "今天的{p}有点甜，下次想要少糖的",
    "{p}{price}，比外面便宜不少",
    "已用微信支付，{p}明天到",
    "给孩子买了{p}，说比蛋糕店的好吃",
)
_CHECKINS = ("签到", "打卡", "#签到", "签到✅", "早安打卡", "打卡打卡", "今日签到")
_HOLIDAY = ("国庆快乐🇨🇳", "假期愉快～", "国庆去哪玩了大家", "景点人好多，还是在家吃面包吧😂")
_ORDER_TALK = (
    "订单号 {order} 什么时候发货呀？",
    "订单号 {order}，已经微信支付了，怎么还没通知",
    "我的订单 {order} 能改成自提吗",
    "订单号{order} 收到了，包装很用心👍",
)
_REDPACKET = ("恭喜发财，大吉大利", "感谢大家🧧", "新人红包，请大家吃蛋挞")


def pick_product(rng: random.Random) -> Product:
    return rng.choices(PRODUCTS, weights=PRODUCT_WEIGHTS)[0]


def _fill(template: str, rng: random.Random) -> str:
    product = pick_product(rng)
    return template.format(p=product.name, price=price_text(product.price_fen))


def greeting(rng: random.Random) -> str:
    return rng.choice(_GREETINGS)


def checkin(rng: random.Random, streak: int) -> str:
    if streak >= 3 and rng.random() < 0.3:
        return f"#打卡 第{streak}天"
    return rng.choice(_CHECKINS)


def question(rng: random.Random) -> str:
    return _fill(rng.choice(_QUESTIONS), rng)


def answer(rng: random.Random) -> str:
    return _fill(rng.choice(_ANSWERS), rng)


def order_talk(rng: random.Random, order_id: str) -> str:
    return rng.choice(_ORDER_TALK).format(order=order_id)


def redpacket_greeting(rng: random.Random) -> str:
    return rng.choice(_REDPACKET)


def chat_line(rng: random.Random, hour: int, holiday: bool) -> str:
    """A free-standing line of chat, coloured by the time of day and the calendar."""
    roll = rng.random()
    if 5 <= hour < 10 and roll < 0.25:
        return rng.choice(_MORNING)
    if hour >= 22 and roll < 0.3:
        return rng.choice(_EVENING)
    if holiday and roll < 0.12:
        return rng.choice(_HOLIDAY)
    if roll < 0.6:
        return rng.choice(_SMALL_TALK)
    if roll < 0.8:
        return question(rng)
    return _fill(rng.choice(_PRODUCT_TALK), rng)


def is_question(text: str) -> bool:
    return text.endswith(("?", "？", "吗", "呀", "啊"))


def product_link(rng: random.Random) -> tuple[str, str]:
    """A shop card or a Xiaohongshu note, as (title, url)."""
    product = pick_product(rng)
    if rng.random() < 0.7:
        return f"【{BRAND}】{product.name}", f"https://m.{OWN_DOMAIN}/p/{product.sku}"
    code = "".join(
        rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789") for _ in range(6)
    )
    return f"{product.name}｜打工人的早餐救星", f"http://xhslink.com/a/{code}"


def image_url(rng: random.Random) -> str:
    return f"https://img.{OWN_DOMAIN}/chat/{rng.getrandbits(48):012x}.jpg"
