"""The report's page: one Jinja2 template with inline styles and a little inline script.

Nothing is fetched: no fonts, scripts, styles or images from elsewhere. The script
records page errors and the drawn size of every figure into the page (so a headless
browser's DOM dump shows them) and opens collapsed tables for printing.
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  window.__errors.push(String(e.message || (e.target && e.target.outerHTML) || e));
}, true);
(function () {
  var original = console.error;
  console.error = function () {
    window.__errors.push(Array.prototype.join.call(arguments, " "));
    original.apply(console, arguments);
  };
})();
</script>
<style>
:root { --ink: #222; --muted: #666; --line: #ddd; --accent: #1f77b4; --warn: #8a5a00; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 62rem; padding: 1rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0; }
h2 { font-size: 1.25rem; border-bottom: 1px solid var(--line); padding-bottom: 0.2rem;
     margin-top: 2rem; }
nav { font-size: 0.9rem; display: flex; flex-wrap: wrap; gap: 0.2rem 0.8rem; }
nav a { color: var(--accent); white-space: nowrap; }
.glance { background: #f4f7fb; border-left: 4px solid var(--accent); padding: 0.5rem 1rem;
          margin-top: 0.8rem; }
.why { color: var(--muted); font-style: italic; }
ul.notes li { color: var(--warn); }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; white-space: pre-wrap;
      word-break: break-all; font-size: 0.85rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
caption { text-align: left; font-weight: 600; padding: 0.2rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: 0.2rem 0.6rem; text-align: left;
         white-space: nowrap; vertical-align: top; }
td.num { text-align: right; }
td.long { white-space: normal; min-width: 18rem; }
details summary { cursor: pointer; color: var(--accent); margin: 0.4rem 0; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.9rem; color: var(--muted); }
footer { margin-top: 2rem; font-size: 0.8rem; color: var(--muted); }
@media print {
  body { max-width: none; font-size: 11pt; }
  nav { display: none; }
  figure, table { break-inside: avoid; }
  h2 { break-after: avoid; }
}
</style>
</head>
<body>
<h1>{{ title }}</h1>
<nav>{% for section in sections %}<a href="#{{ section.key }}">{{ section.title }}</a>{% endfor %}</nav>
<div class="glance"><strong>At a glance</strong>
<ul>{% for line in glance %}<li>{{ line }}</li>{% endfor %}</ul></div>
{% for section in sections %}
<section id="{{ section.key }}">
<h2>{{ section.title }}</h2>
{% if section.why %}<p class="why">Omitted: {{ section.why }}</p>{% endif %}
{% for block in section.blocks %}
{% if block.kind == "paragraph" %}<p>{{ block.text }}</p>
{% elif block.kind in ("notes", "facts") %}<ul class="{{ block.kind }}">{% for item in block.items[:6] %}<li>{{ item }}</li>{% endfor %}</ul>
{% if block.items|length > 6 %}<details><summary>{{ block.items|length - 6 }} more</summary><ul class="{{ block.kind }}">{% for item in block.items[6:] %}<li>{{ item }}</li>{% endfor %}</ul></details>{% endif %}
{% elif block.kind == "code" %}<pre>{% for item in block.items %}{{ item }}
{% endfor %}</pre>
{% elif block.kind == "table" %}
{% if block.collapsed %}<details><summary>{{ block.caption }} ({{ block.rows|length }} rows)</summary>{% endif %}
<div class="scroll"><table>
{% if not block.collapsed %}<caption>{{ block.caption }}</caption>{% endif %}
<thead><tr>{% for c in block.columns %}<th scope="col">{{ c }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in block.rows %}<tr>{% for cell in row %}<td class="{{ cell|align if block.numeric else 'text' }}">{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>
{% if block.collapsed %}</details>{% endif %}
{% elif block.kind == "figure" %}
<figure class="report-figure">{{ block.svg|safe }}<figcaption>{{ block.caption }}</figcaption></figure>
{% endif %}
{% endfor %}
</section>
{% endfor %}
<footer>Made by scalinglab; the page is self-contained and works offline.</footer>
<div id="page-check" hidden></div>
<script>
window.addEventListener("load", function () {
  var sizes = [];
  document.querySelectorAll("figure.report-figure svg").forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    sizes.push(Math.round(box.width) + "x" + Math.round(box.height));
  });
  var check = document.getElementById("page-check");
  check.setAttribute("data-figures", sizes.join(" "));
  check.setAttribute("data-errors", String(window.__errors.length));
  check.textContent = window.__errors.join("\\n");
});
window.addEventListener("beforeprint", function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
});
</script>
</body>
</html>
"""
