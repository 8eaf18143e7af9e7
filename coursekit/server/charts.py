"""The dashboard's two charts as inline SVG, drawn from numbers (no image files, no script): the score distribution
and, per exercise, the share of the class that made each registered mistake.

They are a few rectangles and labels each, so they are drawn here rather than by matplotlib: a dashboard
that is asked for every few seconds while a queue drains must answer in milliseconds. Every label is
escaped (a mistake's name is the lesson's text, a student's id never appears).
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from coursekit.server import messages
from coursekit.server.views import BINS, Mistake, mistake_words

WIDTH, HEIGHT, MARGIN = 560, 200, 28
BAR_COLOUR, MISTAKE_COLOUR = "#0969da", "#cf222e"


def distribution_svg(counts: list[int]) -> Markup:
    """A histogram of ``counts`` (one per tenth of the points), with each bar's range and count as its title."""
    top = max(counts) or 1
    inner_w, inner_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    step = inner_w / len(counts)
    parts = [f'<svg class="distribution" role="img" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
             f'<title>{escape(str(messages.DISTRIBUTION_HEADING))}</title>',
             f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" '
             'stroke="#57606a"/>']
    for index, count in enumerate(counts):
        height = inner_h * count / top
        x = MARGIN + index * step
        label = messages.DISTRIBUTION_LABEL.format(low=index * 100 // BINS, high=(index + 1) * 100 // BINS,
                                                   count=count)
        parts.append(f'<rect x="{x + 2:.1f}" y="{HEIGHT - MARGIN - height:.1f}" width="{step - 4:.1f}" '
                     f'height="{height:.1f}" fill="{BAR_COLOUR}"><title>{escape(label)}</title></rect>')
        if count:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - MARGIN - height - 4:.1f}" font-size="11" '
                         f'text-anchor="middle">{count}</text>')
        parts.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - MARGIN + 14:.1f}" font-size="10" '
                     f'text-anchor="middle">{index * 100 // BINS}%</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def mistakes_svg(mistakes: list[Mistake]) -> Markup:
    """A horizontal bar per mistake: its share of the students graded on the lesson, labelled "31% name"."""
    row, label_w, bar_w = 22, 330, WIDTH - 340
    height = row * len(mistakes) + 8
    parts = [f'<svg class="mistakes-chart" role="img" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<title>{escape(str(messages.MISTAKES_HEADING))}</title>']
    for index, mistake in enumerate(mistakes):
        y = 4 + index * row
        text = f"{mistake.grade_id}: " + messages.MISTAKE_LINE.format(share=mistake.share,
                                                                   mistake=mistake_words(mistake.name))
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{escape(text[:60])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{max(1.0, bar_w * mistake.share):.1f}" height="14" '
                     f'fill="{MISTAKE_COLOUR}"><title>{escape(text)}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))
