"""What a screen cuts: text clipped by its box, chart texts over each other, scroll boxes.

One browser-side check (``CUT_TEXT``), shared by the browser tests and the screenshots
tool, run on a page whose charts are drawn. It returns ``{"cut": [...], "charts": n}``:
one line per defect (none when the page shows everything it holds) and how many drawn
charts it inspected, so a caller can tell a clean page from a page it could not read.

- text clipped by its box: an element in the main area or the sidebar whose text is
  wider (or taller) than the box that hides its overflow, or with an ellipsis active
  (metric labels and values, table headers and cells, captions, buttons);
- a select box's shown value (its chosen option, else its placeholder) wider than the
  box, measured with the box's own font (the value is an input's, not text in the page);
  a multiselect's chip whose text ends in an ellipsis. The chips' row itself scrolls
  by design (Streamlit: sideways in the main area, down in the sidebar), so chips
  scrolled out of it are not reported;
- an inner scroll box: an element that scrolls its own content (a table with its own
  scroll bar), which screenshots and print cut;
- plotly: two texts of one chart over each other by more than a pixel (the risk table's
  cells, annotations, tick labels, axis titles, legend entries, the title and its
  subtitle), a legend over the chart's title or its subtitle, and annotation, title or
  tick text that reaches outside the chart's SVG.
"""

from __future__ import annotations

CUT_TEXT = """() => {
  const cut = [], slack = 1;
  const lines = el => el instanceof SVGElement && el.querySelector('tspan.line')
    ? [...el.querySelectorAll('tspan.line')].map(line => line.textContent).join(' ')
    : el.textContent || '';  // a chart text's lines, a space between them
  const words = el => lines(el).trim().replace(/\\s+/g, ' ').slice(0, 60);
  const shown = el => el.getClientRects().length > 0;
  const roots = [...document.querySelectorAll(
    '[data-testid="stMain"], [data-testid="stSidebar"][aria-expanded="true"]')];
  const ruler = document.createElement('canvas').getContext('2d');
  const mine = '[data-testid="stMultiSelect"] :is([data-tag] > span, input)';
  for (const root of roots) {
    for (const el of root.querySelectorAll('*')) {
      const skipped = 'svg, .js-plotly-plot, [data-testid="stTooltipContent"], '
        + '[data-testid="stMultiSelect"]';  // its chips scroll in it by design: see below
      if (el.closest(skipped) && !el.matches(mine) || !shown(el)) continue;
      const style = getComputedStyle(el);
      if (el.matches('input[role="combobox"]')) {
        const value = el.value || el.placeholder;
        ruler.font = style.font;
        const room = el.clientWidth - parseFloat(style.paddingLeft)
          - parseFloat(style.paddingRight);
        const needed = Math.ceil(ruler.measureText(value).width);
        if (value && needed > room + slack)
          cut.push(`select box value cut: "${value.slice(0, 60)}" (${Math.floor(room)} of `
                   + `${needed} px)`);
        continue;
      }
      const hides = ['hidden', 'clip'];
      const scrolls = ['auto', 'scroll'];
      const wide = el.scrollWidth > el.clientWidth + slack;
      const tall = el.scrollHeight > el.clientHeight + slack;
      if (!el.matches('[data-testid="stMain"], [data-testid="stSidebarContent"], '
                      + '[data-testid="stSidebarUserContent"]')
          && ((wide && scrolls.includes(style.overflowX))
              || (tall && scrolls.includes(style.overflowY))))
        cut.push(`inner scroll box: "${words(el)}" (${el.clientWidth}x${el.clientHeight} of `
                 + `${el.scrollWidth}x${el.scrollHeight} px)`);
      if (!words(el)) continue;
      if (wide && (style.textOverflow === 'ellipsis' || hides.includes(style.overflowX)))
        cut.push(`text cut: "${words(el)}" (${el.clientWidth} of ${el.scrollWidth} px)`);
      else if (tall && hides.includes(style.overflowY) && style.webkitLineClamp !== 'none')
        cut.push(`text cut: "${words(el)}" (${el.clientHeight} of ${el.scrollHeight} px high)`);
    }
  }
  const inside = (box, outer) => box.left >= outer.left - slack && box.right <= outer.right + slack
    && box.top >= outer.top - slack && box.bottom <= outer.bottom + slack;
  const overlap = (a, b) => a.left < b.right && b.left < a.right
    && a.top < b.bottom && b.top < a.bottom;
  const over = (a, b) => a.left < b.right - slack && b.left < a.right - slack
    && a.top < b.bottom - slack && b.top < a.bottom - slack;
  let charts = 0;
  for (const [index, plot] of [...document.querySelectorAll('.js-plotly-plot')].entries()) {
    const svg = plot.querySelector('.main-svg');
    if (!svg) continue;
    charts += 1;
    const outer = svg.getBoundingClientRect();
    const title = ((plot._fullLayout || {}).title || {}).text || '';
    const name = title.replace(/<[^>]+>/g, ' ').trim().slice(0, 50) || `number ${index + 1}`;
    const texts = plot.querySelectorAll('.gtitle, .g-gtitle text, .annotation-text, '
      + '.xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .legendtext');
    for (const text of texts) {
      const box = text.getBoundingClientRect();
      if (box.width && !inside(box, outer))
        cut.push(`chart "${name}": "${words(text)}" outside the chart`);
    }
    const drawn = [...new Set(plot.querySelectorAll('.gtitle, .g-gtitle text, '
      + '.annotation-text, .xtick text, .ytick text, .g-xtitle text, .g-ytitle text, '
      + '.legendtext, .textpoint text'))]
      .map(text => [text, text.getBoundingClientRect()])
      .filter(([text, box]) => box.width && box.height && words(text));
    drawn.forEach(([a, boxA], i) => drawn.slice(i + 1).forEach(([b, boxB]) => {
      if (!a.contains(b) && !b.contains(a) && over(boxA, boxB))
        cut.push(`chart "${name}": "${words(a)}" and "${words(b)}" over each other`);
    }));
    for (const subplot of plot.querySelectorAll('.cartesianlayer .subplot')) {
      const id = [...subplot.classList].find(c => c !== 'subplot');
      const area = plot.querySelector(`.draglayer .${id} .nsewdrag`);
      if (!area) continue;
      const box = area.getBoundingClientRect();
      for (const text of subplot.querySelectorAll('.textpoint text')) {
        const where = text.getBoundingClientRect();
        if (where.width && !inside(where, box))
          cut.push(`chart "${name}": "${words(text)}" cut by its plot area`);
      }
    }
    const legend = plot.querySelector('.legend');
    if (!legend) continue;
    const legendArea = legend.querySelector('.bg').getBoundingClientRect();
    for (const entry of legend.querySelectorAll('.legendtext')) {
      const where = entry.getBoundingClientRect();
      if (where.width && !inside(where, legendArea))
        cut.push(`chart "${name}": legend entry "${words(entry)}" cut by the legend`);
    }
    const legendBox = legend.getBoundingClientRect();
    for (const head of plot.querySelectorAll('.gtitle, .g-gtitle text')) {
      const box = head.getBoundingClientRect();
      if (box.width && legendBox.width && overlap(box, legendBox))
        cut.push(`chart "${name}": the legend covers its title "${words(head)}"`);
    }
  }
  return {cut, charts};
}"""
