"""The `moderation` benchmark: messages per second through the normaliser and every content
detector, against the baseline of normalising and running the word automaton alone, and the
CPU time the text classifier adds per message.

Texts and the word list are synthetic and generated from a seed, so runs are comparable.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from shequn.moderation.classifier import starter_model
from shequn.moderation.detectors import Message, ScanConfig, scan
from shequn.moderation.normalize import default_normalizer
from shequn.moderation.wordlist import WordList, WordMatcher, builtin_lists

__all__ = ["bench_scan", "synthetic_messages", "synthetic_words"]

# Everyday group chat, in pieces that are joined at random.
_CHAT = (
    "大家好", "今天的直播几点开始呀", "我想看看新品", "签到", "打卡第{n}天", "收到，谢谢",
    "这个多少钱", "¥{p}包邮吗", "我用微信付的", "订单号{order}", "麻烦帮我查一下",
    "快递到了吗", "单号SF{track}", "好的。谢谢老师！", "明天见", "哈哈哈哈", "😀😀",
    "🌹🌹🌹", "有优惠券吗", "宝宝能用吗", "尺码偏大还是偏小", "质量很好，好评👍",
    "活动时间 {d}", "群规说不能发广告", "红包雨几点开始", "谁帮我砍一刀", "积分怎么兑换",
    "老师讲得太好了", "作业在哪里提交", "新人报到", "我是做设计的", "天气转凉了",
    "注意保暖", "周末去哪玩", "一起加油", "Thanks for sharing", "see you tomorrow",
    "版本1.2.{n}更新了", "链接失效了", "能再发一下吗", "小程序里能直接下单吗",
    "已下单，坐等收货", "今天又是元气满满的一天", "我也想要同款", "有没有一起拼单的",
)  # fmt: skip

# Ads in the shapes spammers use; `{id}` and `{phone}` are filled per message.
_ADS = (
    "兼职刷单，日结{p}，加薇♥信：{id}",
    "想赚钱的宝妈看过来，vx：{id}",
    "贷款秒批，无抵押，电话 {phone_spaced}",
    "澳门新葡京，注册送彩金 www.{id}.com",
    "加 V 信 {id} 领取福利",
    "扣扣：{qq} 进群领资料",
    "约炮 同城 {id}点xyz",
    "👉 t.cn/{id} 点击领取",
)

_WORD_CHARS = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之"
    "过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如"
    "前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其"
    "种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政"
    "海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比"
    "住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司"
)


def synthetic_words(n_words: int, seed: int = 1) -> list[str]:
    """`n_words` distinct words: the built-in lists plus random 2–4 character words.

    Each random word starts with a common character and continues with characters from
    the whole CJK block, as real lists combine everyday characters in unusual ways. (Words
    made only of the commonest characters hit about a quarter of ordinary messages.)
    """
    rng = random.Random(seed)
    form = default_normalizer().text
    # Keyed by normalised form, so the automaton gets exactly `n_words` patterns.
    words = {form(w): w for lst in builtin_lists() for w in lst.words}
    while len(words) < n_words:
        rest = [chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(1, 3))]
        word = rng.choice(_WORD_CHARS) + "".join(rest)
        words.setdefault(form(word), word)
    return list(words.values())[:n_words]


def _fill(template: str, rng: random.Random) -> str:
    phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    return template.format(
        n=rng.randint(1, 99),
        p=f"{rng.randint(9, 999)}.{rng.randint(0, 9)}",
        order=rng.randrange(10**19, 10**20),
        track=rng.randrange(10**12, 10**13),
        d=f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日 {rng.randint(10, 23)}点",
        id="".join(rng.choices("abcdefghjkmnpqrstuvwxyz", k=4)) + str(rng.randint(10, 9999)),
        qq=rng.randint(10**5, 10**10),
        phone_spaced=f"{phone[:3]} {phone[3:7]} {phone[7:]}",
    )


def synthetic_messages(n_messages: int, seed: int = 1, ad_share: float = 0.05) -> list[str]:
    """Chat-like texts, 1–3 pieces each, with `ad_share` of them ads."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n_messages):
        if rng.random() < ad_share:
            texts.append(_fill(rng.choice(_ADS), rng))
        else:
            pieces = rng.choices(_CHAT, k=rng.randint(1, 3))
            texts.append("，".join(_fill(p, rng) for p in pieces))
    return texts


def bench_scan(n_messages: int = 200_000, n_words: int = 20_000, seed: int = 1) -> dict[str, Any]:
    """Messages/s of `scan` and of the normalise+automaton baseline over the same texts.

    The two are timed in alternating chunks, so a busy machine slows both alike and the
    ratio stays meaningful.
    """
    words = synthetic_words(n_words, seed)
    matcher = WordMatcher([WordList("bench", "ads", tuple(words))])
    config = ScanConfig(words=matcher)
    messages = [Message(text) for text in synthetic_messages(n_messages, seed)]
    normalizer = default_normalizer()
    text_of = normalizer.text
    find = matcher.find_indexes

    def full(chunk: list[Message]) -> None:
        for message in chunk:
            scan(message, config)

    def baseline(chunk: list[Message]) -> None:
        for message in chunk:
            find(text_of(message.text or ""))

    full(messages[:1000])  # warm-up: compiled tables, regex caches
    full_seconds = baseline_seconds = 0.0
    for start in range(0, len(messages), _CHUNK):
        chunk = messages[start : start + _CHUNK]
        baseline_seconds += _seconds(baseline, chunk)
        full_seconds += _seconds(full, chunk)
    flagged = sum(1 for message in messages if scan(message, config))
    classifier_us = _classifier_cpu_us(messages[:_CHUNK])
    rate = len(messages) / full_seconds
    baseline_rate = len(messages) / baseline_seconds
    return {
        "workload": "moderation",
        "messages": len(messages),
        "words": len(matcher),
        "rate": round(rate),
        "baseline_rate": round(baseline_rate),
        "ratio": round(rate / baseline_rate, 3),
        "flagged_share": round(flagged / len(messages), 3),
        "classifier_cpu_us": classifier_us,
    }


def _classifier_cpu_us(messages: list[Message]) -> float:
    """CPU microseconds the starter model adds per message (normalised text given): CPU
    time, so a busy machine does not inflate it."""
    model = starter_model()
    normalizer = default_normalizer()
    texts = [normalizer(message.text or "") for message in messages]
    started = time.process_time()
    for norm in texts:
        model.probability(norm)
    return round((time.process_time() - started) / len(texts) * 1e6, 1)


_CHUNK = 10_000


def _seconds(run: Callable[[list[Message]], None], chunk: list[Message]) -> float:
    started = time.perf_counter()
    run(chunk)
    return time.perf_counter() - started


if __name__ == "__main__":
    print(bench_scan())
