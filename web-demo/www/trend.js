// Trends of operator-selected points: one small uPlot chart per point, history bounded in
// samples and in time.

// uPlot's minified build, loaded by index.html as a classic script (see there).
const uPlot = globalThis.uPlot;
if (typeof uPlot !== "function") throw new Error("uPlot did not load (node_modules/uplot/dist/uPlot.iife.min.js)");

const MAX_SAMPLES = 2000;

export class Trends {
  constructor(container, windowInput) {
    this.el = container;
    this.windowInput = windowInput;
    this.charts = new Map(); // name -> {plot, xs, ys, div, dirty}
    this.ro = new ResizeObserver(() => this.resize());
    this.ro.observe(container);
    setInterval(() => this.redraw(), 1000);
  }

  has(name) { return this.charts.has(name); }

  add(name, label) {
    if (this.charts.has(name)) return;
    if (this.charts.size === 0) this.el.textContent = "";
    const div = document.createElement("div");
    div.className = "trend";
    div.dataset.testid = `trend-${name}`;
    this.el.appendChild(div);
    const xs = [], ys = [];
    const plot = new uPlot({
      width: this.width(),
      height: 140,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // One sample (or none) would make uPlot pick a range of years: show the last minute.
        x: { time: true, range: (u, min, max) => (min === max || min === null ? [(max ?? Date.now() / 1000) - 60, (max ?? Date.now() / 1000) + 1] : [min, max]) },
      },
      axes: [
        { stroke: "#9aa3ad", grid: { stroke: "#2b323a" }, ticks: { stroke: "#2b323a" } },
        { stroke: "#9aa3ad", grid: { stroke: "#2b323a" }, ticks: { stroke: "#2b323a" }, size: 55 },
      ],
      series: [{}, { label, stroke: "#c7d0d9", width: 1.5, spanGaps: false, points: { show: false } }],
    }, [xs, ys], div);
    this.charts.set(name, { plot, xs, ys, div, dirty: false });
  }

  remove(name) {
    const c = this.charts.get(name);
    if (!c) return;
    c.plot.destroy();
    c.div.remove();
    this.charts.delete(name);
    if (this.charts.size === 0) this.el.innerHTML = '<p class="muted">No point selected.</p>';
  }

  push(name, tMs, y) {
    const c = this.charts.get(name);
    if (!c || y === null) return;
    c.xs.push(tMs / 1000);
    c.ys.push(y);
    const horizon = tMs / 1000 - Math.max(1, Number(this.windowInput.value) || 10) * 60;
    let drop = 0;
    while (drop < c.xs.length && (c.xs[drop] < horizon || c.xs.length - drop > MAX_SAMPLES)) drop++;
    if (drop) { c.xs.splice(0, drop); c.ys.splice(0, drop); }
    c.dirty = true;
  }

  /// Draw what arrived since the last second (one setData per chart and second).
  redraw() {
    for (const c of this.charts.values()) {
      if (!c.dirty) continue;
      c.dirty = false;
      c.plot.setData([c.xs, c.ys]);
    }
  }

  width() { return Math.max(200, this.el.clientWidth - 8); }

  resize() {
    const w = this.width();
    for (const c of this.charts.values()) c.plot.setSize({ width: w, height: 140 });
  }
}
