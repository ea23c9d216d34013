// Operator events page: list by desa and date, create, edit, close, and the links of each event.
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
    const edit = document.createElement("button");
    edit.type = "button"; edit.className = "secondary edit"; edit.textContent = "Ubah";
    edit.addEventListener("click", () => startEdit(event));
    item.append(edit);
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
  const FIELDS = ["title", "starts_at", "ends_at", "venue", "desa", "capacity", "registration_opens_at",
    "registration_closes_at", "certificate_policy", "whatsapp_cohort"];
  const TIMES = ["starts_at", "ends_at", "registration_opens_at", "registration_closes_at"];
  let editing = null;  // {id, values}: the event being edited and the form's values when loaded

  // The form's values as the API takes them ("" = not given).
  function formValues() {
    const values = {};
    for (const name of FIELDS) values[name] = form.elements[name].value.trim();
    values.registration_open = form.elements.registration_open.checked;
    return values;
  }

  function setMode(event) {
    editing = event ? {id: event.id, values: formValues()} : null;
    document.getElementById("form-heading").textContent = event ? "Ubah kegiatan" : "Kegiatan baru";
    document.getElementById("editing").hidden = !event;
    document.getElementById("editing-title").textContent = event ? event.title : "";
    document.getElementById("open-wrap").hidden = !event;
    document.getElementById("cancel-edit").hidden = !event;
    document.getElementById("save").textContent = event ? "Simpan perubahan" : "Simpan kegiatan";
  }

  function startEdit(event) {
    form.reset();
    for (const name of FIELDS) {
      let value = event[name === "venue" ? "venue" : name];
      if (value === null || value === undefined) value = "";
      // The API answers times in the kecamatan's zone with an offset; the input wants local time.
      if (TIMES.includes(name) && value) value = String(value).slice(0, 16);
      form.elements[name].value = String(value);
    }
    form.elements.registration_open.checked = event.registration_open;
    setMode(event);
    form.scrollIntoView();
    document.getElementById("title").focus();
  }
  document.getElementById("cancel-edit").addEventListener("click", () => { form.reset(); setMode(null); });

  // What changed since the edit began: a cleared field is sent as null (no limit, no desa...).
  function changes() {
    const now = formValues();
    const body = {};
    for (const [name, value] of Object.entries(now)) {
      if (value === editing.values[name]) continue;
      body[name] = value === "" ? null : value;
    }
    if (typeof body.capacity === "string") body.capacity = parseInt(body.capacity, 10);
    return body;
  }

  function failed(body) {
    show("fail", body.message + " " + (body.fields || []).map((f) => f.message).join(" "));
  }

  async function saveEdit() {
    const data = changes();
    if (!Object.keys(data).length) { show("ok", "Tidak ada perubahan."); return; }
    const response = await fetch(`/api/v1/events/${editing.id}`,
      {method: "PATCH", headers: headers(), body: JSON.stringify(data)});
    const body = await response.json();
    if (!response.ok) { failed(body); return; }
    const moved = ["starts_at", "ends_at", "venue"].some((k) => k in data);
    show("ok", `Perubahan kegiatan "${body.title}" tersimpan.` +
      (moved ? " Peserta terdaftar diberi tahu tentang perubahan waktu atau tempat." : ""));
    form.reset();
    setMode(null);
    load();
  }

  async function create() {
    const data = {};
    for (const [name, value] of Object.entries(formValues())) {
      if (name !== "registration_open" && value !== "") data[name] = value;
    }
    if (data.capacity) data.capacity = parseInt(data.capacity, 10);
    const response = await fetch("/api/v1/events", {method: "POST", headers: headers(), body: JSON.stringify(data)});
    const body = await response.json();
    if (!response.ok) { failed(body); return; }
    show("ok", `Kegiatan "${body.title}" tersimpan. Tautan pendaftaran: ${body.registration_url}`);
    form.reset();
    load();
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    await (editing ? saveEdit() : create());
  });
})();
