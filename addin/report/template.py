"""The report's page template (Jinja2): A4 landscape pages for a client meeting.

Page 1: the title (client, month, what is compared). Page 2: the Executive numbers (plan,
actual, % of plan) and plan vs actual by channel. Page 3: the total waterfall and the review
(status per channel, top and under performers). Then, when the report was given the fact store,
a page of the results by city and by product against last month (compact: counts, shares,
changes, status). Last: the recommendations. Kept in a Python
string, not a package data file, so the frozen build and an editable install find it alike.
"""

PAGE = """<!DOCTYPE html>
<html lang="{{ c.lang }}">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
@page { size: A4 landscape; margin: 14mm 16mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #222; margin: 0; }
section { page-break-after: always; }
section:last-child { page-break-after: auto; }
.title-page { padding-top: 55mm; text-align: center; }
.title-page h1 { font-size: 30pt; color: #26394d; margin: 0 0 8mm 0; }
.title-page .month { font-size: 22pt; margin-bottom: 6mm; }
.title-page .note { font-size: 11pt; color: #666; }
h2 { color: #26394d; font-size: 16pt; margin: 0 0 4mm 0; }
table { border-collapse: collapse; width: 100%; margin-bottom: 4mm; }
th, td { border-bottom: 1px solid #ccc; padding: 1.2mm 2mm; text-align: right; }
.review td, .review th { font-size: 8.5pt; padding: 0.8mm 1.5mm; }
.cols p { margin: 1mm 0; font-size: 9pt; }
th:first-child, td:first-child { text-align: left; }
th { background: #eef2f8; }
.good { color: #2e7d4f; font-weight: bold; }
.bad { color: #b3362b; font-weight: bold; }
img { width: 100%; }
.cols { display: flex; gap: 8mm; }
.cols > div { flex: 1; }
h3 { color: #26394d; font-size: 12pt; margin: 3mm 0 1.5mm 0; }
p.note { color: #666; font-size: 9pt; margin: 0 0 2mm 0; }
tr.total td { font-weight: bold; border-top: 1px solid #888; }
table.dims { table-layout: fixed; }
table.dims th:first-child { width: 17%; }
</style>
</head>
<body>
<section class="title-page">
  <h1>{{ c.client }}</h1>
  <div class="month">{{ title }}</div>
  <div class="note">{{ basis_note }}</div>
</section>
<section>
  <h2>{{ t("Key numbers") }}</h2>
  <table>
    <tr><th></th><th>{{ t("plan") }}</th><th>{{ actual_label }}</th>
      <th>{{ t("% of plan") }}</th></tr>
    {% for k in c.total %}
    <tr><td>{{ k.label }}</td><td>{{ num(k.plan, k.key) }}</td><td>{{ num(k.actual, k.key) }}</td>
      <td class="{{ mark(k.achieved) }}">{{ pct(k) }}</td></tr>
    {% endfor %}
  </table>
  <img src="data:image/png;base64,{{ channels_png }}" alt="{{ t('Plan vs fact by channel') }}">
</section>
<section>
  <h2>{{ t("What moved {metric} from plan", metric=c.outcome) }}</h2>
  {% if waterfall_png %}
  <img src="data:image/png;base64,{{ waterfall_png }}"
    alt="{{ t('What moved {metric} from plan', metric=c.outcome) }}">
  {% endif %}
  <table class="review">
    <tr><th>{{ t("channel") }}</th><th>{{ t("status") }}</th>
      {% for k in c.total %}<th>{{ k.label }}, {{ t("% of plan") }}</th>{% endfor %}</tr>
    {% for ch in c.channels %}
    <tr><td>{{ ch.channel }}</td><td>{{ t(ch.status) }}</td>
      {% for k in ch.kpis %}<td class="{{ mark(k.achieved) }}">{{ pct(k) }}</td>{% endfor %}</tr>
    {% endfor %}
  </table>
  <div class="cols">
    <div><h2>{{ t("Top performers") }}</h2>
      {% for p in c.top %}
      <p><b>{{ p.channel }}</b>: {{ c.outcome }} {{ share(p.pct) }} {{ p.driver }}</p>
      {% else %}<p>—</p>{% endfor %}</div>
    <div><h2>{{ t("Underperformers") }}</h2>
      {% for p in c.under %}
      <p><b>{{ p.channel }}</b>: {{ c.outcome }} {{ share(p.pct) }} {{ p.driver }}</p>
      {% else %}<p>—</p>{% endfor %}</div>
  </div>
</section>
{% if c.dims %}
<section>
  <h2>{{ t("Results by city and product") }}</h2>
  <p class="note">{{ c.dims_note }}</p>
  {% for d in c.dims %}
  <h3>{{ d.title }}</h3>
  <table class="review dims">
    <tr><th>{{ d.level }}</th><th>{{ t("leads") }}</th>
      <th>{{ t("{metric}, share", metric=t("leads")) }}</th>
      <th>{{ c.outcome }}</th><th>{{ t("revenue") }}</th>
      <th>{{ t("{metric}, share", metric=t("revenue")) }}</th>
      <th>{{ t("{metric} vs last month", metric=t("leads")) }}</th>
      <th>{{ t("{metric} vs last month", metric=c.outcome) }}</th>
      <th>{{ t("vs last month") }}</th></tr>
    {% for r in d.lines + (d.total,) %}
    <tr{% if loop.last %} class="total"{% endif %}><td>{{ r.label }}</td>
      <td>{{ num(r.leads, "count") }}</td><td>{{ share(r.lead_share) }}</td>
      <td>{{ num(r.outcome, "count") }}</td><td>{{ num(r.revenue, "revenue") }}</td>
      <td>{{ share(r.revenue_share) }}</td><td>{{ change(r.leads_change) }}</td>
      <td>{{ change(r.outcome_change) }}</td>
      <td class="{{ mark(r.achieved) }}">{{ r.status }}</td></tr>
    {% endfor %}
  </table>
  {% endfor %}
</section>
{% endif %}
<section>
  <h2>{{ t("Recommendations for next month") }}</h2>
  {% if c.advice %}
  <table>
    <tr><th>{{ t("channel") }}</th><th>{{ t("current") }}</th><th>{{ t("proposed") }}</th>
      <th>{{ t("recommendation") }}</th><th>{{ t("attribution verdict") }}</th></tr>
    {% for a in c.advice %}
    <tr><td>{{ a.channel }}</td><td>{{ num(a.current, "spend") }}</td>
      <td>{{ num(a.proposed, "spend") }}</td>
      <td>{{ a.advice }}</td><td>{{ a.verdict }}</td></tr>
    {% endfor %}
  </table>
  {% else %}
  <p>{{ t("No budget proposal yet: run Optimize Split in the workbook.") }}</p>
  {% endif %}
</section>
</body>
</html>
"""
