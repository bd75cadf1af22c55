"""Reading a report back: its resource URLs, tables and figures (standard library only)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Attributes that make a browser fetch something when the page loads.
FETCHING = {
    "src",
    "href",
    "xlink:href",
    "srcset",
    "poster",
    "data",
    "background",
    "action",
}
REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
CSS_URL = re.compile(
    r"(?:url\(\s*['\"]?|@import\s+['\"])\s*((?:[a-z]+:)?//[^'\")\s]*)", re.IGNORECASE
)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.remote: list[str] = []
        self.svgs = 0
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.svgs += tag == "svg"
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            if name == "style":
                self.remote += CSS_URL.findall(value)
            elif name in FETCHING and tag != "a" and REMOTE.match(value):
                self.remote.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        self._in_style = False if tag == "style" else self._in_style

    def handle_data(self, data):
        if self._in_style:
            self.remote += CSS_URL.findall(data)


def remote_resources(html: str) -> list[str]:
    """Every URL the page would fetch from another host (links a reader clicks excluded)."""
    collector = _Collector()
    collector.feed(html)
    return collector.remote


def count_svg(html: str) -> int:
    collector = _Collector()
    collector.feed(html)
    return collector.svgs


def section(html: str, key: str) -> str:
    """The HTML of one report section, by its id."""
    start = html.index(f'<section id="{key}">')
    return html[start : html.index("</section>", start)]


def cells(html: str) -> list[str]:
    """Text of every table cell, in order."""
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.DOTALL)
    ]
