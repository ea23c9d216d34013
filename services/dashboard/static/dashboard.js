// Live programme dashboard: one EventSource, numbers and charts updated in place (no reload).
(function () {
  "use strict";
  const tenant = document.body.dataset.tenant;
  const $ = (id) => document.getElementById(id);
  const charts = {};
  const fmt = (n) => (n === null || n === undefined ? "-" : Number(n).toLocaleString("id-ID"));
  // A duration in seconds as minutes under two hours, else hours with one decimal.
  const hours = (s) => (s < 7200 ? Math.round(s / 60) + " menit"
    : (Math.round(s / 360) / 10).toLocaleString("id-ID") + " jam");

  // The CSP runs no inline handlers: the kecamatan picker submits itself from here.
  document.querySelectorAll("select[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form.submit());
  });

  function setText(id, value) { const el = $(id); if (el) el.textContent = value; }

  function chart(id, type, labels, datasets, options) {
    if (typeof Chart === "undefined") return;
    if (!charts[id]) {
      charts[id] = new Chart($(id), { type, data: { labels, datasets },
        options: Object.assign({ responsive: true, animation: false, maintainAspectRatio: false }, options || {}) });
    } else {
      charts[id].data.labels = labels;
      charts[id].data.datasets.forEach((d, i) => { d.data = datasets[i].data; });
      charts[id].update();
    }
  }

  function table(id, rows) {
    const body = $(id);
    body.replaceChildren(...rows.map((r) => {
      const tr = document.createElement("tr");
      [r.name, fmt(r.today), fmt(r.month)].forEach((v) => {
        const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      return tr;
    }));
  }

  function onSnapshot(s) {
    Object.entries(s.totals).forEach(([metric, v]) => {
      setText(metric + "-today", fmt(v.today));
      setText(metric + "-month", fmt(v.month));
    });
    const q = s.queue;
    setText("consultations-open", fmt(q.consultations_open));
    setText("complaints-open", fmt(q.complaints_open));
    setText("oldest-consultation", q.oldest_consultation_hours === null ? "-" : q.oldest_consultation_hours + " jam");
    setText("oldest-complaint", q.oldest_complaint_hours === null ? "-" : q.oldest_complaint_hours + " jam");
    setText("first-response", q.first_response_avg_s === null ? "-" : Math.round(q.first_response_avg_s / 60) + " menit");
    setText("complaint-response", q.complaint_response_avg_s === null ? "-" : hours(q.complaint_response_avg_s));
    setText("ikm-period", s.ikm.period === null ? "-" : s.ikm.period.toLocaleString("id-ID"));
    setText("updated", new Date(s.generated_at).toLocaleTimeString("id-ID"));
    table("desa-table", s.by_desa);
    table("level-table", s.by_level);
    const days = s.daily.days.map((d) => d.slice(5));
    chart("daily-chart", "line", days, [
      { label: "Pendaftar", data: s.daily.registrations },
      { label: "Hadir", data: s.daily.checkins },
      { label: "Sertifikat", data: s.daily.certificates_issued },
      { label: "Undangan", data: s.daily.invitations_sent },
    ]);
    chart("desa-chart", "bar", s.by_desa.map((r) => r.name), [{ label: "Bulan ini", data: s.by_desa.map((r) => r.month) }]);
    chart("level-chart", "bar", s.by_level.map((r) => r.name), [{ label: "Bulan ini", data: s.by_level.map((r) => r.month) }]);
    chart("ikm-chart", "line", s.ikm.trend.map((t) => t.month), [{ label: "IKM", data: s.ikm.trend.map((t) => t.ikm) }],
      { scales: { y: { suggestedMin: 25, suggestedMax: 100 } } });
  }

  function onHealth(rows) {
    $("health").replaceChildren(...rows.map((r) => {
      const div = document.createElement("div");
      div.className = "svc" + (r.ready ? " ready" : "");
      div.dataset.service = r.service;
      const title = document.createElement("strong");
      title.textContent = r.service + (r.ready ? " · siap" : " · tidak siap");
      const info = document.createElement("small");
      info.textContent = "antrean " + fmt(r.lag) + " · tertunda " + fmt(r.pending) + " · pesan gagal " + fmt(r.dead_letters);
      div.append(title, info);
      (r.dead_letter_streams || []).forEach((stream) => {
        const button = document.createElement("button");
        button.textContent = "Lihat pesan gagal";
        button.onclick = () => showDeadLetters(stream);
        div.appendChild(button);
      });
      return div;
    }));
  }

  async function showDeadLetters(stream) {
    const box = $("dlq");
    const res = await fetch("/api/v1/dead-letters?stream=" + encodeURIComponent(stream));
    const rows = res.ok ? await res.json() : [];
    box.hidden = false;
    const title = document.createElement("h3");
    title.textContent = "Pesan gagal (dead letter): " + stream;
    const list = document.createElement("table");
    rows.forEach((r) => {
      const tr = document.createElement("tr");
      [r.at, r.event_type, r.group, r.reason].forEach((v) => {
        const td = document.createElement("td"); td.textContent = v || ""; tr.appendChild(td);
      });
      const td = document.createElement("td");
      const replay = document.createElement("button");
      replay.textContent = "Kirim ulang";
      replay.onclick = async () => {
        const answer = await fetch("/api/v1/dead-letters/replay", { method: "POST",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify({ stream, ids: [r.id] }) });
        replay.textContent = answer.ok ? "Dikirim ulang" : "Gagal";
        replay.disabled = true;
      };
      td.appendChild(replay); tr.appendChild(td); list.appendChild(tr);
    });
    box.replaceChildren(title, list);
  }

  function connect() {
    const source = new EventSource("/dashboard/stream?tenant=" + encodeURIComponent(tenant));
    source.addEventListener("open", () => { setText("live", "langsung"); $("live").className = "live on"; });
    source.addEventListener("error", () => { setText("live", "terputus, mencoba lagi…"); $("live").className = "live off"; });
    source.addEventListener("snapshot", (e) => onSnapshot(JSON.parse(e.data)));
    source.addEventListener("health", (e) => onHealth(JSON.parse(e.data)));
  }
  connect();
})();
