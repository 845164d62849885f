// Small behaviour htmx cannot express: a countdown that follows the server's clock, the
// connection state, keeping keyboard focus across pushes, reading out changed counts, locking an
// answer once sent, the answer inputs HTML has no element for (reordering, a slider's value), and
// the projected host page's keys (Space or Enter: the main action; f: full screen).
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
  // The join form is boosted: its answer, the play page, replaces the form without a page load.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.boosted) { startCountdowns(document); announce(); }
  });
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
    if (code === 1006 || code === 1012 || code === 1013) {
      // The page's words are in its language, from the template (data-lost on #connection).
      var line = document.getElementById("connection");
      setConnection((line && line.dataset.lost) || "Connection lost. Reconnecting…");
    }
  });
  // A student's answer locks at once; the server's reply then replaces the stage. The pressed
  // button (an option, or a form's Submit) is not disabled, so keyboard focus stays on it until
  // then; a second press is not sent.
  document.addEventListener("htmx:wsBeforeSend", function (event) {
    var target = event.target;
    var form = target.matches && target.matches("form[data-answer-form]") ? target : null;
    var button = form ? form.querySelector("button[type=submit]") :
      (target.closest ? target.closest("button.answer") : null);
    if (!button) return;
    var box = form || button.closest(".answer-grid");
    if (box.classList.contains("is-answered")) { event.preventDefault(); return; }
    if (form && form.querySelector("input[type=checkbox]") && !form.querySelector("input:checked")) {
      event.preventDefault();  // the server would refuse an empty pick; say so here instead
      var error = form.querySelector("[data-form-error]");
      error.textContent = error.dataset.empty || "Pick at least one answer.";
      form.querySelector("input[type=checkbox]").focus();
      return;
    }
    box.classList.add("is-answered");
    button.classList.add("is-chosen");
    button.setAttribute("aria-pressed", "true");
    button.setAttribute("aria-disabled", "true");
    box.querySelectorAll("button, input").forEach(function (el) { if (el !== button) el.disabled = true; });
    rememberPicked(box);
  });

  // A refused answer (too late, already answered elsewhere, a bad value) comes back as a toast while
  // the question stays up: unlock it, or the student would be stuck with an answer that was not taken.
  function unlockAnswer() {
    var box = document.querySelector("#stage .is-answered");
    if (!box) return;
    box.classList.remove("is-answered");
    box.querySelectorAll("button, input").forEach(function (el) {
      el.disabled = false;
      el.classList.remove("is-chosen");
      el.removeAttribute("aria-pressed");
      if (!el.matches(".move")) el.removeAttribute("aria-disabled");
    });
  }
  document.addEventListener("htmx:wsAfterMessage", function (event) {
    if (/id="toast"/.test(event.detail.message) && document.querySelector("#toast:not(:empty)")) unlockAnswer();
  });

  // The reply to an answer names the picked options by position only (it is rendered without the
  // database); put their texts in from the stage they were picked on.
  var picked = null;
  function rememberPicked(box) {
    var stage = box.closest("#stage");
    var texts = {};
    // A one-tap button's position is its value; toggles and order items carry data-pos.
    box.querySelectorAll("[data-pos], button.answer[value]").forEach(function (el) {
      var text = el.querySelector(".option-text");
      if (text) texts[el.dataset.pos || el.value] = text.textContent;
    });
    picked = { num: stage ? stage.dataset.questionNum : null, texts: texts };
  }
  document.addEventListener("htmx:wsAfterMessage", function () {
    var stage = document.getElementById("stage");
    if (!picked || !stage || stage.dataset.questionNum !== picked.num) return;
    stage.querySelectorAll("[data-fill-pos]").forEach(function (el) {
      var text = picked.texts[el.dataset.fillPos];
      if (text !== undefined) { el.textContent = text; el.removeAttribute("data-fill-pos"); }
    });
  });

  // --- order questions: move items with their arrow buttons (keyboard, tap) or by dragging -------

  function orderItems(list) { return Array.prototype.slice.call(list.querySelectorAll(".order-item")); }

  // The hidden inputs move with their items, so the form sends the positions in the order shown.
  function orderChanged(list, item, announceIt) {
    var items = orderItems(list);
    items.forEach(function (el, i) {
      el.querySelector("[data-move='-1']").setAttribute("aria-disabled", String(i === 0));
      el.querySelector("[data-move='1']").setAttribute("aria-disabled", String(i === items.length - 1));
    });
    var status = list.parentNode.querySelector("[data-order-status]");
    if (announceIt && status) {
      // "{item}: {pos} of {total}", as the template put it in the page's language.
      var words = status.dataset.position || "{item}: {pos} of {total}";
      status.textContent = words.replace("{pos}", String(items.indexOf(item) + 1))
        .replace("{total}", String(items.length))
        .replace("{item}", item.querySelector(".option-text").textContent);  // last: it is quiz text
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.move") : null;
    if (!button || button.getAttribute("aria-disabled") === "true" || button.disabled) return;
    var item = button.closest(".order-item");
    var list = item.parentNode;
    var items = orderItems(list);
    var to = items.indexOf(item) + Number(button.dataset.move);
    if (to < 0 || to >= items.length) return;
    list.insertBefore(item, Number(button.dataset.move) < 0 ? items[to] : items[to].nextSibling);
    orderChanged(list, item, true);
    button.focus();  // moving the item in the DOM drops focus; keep it on the arrow just pressed
  });

  // Pointer events, not HTML drag and drop: the same code works for a finger, a pen and a mouse.
  // The listeners sit on the document: moving the item in the DOM releases any pointer capture.
  document.addEventListener("pointerdown", function (event) {
    var handle = event.target.closest ? event.target.closest(".drag-handle") : null;
    var item = handle ? handle.closest(".order-item") : null;
    if (!item || item.closest(".is-answered") || event.button > 0) return;
    var list = item.parentNode;
    var pointer = event.pointerId;
    event.preventDefault();
    item.classList.add("is-dragging");
    function move(e) {
      if (e.pointerId !== pointer) return;
      var under = document.elementFromPoint(e.clientX, e.clientY);
      var over = under ? under.closest(".order-item") : null;
      if (!over || over === item || over.parentNode !== list) return;
      var box = over.getBoundingClientRect();
      var before = e.clientY < box.top + box.height / 2 ? over : over.nextSibling;
      if (before !== item && before !== item.nextSibling) list.insertBefore(item, before);
    }
    function end(e) {
      if (e.pointerId !== pointer) return;
      item.classList.remove("is-dragging");
      document.removeEventListener("pointermove", move);
      document.removeEventListener("pointerup", end);
      document.removeEventListener("pointercancel", end);
      orderChanged(list, item, true);
    }
    document.addEventListener("pointermove", move);
    document.addEventListener("pointerup", end);
    document.addEventListener("pointercancel", end);
  });

  // --- slider questions: show the value picked, and step it by one with - and + ---------------

  document.addEventListener("input", function (event) {
    if (!event.target.matches || !event.target.matches("input[data-slider]")) return;
    var output = event.target.form.querySelector("[data-slider-output]");
    if (output) output.value = event.target.value;
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.nudge") : null;
    if (!button || button.disabled) return;
    var range = button.form.querySelector("input[data-slider]");
    if (Number(button.dataset.nudge) < 0) range.stepDown(); else range.stepUp();
    range.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // --- the host's projected page: its main action by keyboard, full screen, the players' panel ----

  function hostPage() { return document.querySelector("[data-host]"); }

  // A focused control that uses Space or Enter itself (a field, a button, a link, a summary) keeps them.
  var USES_KEYS = "input, textarea, select, button, a[href], summary, [contenteditable], [role=button], " +
    "[role=link], [role=checkbox], [role=radio], [role=switch], [role=tab], [role=option], [role=menuitem]";
  function usesKeys(el) { return !!(el && el.closest && el.closest(USES_KEYS)); }
  function typing(el) {
    return !!(el && el.closest && el.closest("input, textarea, select, [contenteditable]"));
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen().catch(function () {});
    else document.documentElement.requestFullscreen().catch(function () {});
  }
  document.addEventListener("fullscreenchange", function () {
    var button = document.querySelector("[data-fullscreen]");
    if (button) button.setAttribute("aria-pressed", String(!!document.fullscreenElement));
  });
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-fullscreen]");
    if (button && document.fullscreenEnabled) button.hidden = false;  // not on every phone
  });

  // While a question is up, the lobby (to kick someone) is a panel the Players button opens.
  function setPlayersOpen(open) {
    var toggle = document.querySelector("[data-players-toggle]");
    hostPage().classList.toggle("is-players-open", open);
    if (toggle) toggle.setAttribute("aria-expanded", String(open));
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target || !hostPage()) return;
    if (target.closest("[data-fullscreen]")) toggleFullscreen();
    if (target.closest("[data-players-toggle]")) setPlayersOpen(!hostPage().classList.contains("is-players-open"));
  });

  // The main action's command (its hx-vals) on screen, and since when; and the last one sent by key.
  var shown = { command: null, at: -Infinity };
  var sentCommand = null;
  function mainAction() { return document.querySelector("#controls [data-main-action]"); }
  function noteMainAction(changed) {
    var main = mainAction();
    var command = main ? main.getAttribute("hx-vals") : null;
    if (command === shown.command) return;
    shown = { command: command, at: changed ? performance.now() : -Infinity };
    sentCommand = null;  // a new screen: its main action is yet to be pressed
  }
  document.addEventListener("DOMContentLoaded", function () { noteMainAction(false); });
  document.addEventListener("htmx:wsAfterMessage", function (event) {
    noteMainAction(true);
    if (/id="toast"/.test(event.detail.message)) sentCommand = null;  // refused: the key may try again
  });

  document.addEventListener("keydown", function (event) {
    var host = hostPage();
    if (!host || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var focus = document.activeElement;
    if (event.key === "Escape" && host.classList.contains("is-players-open")) {
      setPlayersOpen(false);
      var toggle = document.querySelector("[data-players-toggle]");
      if (toggle) toggle.focus();
    } else if ((event.key === "f" || event.key === "F") && !typing(focus) && document.fullscreenEnabled) {
      event.preventDefault();
      toggleFullscreen();
    } else if ((event.key === " " || event.key === "Enter") && !usesKeys(focus)) {
      var main = mainAction();
      if (!main || main.disabled) return;
      event.preventDefault();  // and Space does not scroll
      noteMainAction(false);
      // A held key, a second press before the screen has changed, or one just after it changed (a
      // double press) would skip a screen: one press, one action.
      if (event.repeat || sentCommand === shown.command || performance.now() - shown.at < 400) return;
      sentCommand = shown.command;
      main.click();
    }
  });
})();
