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

  function plot(data) {
    draw("plot-solve-rates", {
      type: "bar",
      data: {
        labels: data.solveRates.map((bucket) => bucket.label),
        datasets: [
          {
            label: "groups",
            data: data.solveRates.map((bucket) => bucket.count),
            backgroundColor: palette[0],
          },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    draw("plot-rewards", {
      type: "line",
      data: {
        labels: data.rewards.map((point) => point.step),
        datasets: [
          {
            label: "proposer",
            data: data.rewards.map((point) => point.proposer),
            borderColor: palette[0],
            spanGaps: true,
          },
          {
            label: "solver",
            data: data.rewards.map((point) => point.solver),
            borderColor: palette[1],
            spanGaps: true,
          },
        ],
      },
      options: {
        scales: { x: { title: { display: true, text: "step" } }, y: { suggestedMin: -1, suggestedMax: 1 } },
      },
    });
    draw("plot-strategies", {
      type: "bar",
      data: {
        labels: data.strategies.map((row) => row.strategy),
        datasets: [
          {
            label: "valid share",
            data: data.strategies.map((row) => (row.finished > 0 ? row.valid / row.finished : 0)),
            backgroundColor: palette[2],
          },
        ],
      },
      options: { scales: { y: { min: 0, max: 1 } } },
    });
    draw("plot-rejections", {
      type: "bar",
      data: {
        labels: data.rejections.map((row) => row.check),
        datasets: [
          { label: "rejected", data: data.rejections.map((row) => row.count), backgroundColor: palette[4] },
        ],
      },
      options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    if (data.trainer.length > 0) {
      const names = [...new Set(data.trainer.flatMap((row) => Object.keys(row.metrics)))].sort();
      draw("plot-trainer", {
        type: "line",
        data: {
          labels: data.trainer.map((row) => row.iteration),
          datasets: names.map((name, index) => ({
            label: name,
            data: data.trainer.map((row) => (name in row.metrics ? row.metrics[name] : null)),
            borderColor: palette[index % palette.length],
            spanGaps: true,
          })),
        },
        options: { scales: { x: { title: { display: true, text: "iteration" } } } },
      });
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
