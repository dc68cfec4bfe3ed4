// The staffing planner: draw the chart of expected waits and service level per hour (uPlot,
// vendored in hall/static/hall/vendor) and, while the server simulates, say so. The form works
// without this script; the table holds every figure the chart shows.

const strings = JSON.parse(document.getElementById("planner-strings")?.textContent || "{}");
const data = JSON.parse(document.getElementById("planner-chart-data")?.textContent || "null");
const form = document.querySelector("[data-planner-form]");
const progress = document.querySelector("[data-progress]");

// Progress text while the server works (the search takes a few seconds). A second press is
// ignored: the first request is already running.
form?.addEventListener("submit", (event) => {
  if (form.dataset.busy) {
    event.preventDefault();
    return;
  }
  form.dataset.busy = "1";
  const action = event.submitter?.value || "evaluate";
  form.setAttribute("aria-busy", "true");
  if (progress) progress.textContent = strings[action] || strings.evaluate || "";
});
// Back/forward cache: a page restored after a submit must be usable again.
window.addEventListener("pageshow", () => {
  if (!form) return;
  delete form.dataset.busy;
  form.removeAttribute("aria-busy");
  if (progress) progress.textContent = "";
});

// Colours from hall/page.css, each at least 3:1 against white (WCAG 1.4.11).
const COLORS = { mean: "#0b57d0", p90: "#9c4a00", level: "#13672c", target: "#141a26" };

function draw() {
  const box = document.getElementById("planner-chart");
  if (!box || !data || typeof uPlot === "undefined") return;
  const s = data.strings;
  const n = data.hours.length;
  const x = data.hours.map((h) => h + 0.5); // each hour's figures in the middle of the hour
  const series = [
    { label: s.hour, value: (u, v) => (v == null ? "–" : `${String(Math.floor(v)).padStart(2, "0")}:00`) },
    { label: s.mean, scale: "min", stroke: COLORS.mean, width: 3, points: { size: 8 } },
    { label: s.p90, scale: "min", stroke: COLORS.p90, width: 2, points: { size: 6 } },
    { label: s.target_wait, scale: "min", stroke: COLORS.p90, width: 2, dash: [4, 6], points: { show: false } },
    { label: s.level, scale: "%", stroke: COLORS.level, width: 3, points: { size: 8 } },
    { label: s.target_level, scale: "%", stroke: COLORS.target, width: 2, dash: [10, 6], points: { show: false } },
  ];
  const values = [
    x,
    data.mean,
    data.p90,
    Array(n).fill(data.target_wait),
    data.level,
    Array(n).fill(data.target_share),
  ];
  const maxMinutes = Math.max(data.target_wait * 1.5, ...data.p90.filter((v) => v != null));
  const opts = {
    width: Math.max(300, box.clientWidth),
    height: 340,
    series,
    scales: {
      x: { time: false, range: [data.hours[0], data.hours[n - 1] + 1] },
      min: { range: [0, Math.ceil(maxMinutes / 5) * 5] },
      "%": { range: [0, 100] },
    },
    axes: [
      {
        stroke: "#141a26",
        values: (u, ticks) => ticks.map((t) => `${String(t).padStart(2, "0")}:00`),
        incrs: [1, 2],
        grid: { stroke: "#e6e9ef" },
      },
      { scale: "min", label: s.minutes, stroke: "#141a26", grid: { stroke: "#e6e9ef" } },
      { scale: "%", side: 1, label: s.percent, stroke: "#141a26", grid: { show: false } },
    ],
    cursor: { drag: { x: false, y: false } },
  };
  box.replaceChildren();
  const chart = new uPlot(opts, values, box);
  let timer;
  window.addEventListener("resize", () => {
    clearTimeout(timer);
    timer = setTimeout(() => chart.setSize({ width: Math.max(300, box.clientWidth), height: 340 }), 150);
  });
}

if (document.readyState === "complete") draw();
else window.addEventListener("load", draw);
