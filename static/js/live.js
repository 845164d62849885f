// Small behaviour htmx cannot express: a countdown that follows the server's clock, the
// connection state, keeping keyboard focus across pushes, and reading out changed counts.
// The server sends the time left; we only animate it between pushes.
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
        box.classList.toggle("is-ending", left > 0 && left <= 5000);
        if (left > 0) setTimeout(tick, 250);
      }
      tick();
    });
  }

  function setConnection(message) {
    var line = document.getElementById("connection");
    if (line) line.textContent = message;
  }

  // Regions are replaced whole by each push, so a live region inside them would be new each time
  // and not be read out. Their counts are copied into steady role=status elements instead.
  function announce() {
    document.querySelectorAll("[data-announce]").forEach(function (source) {
      var target = document.getElementById(source.dataset.announce);
      var text = source.textContent.replace(/\s+/g, " ").trim();
      if (target && target.textContent !== text) target.textContent = text;
    });
  }

  // A push that replaces the focused button (Start quiz -> End question, an answer -> "locked in")
  // would drop keyboard focus to the top of the page. Put it back on the matching control, or the
  // control at the same place, or the region itself.
  var FOCUSABLE = "button:not([disabled]), a[href], input:not([disabled]), select, textarea";
  var lost = null;

  function rememberFocus() {
    var el = document.activeElement;
    var region = el && el !== document.body ? el.closest("[id]") : null;
    if (!region) { lost = null; return; }
    var peers = Array.prototype.slice.call(region.querySelectorAll(FOCUSABLE));
    lost = { el: el, regionId: region.id, key: focusKey(el), index: peers.indexOf(el) };
  }

  function focusKey(el) {
    return [el.tagName, el.getAttribute("hx-vals") || "", el.getAttribute("value") || "", el.textContent.trim()].join("|");
  }

  function restoreFocus() {
    if (!lost || lost.el.isConnected) return;
    var region = document.getElementById(lost.regionId);
    if (!region) return;
    var peers = Array.prototype.slice.call(region.querySelectorAll(FOCUSABLE));
    var target = peers.filter(function (p) { return focusKey(p) === lost.key; })[0] ||
      peers[Math.min(Math.max(lost.index, 0), peers.length - 1)] || region;
    if (target === region && !region.hasAttribute("tabindex")) region.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
    lost = null;
  }

  document.addEventListener("DOMContentLoaded", function () { startCountdowns(document); announce(); });
  // The server pings every socket and counts a player as present while pongs come back. A phone
  // asleep runs no script and so answers nothing: the host sees it "away" until it wakes.
  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    var text = event.detail.message;
    if (typeof text !== "string" || text.charAt(0) !== "{") return;
    event.preventDefault();  // JSON is not a page region
    var msg;
    try { msg = JSON.parse(text); } catch (e) { return; }
    if (msg.type === "ping") {
      event.detail.socketWrapper.send(JSON.stringify({ type: "pong", ts: msg.ts }));
    }
  });
  document.addEventListener("htmx:wsBeforeMessage", rememberFocus);
  document.addEventListener("htmx:wsAfterMessage", function () {
    startCountdowns(document);
    restoreFocus();
    announce();
  });
  document.addEventListener("htmx:wsOpen", function () { setConnection(""); });
  document.addEventListener("htmx:wsClose", function (event) {
    var code = event.detail && event.detail.event ? event.detail.event.code : 0;
    if (code === 1006 || code === 1012 || code === 1013) setConnection("Connection lost. Reconnecting…");
  });
  // A student's answer buttons lock at once; the server's reply then replaces the stage. The chosen
  // button is not disabled, so keyboard focus stays on it until then; a second press is not sent.
  document.addEventListener("htmx:wsBeforeSend", function (event) {
    var button = event.target.closest ? event.target.closest("button.answer") : null;
    if (!button) return;
    var grid = button.closest(".answer-grid");
    if (grid.classList.contains("is-answered")) { event.preventDefault(); return; }
    grid.classList.add("is-answered");
    button.classList.add("is-chosen");
    button.setAttribute("aria-pressed", "true");
    button.setAttribute("aria-disabled", "true");
    grid.querySelectorAll("button").forEach(function (b) { if (b !== button) b.disabled = true; });
  });
})();
