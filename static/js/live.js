// Small behaviour htmx cannot express: a countdown that follows the server's clock, and the
// connection state. The server sends the time left; we only animate it between pushes.
(function () {
  "use strict";

  function startCountdowns(root) {
    root.querySelectorAll("[data-time-left-ms]").forEach(function (box) {
      if (box.dataset.started) return;
      box.dataset.started = "1";
      var end = performance.now() + Number(box.dataset.timeLeftMs);
      var bar = box.querySelector("progress");
      var text = box.querySelector(".countdown-seconds");
      function tick() {
        if (!box.isConnected) return;
        var left = Math.max(0, end - performance.now());
        if (bar) bar.value = left;
        if (text) text.textContent = String(Math.ceil(left / 1000));
        if (left > 0) setTimeout(tick, 250);
      }
      tick();
    });
  }

  function setConnection(message) {
    var line = document.getElementById("connection");
    if (line) line.textContent = message;
  }

  document.addEventListener("DOMContentLoaded", function () { startCountdowns(document); });
  document.addEventListener("htmx:wsAfterMessage", function () { startCountdowns(document); });
  document.addEventListener("htmx:wsOpen", function () { setConnection(""); });
  document.addEventListener("htmx:wsClose", function (event) {
    var code = event.detail && event.detail.event ? event.detail.event.code : 0;
    if (code === 1006 || code === 1012 || code === 1013) setConnection("Connection lost. Reconnecting…");
  });
  // A student's answer buttons lock at once; the server's reply then replaces the stage.
  document.addEventListener("htmx:wsBeforeSend", function (event) {
    var button = event.target.closest ? event.target.closest("button.answer") : null;
    if (!button) return;
    button.classList.add("is-chosen");
    button.closest(".answer-grid").querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  });
})();
