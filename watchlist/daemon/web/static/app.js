// watchlist web page: refresh the live part of a page, and jump to a tester error.
"use strict";
(function () {
  const live = document.querySelector("[data-live]");
  if (live) {
    let busy = false;
    setInterval(async function () {
      if (busy || document.hidden) return;
      busy = true;
      try {
        const r = await fetch(location.href, { headers: { "X-Live": "1" }, credentials: "same-origin" });
        if (r.ok && r.headers.get("content-type").startsWith("text/html")) live.innerHTML = await r.text();
      } catch (e) { /* the daemon may be restarting: try again next time */ }
      busy = false;
    }, 2000);
  }
  document.addEventListener("click", function (ev) {
    const a = ev.target.closest("a[data-line]");
    const area = document.getElementById("tester-text");
    if (!a || !area) return;
    ev.preventDefault();
    const lines = area.value.split("\n");
    const line = Math.max(1, Number(a.dataset.line)), col = Math.max(1, Number(a.dataset.col));
    let at = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) at += lines[i].length + 1;
    at += col - 1;
    area.focus();
    area.setSelectionRange(at, Math.min(area.value.length, at + 1));
  });
})();
