"""The release pack's charts and its HTML report, rendered from cleared values.

Given the cleared tables and derived values of one scope (all Wales, a type of body,
or one body) and the policy they were cleared under, :func:`render_charts` returns one
SVG chart per indicator and :func:`render_html` one report a board member can read:
headline findings per indicator, the tables with their symbols, the charts, and notes
on ``<10``, ``[c]`` and ``[z]``, the policy id and the release date.

The input types are the engine's: a :class:`~governance.sdc.clear.ClearedTable` holds
no hidden value, so none can reach the output. Hidden values appear only as their
symbols, in tables and as gaps in charts (never as zero bars). Every text is escaped
(``html.escape``) and the document is well-formed XHTML, so any XML parser reads it.
Output is deterministic: the same input gives the same bytes (the date is an input;
nothing reads the clock).

Pure: values in, text out. It never prints, logs or writes files; the release
workflow writes what it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape

from governance.charts import render_bar_chart
from governance.indicators import Catalogue, Indicator, load_catalogue
from governance.published import Published, Shown
from governance.reference import Reference, load_reference
from governance.report_views import TableView, View, build_view
from governance.sdc.clear import ClearedTable
from governance.sdc.derived import DerivedValue
from governance.sdc.policy import Labels

__all__ = ["PackContext", "chart_file_name", "render_charts", "render_html"]

_STYLE = """
body { font-family: Arial, sans-serif; color: #212b32; margin: 2em; max-width: 72em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
caption { text-align: left; font-weight: bold; padding: 0.4em 0; }
th, td { border: 1px solid #d8dde0; padding: 0.25em 0.5em; text-align: right; }
th[scope="row"], th[scope="col"] { background: #f0f4f5; }
th[scope="row"] { text-align: left; }
td.hidden { color: #425563; font-style: italic; background: #fafafa; }
.headline { font-size: 1.05em; } .meta { color: #425563; }
"""


@dataclass(frozen=True)
class PackContext:
    """What the report says about the pack: scope, period, policy and date."""

    title: str
    """E.g. ``NHS Wales Workforce Race Equality Standard 2026``."""
    scope: str
    """The scope's code in the body dimension: ``Wales``, a body type, or a body."""
    period: int
    policy_id: str
    policy_version: int
    policy_sha256: str
    release_date: date
    labels: Labels = field(default_factory=Labels)
    """The policy's symbols (``<10``, ``[c]``, ``[z]``), explained in the notes."""
    small_range: str = "1 to 9"
    """What the primary label means (``release_render.small_range``)."""


def chart_file_name(indicator_id: str) -> str:
    """The file name of an indicator's chart in the pack."""
    return f"chart-{indicator_id}.svg"


def _views(
    catalogue: Catalogue, published: Published, context: PackContext
) -> list[View]:
    return [
        build_view(
            catalogue,
            indicator,
            published,
            context.scope,
            not_computable=context.labels.not_computable,
        )
        for indicator in catalogue.indicators
    ]


def render_charts(
    context: PackContext,
    tables: Sequence[ClearedTable],
    derived: Sequence[DerivedValue],
    *,
    catalogue: Catalogue | None = None,
    reference: Reference | None = None,
) -> dict[str, str]:
    """Return one SVG chart per indicator: ``{file name: SVG text}``.

    Raises:
        KeyError: a table, column or derived value the catalogue needs is missing.
    """
    published = Published(tables, derived, reference or load_reference())
    views = _views(catalogue or load_catalogue(), published, context)
    return {chart_file_name(v.indicator.id): render_bar_chart(v.chart) for v in views}


def render_html(
    context: PackContext,
    tables: Sequence[ClearedTable],
    derived: Sequence[DerivedValue],
    *,
    catalogue: Catalogue | None = None,
    reference: Reference | None = None,
) -> str:
    """Return the pack's report as one XHTML document, charts inline.

    Raises:
        KeyError: a table, column or derived value the catalogue needs is missing.
    """
    catalogue = catalogue or load_catalogue()
    published = Published(tables, derived, reference or load_reference())
    views = _views(catalogue, published, context)
    # every table has the body dimension; the first names the scope
    scope_label = published.label(catalogue.tables[0].name, "body", context.scope)
    title = f"{context.title}: {scope_label}"
    out = [
        "<!DOCTYPE html>",
        '<html xmlns="http://www.w3.org/1999/xhtml" lang="en-GB" xml:lang="en-GB">',
        "<head>",
        '<meta charset="utf-8"/>',
        f"<title>{escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(_meta(context))}</p>',
        "<h2>Contents</h2>",
        "<ol>",
        *(
            f'<li><a href="#{escape(v.indicator.id)}">{escape(v.indicator.title)}</a></li>'
            for v in views
        ),
        '<li><a href="#notes">Notes on the figures</a></li>',
        "</ol>",
    ]
    for view in views:
        out += _section(view)
    out += _notes(context)
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def _meta(context: PackContext) -> str:
    return (
        f"WRES year {context.period} (staff in post at 31 March {context.period};"
        f" activity from 1 April {context.period - 1} to 31 March {context.period})."
        f" Released {context.release_date.isoformat()} under disclosure policy"
        f" {context.policy_id} version {context.policy_version}."
    )


def _reference_line(indicator: Indicator) -> str:
    england = (
        f"NHS England WRES indicator {indicator.wres_england}"
        if indicator.wres_england
        else "not an NHS England WRES indicator"
    )
    basis = (
        "definition follows NHS England's WRES"
        if indicator.basis == "nhs-england-wres"
        else "part of the working NHS Wales set"
    )
    domain = (
        f"; Wales domain: {indicator.wales_domain}" if indicator.wales_domain else ""
    )
    return f"{england}; {basis}{domain}."


def _section(view: View) -> list[str]:
    ind = view.indicator
    out = [
        f'<section id="{escape(ind.id)}">',
        f"<h2>{escape(ind.title)}</h2>",
        f'<p class="meta">{escape(_reference_line(ind))}</p>',
        '<div class="headline">',
        *(f"<p>{escape(sentence)}</p>" for sentence in view.headline),
        "</div>",
        f"<figure>{render_bar_chart(view.chart).rstrip()}</figure>",
        f"<p><strong>How it is computed.</strong> {escape(ind.formula)}</p>",
    ]
    for table in view.tables:
        out += _table(table)
    out.append("</section>")
    return out


def _cell(shown: Shown, tag_row: bool) -> str:
    text = escape(shown.text)
    if shown.header and tag_row:
        return f'<th scope="row">{text}</th>'
    if shown.header:
        return f"<td>{text}</td>"
    if shown.hidden:
        return f'<td class="hidden">{text}</td>'
    return f"<td>{text}</td>"


def _table(table: TableView) -> list[str]:
    out = [
        "<table>",
        f"<caption>{escape(table.caption)}</caption>",
        "<thead><tr>",
        *(f'<th scope="col">{escape(c)}</th>' for c in table.columns),
        "</tr></thead>",
        "<tbody>",
    ]
    for row in table.rows:
        cells = "".join(_cell(shown, i == 0) for i, shown in enumerate(row))
        out.append(f"<tr>{cells}</tr>")
    out += ["</tbody>", "</table>"]
    return out


def _notes(context: PackContext) -> list[str]:
    labels = context.labels
    items = [
        (
            labels.primary,
            (
                f"Fewer than ten people ({context.small_range}). The count is not"
                " published, and neither"
                " is any percentage, rate or relative likelihood built on it, because it"
                " would give the count back."
            ),
        ),
        (
            labels.secondary,
            (
                "Hidden to protect a small count elsewhere (complementary suppression):"
                " without it the small count could be worked out by subtraction from the"
                " totals. The hidden value is not necessarily small."
            ),
        ),
        (
            labels.not_computable,
            (
                "Not applicable: a percentage of a row with nobody in it, or a relative"
                " likelihood where a group has no people or no events."
            ),
        ),
    ]
    out = [
        '<section id="notes">',
        "<h2>Notes on the figures</h2>",
        "<dl>",
    ]
    for symbol, meaning in items:
        out += [f"<dt>{escape(symbol)}</dt>", f"<dd>{escape(meaning)}</dd>"]
    out.append("</dl>")
    for text in (
        (
            "Charts draw a value that is not published as a gap labelled with its symbol,"
            " never as a zero bar."
        ),
        (
            "Not stated: staff who declined to state their ethnicity (code Z) or were"
            " never asked (code 99). They are left out of relative likelihoods and shown"
            " as their own row elsewhere."
        ),
        (
            "Relative likelihood: the rate of the first group divided by the rate of the"
            " second; 1 means equal likelihood. The 95 % confidence interval uses the log"
            " method (Katz)."
        ),
        (
            "Percentage-point differences are worked out from the published, rounded"
            " percentages."
        ),
        (
            f"Disclosure policy: {context.policy_id} version {context.policy_version},"
            f" SHA-256 {context.policy_sha256}. Release date:"
            f" {context.release_date.isoformat()}."
        ),
    ):
        out.append(f"<p>{escape(text)}</p>")
    out.append("</section>")
    return out
