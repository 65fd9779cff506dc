"""report.html parses, stands alone offline, names every strategy and scenario, draws its charts, escapes text."""

from __future__ import annotations

from html.parser import HTMLParser

from harness.compare.report import render_html
from harness.kit.records import Report
from tests.unit.compare.conftest import ReportFactory, make_run

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


class PageParser(HTMLParser):
    """Collects tags, resource references and visible text; counts unbalanced tags of the kinds we emit."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.references: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.text: list[str] = []
        self.open: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.open[tag] = self.open.get(tag, 0) + 1
        for name, value in attrs:
            if name in {"src", "href", "xlink:href", "srcset", "data"} and value is not None:
                self.references.append((tag, name, value))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {"src", "href", "xlink:href"} and value is not None:
                self.references.append((tag, name, value))

    def handle_endtag(self, tag: str) -> None:
        self.open[tag] = self.open.get(tag, 0) - 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def test_page_parses_with_balanced_structure(report: Report) -> None:
    parsed = parse(render_html(report))
    for tag in ("html", "body", "main", "section", "svg", "table", "tr", "div"):
        assert parsed.open.get(tag, 0) == 0, f"<{tag}> opened and closed a different number of times"
    assert parsed.tags.count("section") == 2


def test_page_references_nothing_outside_itself(report: Report) -> None:
    page = render_html(report)
    parsed = parse(page)
    assert parsed.references, "the scenario navigation links should be found by the parser"
    for tag, attribute, value in parsed.references:
        assert value.startswith(("#", "data:")), f"<{tag} {attribute}={value!r}> reaches outside the page"
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page
    assert "<link" not in page
    assert "@import" not in page


def test_page_names_every_strategy_and_scenario_and_draws_each_chart(report: Report) -> None:
    page = render_html(report)
    text = " ".join(parse(page).text)
    for name in ("single", "null", "queue", "burst", "over_budget"):
        assert name in text
    assert page.count("<svg") == 2 * 2  # connections and latency, per scenario
    assert "max_connections=20" in text  # the over_budget limit line is drawn
    assert "single held the fewest connections." in text
    assert "QueuePool limit reached (pool timeout)" in text


def test_malicious_strategy_and_error_text_is_escaped(report_factory: ReportFactory) -> None:
    page = render_html(report_factory(evil=EVIL))
    assert EVIL not in page
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    parsed = parse(page)
    assert "img" not in parsed.tags
    assert "script" not in parsed.tags
    assert EVIL in "".join(parsed.text)  # shown to the reader as text, exactly


def test_an_empty_report_still_renders_a_page() -> None:
    page = render_html(Report(machine={"command": "harness compare"}, parameters={}))
    assert "No runs were recorded." in page
    assert parse(page).open.get("html", 0) == 0


def test_charts_without_data_say_so_instead_of_showing_an_empty_frame() -> None:
    # GIVEN a run where every request failed and the monitor recorded nothing
    run = make_run("queue", "over_budget", "max_connections=20", ok=0, errors={"QueuePool limit reached": 3})
    run.samples.clear()
    page = render_html(Report(machine={}, parameters={}, runs=[run]))
    # THEN both charts carry a note, and the failure still shows in the errors table
    assert "no connection samples were recorded" in page
    assert "no successful requests: no latency to show" in page
    assert "QueuePool limit reached" in page


def test_a_steps_notes_are_shown_escaped_in_its_scenario(report: Report) -> None:
    run = report.runs[0]
    run.notes.append("<b>retry</b> budget 1 s")
    page = render_html(report)
    assert "&lt;b&gt;retry&lt;/b&gt; budget 1 s" in page
    assert "<b>retry</b>" not in page


def test_the_summary_table_names_batches_where_the_records_are_batches() -> None:
    run = make_run("single", "queue_backlog", "200 messages", ok=16)
    run.request_unit = "batch"
    page = render_html(Report(machine={}, parameters={}, runs=[run]))
    assert '<th class="">failed<br>(batches)</th>' in page
    assert "batch/s" in page
    assert "req/s" not in page
