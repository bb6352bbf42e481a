"""The outbox as a table: `flowengine notifications list` in every file format, and the
dead-letter list (`--failed`: the notifications delivery gave up on) an office keeps to
reach those people another way.

Why a grid: the same rows then print as text, CSV, XLSX and HTML with the same escaping
and the same formula-injection rule (sheets.py); a recipient or a message comes from case
data (a petitioner named `=1+1`) and must stay text in a spreadsheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..clock import DEFAULT_TZ
from ..store.base import OutboxRow
from .sheets import Cell, Grid

_HEAD = {"zh": ("编号", "案件", "事件序号", "渠道", "通知", "对象", "状态", "尝试次数", "生成时间",
                "下次尝试", "送达时间", "最后错误", "内容"),
         "en": ("id", "case", "seq", "channel", "notice", "to", "status", "attempts",
                "created at", "next attempt", "delivered at", "last error", "text")}
_STATUS = {"pending": "待发送", "delivered": "已送达", "dead": "投递失败"}
_TITLE = {("zh", True): "投递失败的通知（死信）", ("en", True): "Dead letters (delivery gave up)",
          ("zh", False): "通知发件箱", ("en", False): "Outbox"}


def outbox_title(lang: str, dead_only: bool) -> str:
    return _TITLE[("zh" if lang == "zh" else "en", dead_only)]


def outbox_grid(rows: Sequence[OutboxRow], lang: str = "zh", dead_only: bool = False) -> Grid:
    """One row per outbox row, oldest first as the store lists them; the message in `lang`
    (or the first one the notice has)."""
    zh = lang == "zh"
    return Grid(outbox_title(lang, dead_only), list(_HEAD["zh" if zh else "en"]),
                [_row(r, lang) for r in rows])


def _row(r: OutboxRow, lang: str) -> list[Cell]:
    p = r.payload
    messages = p.get("messages") or {}
    text = messages.get(lang) or next(iter(messages.values()), "")
    notice = str(p.get("title") or p.get("name") or p.get("kind") or "")
    status = _STATUS.get(r.status, r.status) if lang == "zh" else r.status
    return [r.id, r.case_id, r.seq, r.channel, notice, "、".join(map(str, p.get("to") or ())),
            status, r.attempts, _iso(r.created_at), _iso(r.next_attempt_at),
            _iso(r.delivered_at), r.last_error or "", str(text)]


def _iso(value: datetime | None) -> str:
    """Local time in Asia/Shanghai (the offices' zone) to the minute: what a reader
    needs; the JSON keeps the instant with its offset."""
    if value is None:
        return ""
    return value.astimezone(DEFAULT_TZ).strftime("%Y-%m-%d %H:%M")


__all__ = ["outbox_grid", "outbox_title"]
