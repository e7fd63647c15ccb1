from __future__ import annotations

import pytest

from shequn.events import MessagePostedData
from shequn.moderation.detectors import (
    Message,
    ScanConfig,
    domain_allowed,
    find_cards,
    find_contacts,
    find_links,
    find_mentions,
    find_phones,
    find_qr,
    normalize_domains,
    scan,
)
from shequn.moderation.normalize import default_normalizer
from shequn.moderation.wordlist import WordList, WordMatcher

norm = default_normalizer()


def values(findings: list) -> list[str | None]:  # type: ignore[type-arg]
    return [f.value for f in findings]


# --- links ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("访问 www.pj8888.com 注册", "www.pj8888.com"),
        ("👉 t.cn/A6xYz12 点击领取", "t.cn"),
        ("http://bit.ly/3xYzAbc 免费", "bit.ly"),
        ("https://shop.example/path", "shop.example"),  # any TLD after a scheme
        ("网址 abc.xyz", "abc.xyz"),
        ("ＷＷＷ．ＡＢＣ．ＣＯＭ", "www.abc.com"),
        ("网址：xx88点com", "xx88.com"),
        ("官网 pjyl 点 net", "pjyl.net"),
        ("wx88 。 com", "wx88.com"),
        ("hgvip(.)com", "hgvip.com"),
        ("sex[.]cn", "sex.cn"),
        ("xr888 dot com", "xr888.com"),
        ("my-shop.top/abc", "my-shop.top"),
    ],
)
def test_links_found(text: str, host: str) -> None:
    assert values(find_links(norm(text))) == [host]


@pytest.mark.parametrize(
    "text",
    [
        "版本1.2.3有bug",
        "价格 ¥39.9 包邮吗？",
        "3.5折太划算了",
        "后台是 node.js 写的吗",
        "好的。谢谢老师！明天见",
        "ok.thanks",
        "下午3点开会",
        "python3.11 装不上",
    ],
)
def test_not_links(text: str) -> None:
    assert find_links(norm(text)) == []


def test_allowed_domains_and_their_subdomains() -> None:
    allowed = normalize_domains(["https://Shequn.Example.com/join", "brand.cn"])
    assert allowed == frozenset({"shequn.example.com", "brand.cn"})
    assert find_links(norm("活动页 live.shequn.example.com/x"), allowed) == []
    assert find_links(norm("官网 brand.cn"), allowed) == []
    assert values(find_links(norm("fakebrand.cn"), allowed)) == ["fakebrand.cn"]
    assert domain_allowed("a.b.brand.cn", allowed)
    assert not domain_allowed("brand.cn.evil.com", allowed)


def test_link_evidence_is_the_original_text() -> None:
    (finding,) = find_links(norm("快来 ＷＷＷ．ＡＢＣ．ＣＯＭ 领取"))
    assert finding.evidence == "ＷＷＷ．ＡＢＣ．ＣＯＭ"
    assert finding.span == (3, 14)


# --- phones --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "电话13812345678",
        "电话 138 1234 5678",
        "138-1234-5678 专业办证",
        "1３８ 1２３４ ５６７８",
        "电话一三八 一二三四 五六七八",
        "①③⑧①②③④⑤⑥⑦⑧",
        "1 3 8 1 2 3 4 5 6 7 8",
        "138.1234.5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "008613812345678",
        "两个号码 13812345678 13912345678",
    ],
)
def test_phones_found(text: str) -> None:
    assert values(find_phones(norm(text)))[0] == "13812345678"


@pytest.mark.parametrize(
    "text",
    [
        "订单号 20241122138001380012，帮我查一下",  # 20 digits with a phone inside
        "订单号 2024112213800138001 2",
        "快递单号 SF1234567890123",
        "单号SF8615840861630",  # 86 + eleven digits, but no "+"
        "中通快递 75312345678901 到哪了",
        "价格表：139、1299、2999元三档",
        "第1、3、5、7、9、11、13、15期都参加了",
        "直播时间 2024.11.22 20:00",
        "今天 2024-11-22 13:30 开会",
        "原价1399.00元，现价1299.00元",
        "手机尾号 5678 的是我",
        "客服电话打不通",
        "12345678901",  # not a mobile prefix
    ],
)
def test_not_phones(text: str) -> None:
    assert find_phones(norm(text)) == []


def test_phone_evidence() -> None:
    (finding,) = find_phones(norm("电话：一三八 一二三四 五六七八，快"))
    assert finding.evidence == "一三八 一二三四 五六七八"
    assert finding.detector == "phone"
    assert finding.punishing


# --- WeChat, QQ, Telegram ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detector", "value"),
    [
        ("加V信 abc123 领取福利", "wechat", "abc123"),
        ("有意者加薇♥信：xiaomei_8899", "wechat", "xiaomei8899"),
        ("vx：yy520520", "wechat", "yy520520"),
        ("加我威信 lily0520", "wechat", "lily0520"),
        ("加微 baoma666", "wechat", "baoma666"),
        ("+V：zhuan_qian_1", "wechat", "zhuanqian1"),
        ("微信号：helloworld", "wechat", "helloworld"),
        ("vx：qunyinliu", "wechat", "qunyinliu"),
        ("需要的加我微信 wxid_kd83jd02", "wechat", "wxidkd83jd02"),
        ("加 V 信 wxqe255 领取", "wechat", "wxqe255"),  # wx inside an id stays
        ("vx123456", "wechat", "123456"),
        ("有需要的私聊我，V：lucky666", "wechat", "lucky666"),
        ("扣扣：一二三四五六七八", "qq", "12345678"),
        ("想要资源的+q：3312456789", "qq", "3312456789"),
        ("ＱＱ：５５６６７７８８９", "qq", "556677889"),
        ("企鹅号 2233445566", "qq", "2233445566"),
        ("QQ群号：886655443", "qq", "886655443"),
        ("TG：@dubo888", "telegram", "dubo888"),
    ],
)
def test_contacts_found(text: str, detector: str, value: str) -> None:
    findings = find_contacts(norm(text))
    assert (findings[0].detector, findings[0].value) == (detector, value)


@pytest.mark.parametrize(
    "text",
    [
        "我用微信付的，已经下单了",
        "可以用微信支付吗？",
        "这个是微信群还是企业微信群？",
        "微信零钱不够了",
        "刚才微信转账给你了，12800元",
        "微信转了12800元",
        "我微信版本8.0.49打不开",
        "电脑版微信windows打不开",
        "微信号是多少呀？我加一下",
        "QQ音乐的会员能一起领吗",
        "我QQ号被盗了，郁闷",
        "Q2的销量比Q1好很多",
        "vivo手机也能用吗",
        "vip会员有什么权益",
        "look at google please",
        "我坐飞机去shanghai",
    ],
)
def test_not_contacts(text: str) -> None:
    assert find_contacts(norm(text)) == []


def test_contact_evidence_quotes_the_evasion() -> None:
    (finding,) = find_contacts(norm("快 加😀微😀信：hao123hao 带你"))
    assert finding.evidence == "加😀微😀信：hao123hao"


# --- what a message carries -----------------------------------------------------------


def test_qr_codes() -> None:
    allowed = normalize_domains(["shequn.example"])
    assert values(find_qr("https://u.wechat.com/abc", allowed)) == ["u.wechat.com"]
    assert find_qr("https://l.shequn.example/l/abc", allowed) == []
    (finding,) = find_qr("BEGIN:VCARD", allowed)
    assert finding.detector == "qr" and finding.punishing


def test_cards_are_low_severity() -> None:
    (card,) = find_cards("miniprogram", None)
    assert card.severity == "low" and not card.punishing
    (link,) = find_cards("link", "https://mp.weixin.qq.com/s/abc")
    assert link.value == "mp.weixin.qq.com"
    assert (
        find_cards("link", "https://shequn.example/x", normalize_domains(["shequn.example"])) == []
    )
    assert find_cards("text", None) == []


def test_mass_mentions() -> None:
    assert find_mentions(["u1", "u2", "u3", "u4"], None) == []
    (finding,) = find_mentions(["u1", "u2", "u3", "u4", "u5"], None)
    assert finding.value == "5" and finding.punishing
    assert find_mentions(["u1"] * 6, None) == []  # the same member six times is one
    assert values(find_mentions(None, "@a @b @c", threshold=3)) == ["3"]


# --- scan ------------------------------------------------------------------------------


def test_scan_runs_every_detector() -> None:
    message = Message(
        "加V信 abc123，电话 138 1234 5678，网址 www.pj8888.com，兼职刷单",
        kind="image",
        qr="https://u.wechat.com/abc",
        mentions=[f"u{i}" for i in range(6)],
    )
    detectors = {f.detector for f in scan(message)}
    assert detectors == {"wechat", "phone", "link", "words", "qr", "mentions"}


def test_scan_clean_chat() -> None:
    for text in ["我用微信付的", "订单号 20241122138001380012", "签到", "¥39.9 包邮吗😀"]:
        assert scan(Message(text)) == []


def test_scan_accepts_event_data() -> None:
    data = MessagePostedData(message_id="m-1", kind="text", text="扣扣：九八七六五四三二一")
    assert [f.detector for f in scan(data)] == ["qq"]


def test_scan_config_switches_and_own_word_lists() -> None:
    matcher = WordMatcher([WordList("competitors", "competitors", ("某某社群",), action="notify")])
    config = ScanConfig(words=matcher, phones=False, allowed_domains=frozenset({"pj8888.com"}))
    findings = scan(Message("来某某社群，电话13812345678，www.pj8888.com"), config)
    assert [(f.detector, f.category, f.action) for f in findings] == [
        ("words", "competitors", "notify")
    ]


def test_builtin_words_by_category() -> None:
    findings = scan(Message("澳门赌场 百家乐，约炮，兼职刷单"))
    assert {(f.category, f.value) for f in findings} == {
        ("gambling", "澳门赌场"),
        ("gambling", "百家乐"),
        ("porn", "约炮"),
        ("ads", "兼职刷单"),
    }


@pytest.mark.parametrize(
    "text",
    [
        "麻烦帮我查一下，注意保暖",  # 下注 across a comma
        "路口交通好堵",
        "这个活动叫做爱心义卖",
        "这款牙刷单价多少",
        "用刷子刷粉底液更服帖",
        "今日赚了多少积分？",
    ],
)
def test_builtin_words_do_not_fire_across_ordinary_words(text: str) -> None:
    assert scan(Message(text)) == []
