// The Run page in the browser: draws the plots with Chart.js from the page's JSON block and keeps the
// totals and plots current from the server's event stream. Runs under a CSP without inline scripts.

(() => {
  const charts = new Map();
  const palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];

  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (!canvas || typeof Chart === "undefined") return;
    const existing = charts.get(id);
    if (existing) {
      existing.data = config.data;
      existing.update("none");
      return;
    }
    config.options = Object.assign(
      { animation: false, responsive: true, maintainAspectRatio: false },
      config.options,
    );
    charts.set(id, new Chart(canvas, config));
  }

  /** A bar chart of one series; `rows` become labels and values through the two functions. */
  function bars(id, rows, label, value, valueLabel, color, options) {
    draw(id, {
      type: "bar",
      data: {
        labels: rows.map(label),
        datasets: [{ label: valueLabel, data: rows.map(value), backgroundColor: color }],
      },
      options,
    });
  }

  /** A line per named series over `rows`, gaps bridged. */
  function lines(id, rows, label, series, axisTitle) {
    draw(id, {
      type: "line",
      data: {
        labels: rows.map(label),
        datasets: series.map((entry, index) => ({
          label: entry.name,
          data: rows.map(entry.value),
          borderColor: palette[index % palette.length],
          spanGaps: true,
        })),
      },
      options: { scales: { x: { title: { display: true, text: axisTitle } } } },
    });
  }

  function plot(data) {
    const counts = { beginAtZero: true, ticks: { precision: 0 } };
    bars(
      "plot-solve-rates",
      data.solveRates,
      (bucket) => bucket.label,
      (bucket) => bucket.count,
      "groups",
      palette[0],
      {
        scales: { y: counts },
      },
    );
    lines(
      "plot-rewards",
      data.rewards,
      (point) => point.step,
      [
        { name: "proposer", value: (point) => point.proposer },
        { name: "solver", value: (point) => point.solver },
      ],
      "step",
    );
    bars(
      "plot-strategies",
      data.strategies,
      (row) => row.strategy,
      (row) => (row.finished > 0 ? row.valid / row.finished : 0),
      "valid share",
      palette[2],
      { scales: { y: { min: 0, max: 1 } } },
    );
    bars(
      "plot-rejections",
      data.rejections,
      (row) => row.check,
      (row) => row.count,
      "rejected",
      palette[4],
      {
        indexAxis: "y",
        scales: { x: counts },
      },
    );
    if (data.trainer.length > 0) {
      const names = [...new Set(data.trainer.flatMap((row) => Object.keys(row.metrics)))].sort();
      lines(
        "plot-trainer",
        data.trainer,
        (row) => row.iteration,
        names.map((name) => ({ name, value: (row) => (name in row.metrics ? row.metrics[name] : null) })),
        "iteration",
      );
    }
  }

  function format(value, digits) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
  }

  function update(progress) {
    const totals = progress.totals;
    const values = {
      status: progress.status,
      steps: totals.steps,
      finished: totals.finished,
      inFlight: totals.steps - totals.finished,
      valid: totals.valid,
      invalid: totals.invalid,
      noArtifact: totals.noArtifact,
      error: totals.error,
      gradedGroups: totals.gradedGroups,
      meanSolveRate: format(totals.meanSolveRate, 3),
      attempts: totals.attempts,
      resolved: totals.resolved,
      proposerReward: format(totals.proposerReward, 3),
      solverReward: format(totals.solverReward, 3),
      stepsPerHour: format(totals.stepsPerHour, 1),
    };
    for (const cell of document.querySelectorAll("#totals [data-key]")) {
      const key = cell.getAttribute("data-key");
      if (key in values) cell.textContent = String(values[key]);
    }
  }

  function start() {
    const block = document.getElementById("plot-data");
    if (block) plot(JSON.parse(block.textContent));
    const live = document.getElementById("live");
    const status = document.getElementById("live-status");
    if (!live || typeof EventSource === "undefined") return;
    const source = new EventSource(live.getAttribute("data-events"));
    let lastFinished = null;
    source.addEventListener("progress", (event) => {
      const progress = JSON.parse(event.data);
      update(progress);
      if (status) status.textContent = `live: updated ${new Date().toLocaleTimeString()}`;
      const finished = `${progress.totals.finished}/${progress.totals.gradedGroups}`;
      if (lastFinished !== null && finished !== lastFinished)
        fetch(live.getAttribute("data-plots"))
          .then((response) => response.json())
          .then(plot)
          .catch(() => undefined);
      lastFinished = finished;
    });
    source.addEventListener("end", () => {
      source.close();
      if (status)
        status.textContent = `run ${document.querySelector('#totals [data-key="status"]')?.textContent ?? "ended"}`;
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
