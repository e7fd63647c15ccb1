"""The `poster` workload: personal posters drawn per second cold (each one new) and served
from the cache, against encoding a blank PNG of the same size with Pillow in the same run
(the least any poster can cost)."""

from __future__ import annotations

import io
import time
from typing import Any

from PIL import Image

from shequn.growth.posters import PosterCache, PosterSpec

COLD = 60
CACHED = 3000


def _spec(i: int) -> PosterSpec:
    return PosterSpec(
        title="春季老带新 · 邀请好友得红包",
        copy_text="邀请 3 位好友进群，即得 10 元红包，多邀多得！",
        nickname=f"参与者{i:04d}",
        qr_text=f"http://127.0.0.1:8000/l/AbCdEfGhIjKl?i=u-{i:06d}",
        hint="长按识别二维码 加入社群",
    )


def bench_poster(cold: int = COLD, cached: int = CACHED, **_: Any) -> dict[str, Any]:
    specs = [_spec(i) for i in range(cold)]
    cache = PosterCache(size=cold + 1)
    cache.get(_spec(-1))  # fonts and code paths loaded before timing
    started = time.perf_counter()
    for spec in specs:
        cache.get(spec)
    cold_s = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(cached):
        cache.get(specs[i % cold])
    cached_s = time.perf_counter() - started
    first = specs[0]
    started = time.perf_counter()
    for _i in range(cold):
        out = io.BytesIO()
        Image.new("RGB", (first.width, first.height), first.background).save(out, format="PNG")
    base_s = time.perf_counter() - started
    rate, baseline = cold / cold_s, cold / base_s
    return {
        "workload": "poster",
        "posters": cold,
        "rate": round(rate, 1),
        "seconds": round(cold_s, 3),
        "cached_rate": round(cached / cached_s),
        "cached_seconds": round(cached_s, 3),
        "baseline_rate": round(baseline, 1),
        "baseline_seconds": round(base_s, 3),
        "ratio": round(rate / baseline, 3),
        "unit": "posters/s",
    }
