// Sign-up form: posts JSON with an Idempotency-Key per page load, so a retry after a lost
// answer gets the same confirmation instead of a second registration.
(function () {
  const form = document.getElementById("form");
  if (!form) return;
  const newKey = () => ((window.crypto && crypto.randomUUID) ? crypto.randomUUID()
    : Date.now().toString(36) + Math.random().toString(36).slice(2));
  let key = newKey();
  // Back from the confirmation page (page cache): a new sign-up gets a new key.
  window.addEventListener("pageshow", (e) => { if (e.persisted) key = newKey(); });
    form.addEventListener("submit", async (e) => {
    e.preventDefault();
    document.querySelectorAll(".error").forEach((el) => { el.textContent = ""; });
    const data = Object.fromEntries(new FormData(form));
    data.consent = document.getElementById("consent").checked;
    if (!data.desa) delete data.desa;
    const result = document.getElementById("result");
    try {
      const response = await fetch(form.dataset.api, {method: "POST",
        headers: {"Content-Type": "application/json", "Idempotency-Key": key},
        body: JSON.stringify(data)});
      const body = await response.json();
      if (response.ok && body.confirmation_url) {
        window.location.assign(body.confirmation_url);
        return;
      }
      if (response.ok) {
        result.className = "wait"; result.textContent = body.message; return;
      }
      (body.fields || []).forEach((f) => {
        const el = document.querySelector(`.error[data-for="${f.field}"]`);
        if (el) el.textContent = f.message;
      });
      result.className = "fail"; result.textContent = body.message;
    } catch (err) {
      result.className = "fail";
      result.textContent = "Koneksi terputus. Data Anda belum terkirim; silakan coba lagi.";
    }
  });
})();
