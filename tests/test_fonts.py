"""Chinese fonts: found, really able to draw Chinese, and a clear error when there is none.

pytest turns warnings into errors here, so a chart that would draw empty boxes ("Glyph … missing from
font(s)") fails these tests.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib import font_manager

from toolkit import fonts


@pytest.fixture
def fresh_font_cache():
    fonts.find_cjk_font.cache_clear()
    yield
    fonts.find_cjk_font.cache_clear()


def test_a_cjk_font_is_found_and_has_the_glyphs():
    font = fonts.find_cjk_font()
    assert font.path.is_file()
    assert fonts.has_glyphs(font.path, font.index, "不动产登记数据质量通报江岸区优良差")
    assert not fonts.has_glyphs(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf", 0, "数据"), (
        "DejaVu Sans has no Chinese: the glyph check itself must be able to say no"
    )


def test_chart_with_chinese_text_draws_without_missing_glyph_warnings():
    font = fonts.find_cjk_font()
    with fonts.use_cjk() as used:
        assert used == font
        fig, ax = plt.subplots()
        ax.set_title("全省不动产登记数据质量平均分")
        ax.set_xlabel("周期")
        ax.plot([1, 2, 3], [88.5, 90.1, -1.0])
        buf = io.BytesIO()
        fig.savefig(buf, format="png")  # a missing glyph would raise (filterwarnings = error)
        plt.close(fig)
        # the family matplotlib resolves for text is the Chinese font, not a fallback
        path = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
        assert Path(path).resolve() == font.path.resolve()
    assert buf.getbuffer().nbytes > 5000


def test_use_cjk_does_not_leak_settings():
    before = list(matplotlib.rcParams["font.sans-serif"])
    with fonts.use_cjk():
        assert matplotlib.rcParams["font.sans-serif"][0] == fonts.find_cjk_font().family
    assert matplotlib.rcParams["font.sans-serif"] == before


def test_clear_bilingual_error_when_no_font(monkeypatch, fresh_font_cache):
    dejavu = font_manager.FontEntry(
        fname=str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"), name="DejaVu Sans"
    )
    monkeypatch.delenv("DQ_CJK_FONT", raising=False)
    monkeypatch.setattr(fonts, "FONT_PACKAGES", ())
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [dejavu])
    with pytest.raises(fonts.CJKFontNotFoundError) as exc:
        fonts.find_cjk_font()
    msg = exc.value.message
    assert "找不到可显示中文的字体" in msg and "no font with Chinese glyphs" in msg
    assert "apt install fonts-noto-cjk" in msg
    assert "noto-cjk-sans-otc" in msg
    assert "DQ_CJK_FONT" in msg
    # without a font the HTML reports still work: they simply embed none
    assert fonts.font_face_css("数据质量") == ""


def test_env_variable_must_point_at_a_chinese_font(monkeypatch, fresh_font_cache):
    monkeypatch.setenv("DQ_CJK_FONT", str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"))
    with pytest.raises(fonts.CJKFontNotFoundError, match="DQ_CJK_FONT"):
        fonts.find_cjk_font()
    monkeypatch.setenv("DQ_CJK_FONT", "/nonexistent/font.ttf")
    fonts.find_cjk_font.cache_clear()
    with pytest.raises(fonts.CJKFontNotFoundError, match="不存在"):
        fonts.find_cjk_font()


def test_env_variable_selects_the_font(monkeypatch, fresh_font_cache):
    real = fonts.find_cjk_font()
    fonts.find_cjk_font.cache_clear()
    monkeypatch.setenv("DQ_CJK_FONT", str(real.path))
    chosen = fonts.find_cjk_font()
    assert chosen.source == "env" and chosen.path == real.path
    assert fonts.has_glyphs(chosen.path, chosen.index)


def test_embedded_web_font_is_a_subset_with_the_page_characters():
    from fontTools.ttLib import TTFont

    text = "湖北省不动产登记数据质量周报　江岸区 95.3 A2 ↑3"
    css = fonts.font_face_css(text)
    m = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", css)
    assert m and f"font-family:'{fonts.CSS_FAMILY}'" in css
    data = base64.b64decode(m.group(1))
    assert len(data) < 200_000, "a subset, not the whole 19 MB font"
    font = TTFont(io.BytesIO(data))
    cmap = font.getBestCmap()
    assert all(ord(c) in cmap for c in text if c != " ")
    assert ord("赣") not in cmap
