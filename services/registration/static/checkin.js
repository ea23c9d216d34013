// Operator check-in: scan the participant's QR code (jsQR, served by this service), type the
// code, or search by name or phone. The operator's token stays in this tab only.
(function () {
  const root = document.getElementById("checkin");
  const eventId = root.dataset.event;
  const tokenInput = document.getElementById("token");
  const result = document.getElementById("result");
  tokenInput.value = sessionStorage.getItem("menjamu-token") || "";
  tokenInput.addEventListener("change", () => sessionStorage.setItem("menjamu-token", tokenInput.value.trim()));
  const headers = () => ({"Content-Type": "application/json",
    "Authorization": "Bearer " + tokenInput.value.trim()});
  const show = (kind, text) => { result.className = kind; result.textContent = text; };

  async function checkIn(code) {
    try {
      const response = await fetch(`/api/v1/events/${eventId}/check-ins`, {method: "POST",
        headers: headers(), body: JSON.stringify({code: code})});
      const body = await response.json();
      show(response.ok ? (body.already_checked_in ? "wait" : "ok") : "fail", body.message);
    } catch (err) { show("fail", "Koneksi terputus; coba lagi."); }
  }
  document.getElementById("submit-code").addEventListener("click", () =>
    checkIn(document.getElementById("code").value));

  document.getElementById("search").addEventListener("click", async () => {
    const q = document.getElementById("q").value.trim();
    const list = document.getElementById("results");
    list.textContent = "";
    const response = await fetch(`/api/v1/events/${eventId}/registrations?q=${encodeURIComponent(q)}`,
      {headers: headers()});
    const body = await response.json();
    if (!response.ok) { show("fail", body.message); return; }
    if (!body.length) { show("wait", "Tidak ada peserta yang cocok."); return; }
    body.forEach((r) => {
      const item = document.createElement("li");
      item.textContent = `${r.name} · ${r.school} · ${r.phone} · ${r.status}` +
        (r.checked_in_at ? " · sudah hadir" : "");
      const button = document.createElement("button");
      button.textContent = "Catat hadir " + r.code;
      button.addEventListener("click", () => checkIn(r.code));
      item.appendChild(document.createElement("br"));
      item.appendChild(button);
      list.appendChild(item);
    });
  });

  const video = document.getElementById("video");
  const canvas = document.getElementById("canvas");
  let last = "";
  function tick() {
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      const ctx = canvas.getContext("2d");
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(image.data, image.width, image.height);
      if (found && found.data && found.data !== last) { last = found.data; checkIn(found.data); }
    }
    requestAnimationFrame(tick);
  }
  document.getElementById("scan").addEventListener("click", async () => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}});
      video.srcObject = stream; video.hidden = false; await video.play();
      requestAnimationFrame(tick);
    } catch (err) { show("fail", "Kamera tidak dapat dibuka; ketik kode atau cari nama."); }
  });
})();
