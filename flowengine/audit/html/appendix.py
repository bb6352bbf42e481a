"""The per-case appendix of the HTML report (`report --format html --cases`): an index
table whose case ids link to one block per case (process, state, dates, and each deadline
with its due date, outcome and provisional mark), each block linking back to the index.

Why blocks and not one long table: a printed case should not be split across pages
(`break-inside: avoid`), and a reader following a link lands on the case's own heading.
The numbers are those of `Report.appendix`, which the JSON report prints too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ..report.appendix import (
    CaseLine,
    DeadlineLine,
    appendix_header,
    appendix_title,
    outcome_word,
    provisional_note,
    status_word,
)
from .page import esc

_BACK = {"zh": "返回案件目录", "en": "back to the list of cases"}
_LEAD = {"zh": ("流程", "收件", "结案", "最近事件", "未结案"),
         "en": ("process", "received", "closed", "last event", "not closed")}
_NONE = {"zh": "本案没有期限。", "en": "No deadline."}
# the index shows case, state, received, closed, deadlines, late (A4 is narrow); the
# process and the latest event are in each case's block
_INDEX = (0, 2, 3, 4, 6, 7)


def anchor(case_id: str) -> str:
    return f"case-{case_id}"


def appendix_section(lines: Sequence[CaseLine], lang: str) -> str:
    """The section: the index, then one article per case."""
    title = appendix_title("cases", lang)
    header = appendix_header("cases", lang)
    index = _table([header[i] for i in _INDEX], [_index_row(c, lang) for c in lines],
                   "appendix-index")
    blocks = "\n".join(_case(c, lang) for c in lines)
    return (f'<section data-section="appendix" id="cases">\n<h2>{esc(title)}</h2>\n'
            f"{index}\n{blocks}\n</section>")


def _index_row(c: CaseLine, lang: str) -> list[str]:
    link = f'<a href="#{esc(anchor(c.id))}">{esc(c.id)}</a>'
    late = f'<td class="num{" warn" if c.late else ""}">{c.late}</td>'
    return [f"<td>{link}</td>", _td(c.state_title if lang == "zh" else c.state),
            _date(c.received), _date(c.closed), f'<td class="num">{len(c.deadlines)}</td>',
            late]


def _case(c: CaseLine, lang: str) -> str:
    zh = lang == "zh"
    w = _LEAD["zh" if zh else "en"]
    closed = c.closed.isoformat() if c.closed else w[4]
    last = c.last_event.isoformat() if c.last_event else ""
    lead = (f"{w[0]}: {c.process_title if zh else c.process} · {w[1]}: "
            f"{c.received.isoformat()} · {w[2]}: {closed} · {w[3]}: {last}")
    state = c.state_title if zh else c.state
    head = appendix_header("deadlines", lang)[1:]
    body = (_table(head, [_deadline_row(d, lang) for d in c.deadlines], "appendix-deadlines")
            if c.deadlines else f'<p class="note">{esc(_NONE["zh" if zh else "en"])}</p>')
    back = f'<a class="back" href="#cases">{esc(_BACK["zh" if zh else "en"])}</a>'
    return (f'<article class="case" id="{esc(anchor(c.id))}" data-case="{esc(c.id)}">\n'
            f"<h3>{esc(c.id)} · {esc(state)}</h3>\n<p class=\"lead\">{esc(lead)} · {back}</p>\n"
            f"{body}\n</article>")


def _deadline_row(d: DeadlineLine, lang: str) -> list[str]:
    cls = {"late": "warn", "on_time": "ok"}.get(d.outcome, "")
    outcome = (f'<td class="{cls}" data-outcome="{esc(d.outcome)}">'
               f"{esc(outcome_word(d.outcome, lang))}</td>")
    note = provisional_note(d.provisional, lang)
    due = f'<td class="date">{esc(_iso(d.due))}{" *" if note else ""}</td>'
    return [_td(d.title if lang == "zh" else d.name), _date(d.counted_from), due,
            _date(d.stopped), _td(status_word(d.status, lang)),
            outcome, f'<td class="num">{d.extensions}</td>',
            f'<td class="provisional">{esc(note)}</td>']


def _table(header: Sequence[str], rows: Sequence[list[str]], kind: str) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    return (f'<table data-table="{esc(kind)}"><thead><tr>{head}</tr></thead>\n<tbody>\n'
            f"{body}\n</tbody></table>")


def _td(text: str) -> str:
    return f"<td>{esc(text)}</td>"


def _date(value: date | None) -> str:
    return f'<td class="date">{esc(_iso(value))}</td>'


def _iso(value: object) -> str:
    return "" if value is None else str(value)


__all__ = ["anchor", "appendix_section"]
