// Operator events page: list by desa and date, create, close, and the links of each event.
(function () {
  const tokenInput = document.getElementById("token");
  const result = document.getElementById("result");
  tokenInput.value = sessionStorage.getItem("menjamu-token") || "";
  tokenInput.addEventListener("change", () => sessionStorage.setItem("menjamu-token", tokenInput.value.trim()));
  const headers = () => ({"Content-Type": "application/json",
    "Authorization": "Bearer " + tokenInput.value.trim()});
  const show = (kind, text) => { result.className = kind; result.textContent = text; };
  const link = (href, text) => {
    const a = document.createElement("a"); a.href = href; a.textContent = text; return a;
  };

  async function download(event, format) {
    const response = await fetch(`/api/v1/events/${event.id}/registrations/export?format=${format}`,
      {headers: headers()});
    if (!response.ok) { show("fail", (await response.json()).message); return; }
    const a = link(URL.createObjectURL(await response.blob()), "");
    a.download = `peserta-${event.date}.${format}`; a.click();
  }

  function row(event) {
    const item = document.createElement("li");
    item.dataset.id = event.id;
    const when = (event.starts_at || event.date).replace("T", " ").slice(0, 16);
    const places = event.capacity ? `${event.registered_count}/${event.capacity}` : `${event.registered_count}`;
    item.append(`${event.title} · ${when} · ${event.venue}` + (event.desa ? ` · ${event.desa}` : "") +
      ` · terdaftar ${places}, tunggu ${event.waitlisted_count}` + (event.registration_open ? "" : " · DITUTUP"));
    item.append(document.createElement("br"));
    item.append(link(event.registration_url, "Formulir"), " · ",
      link(`/operator/kegiatan/${event.id}/check-in`, "Check-in"), " · ",
      link(`/api/v1/events/${event.id}/poster.pdf`, "Poster"), " · ");
    for (const format of ["csv", "xlsx"]) {
      const button = document.createElement("button");
      button.type = "button"; button.className = "secondary"; button.textContent = format.toUpperCase();
      button.addEventListener("click", () => download(event, format));
      item.append(button);
    }
    if (event.registration_open) {
      const close = document.createElement("button");
      close.type = "button"; close.className = "danger"; close.textContent = "Tutup pendaftaran";
      close.addEventListener("click", async () => {
        const response = await fetch(`/api/v1/events/${event.id}/close`, {method: "POST", headers: headers()});
        show(response.ok ? "ok" : "fail", response.ok ? "Pendaftaran ditutup." : (await response.json()).message);
        load();
      });
      item.append(close);
    }
    return item;
  }

  async function load() {
    const params = new URLSearchParams();
    for (const [id, name] of [["filter-desa", "desa"], ["filter-from", "from"], ["filter-to", "to"]]) {
      const value = document.getElementById(id).value;
      if (value) params.set(name, value);
    }
    const response = await fetch(`/api/v1/events?${params}`, {headers: headers()});
    const body = await response.json();
    const list = document.getElementById("events");
    list.textContent = "";
    if (!response.ok) { show("fail", body.message); return; }
    body.forEach((event) => list.append(row(event)));
    if (!body.length) list.append("Belum ada kegiatan.");
  }
  document.getElementById("load").addEventListener("click", load);

  const form = document.getElementById("create");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = {};
    for (const [name, value] of new FormData(form)) { if (value !== "") data[name] = value; }
    if (data.capacity) data.capacity = parseInt(data.capacity, 10);
    const response = await fetch("/api/v1/events", {method: "POST", headers: headers(), body: JSON.stringify(data)});
    const body = await response.json();
    if (!response.ok) {
      show("fail", body.message + " " + (body.fields || []).map((f) => f.message).join(" "));
      return;
    }
    show("ok", `Kegiatan "${body.title}" tersimpan. Tautan pendaftaran: ${body.registration_url}`);
    form.reset();
    load();
  });
})();
