/* The quiz page's "Order" fields, for the keyboard: type a row's new place (0 is first) and press
   Enter or leave the field, and the question or answer moves there, as dragging it does. Every row of
   that list is then numbered from its place, which is what nested_admin does after a drag and on save. */
(function () {
  "use strict";

  function rowsOf(group) {
    var prefix = group.id.replace(/-group$/, "");
    var pattern = new RegExp("^" + prefix.replace(/[-]/g, "\\-") + "-\\d+$");
    return Array.prototype.filter.call(group.querySelectorAll(".djn-inline-form"), function (row) {
      return pattern.test(row.id);
    });
  }

  function orderInput(row) {
    return row.querySelector('input[name="' + row.id + '-order"]');
  }

  function announce(text) {
    var region = document.getElementById("quiz-editor-status");
    if (region) region.textContent = text;
  }

  function move(input) {
    var row = input.closest(".djn-inline-form");
    var group = row && row.closest(".djn-group");
    if (!group || orderInput(row) !== input) return;
    var rows = rowsOf(group);
    var others = rows.filter(function (other) { return other !== row; });
    var wanted = parseInt(input.value, 10);
    var place = Math.max(0, Math.min(isNaN(wanted) ? rows.indexOf(row) : wanted, others.length));
    if (place !== rows.indexOf(row)) {
      var before = others[place];
      if (before) before.parentNode.insertBefore(row, before);
      else others[others.length - 1].after(row);
      input.focus();
    }
    rowsOf(group).forEach(function (each, index) {
      var field = orderInput(each);
      if (field) field.value = index;
    });
    var what = group.id.indexOf("-choices-") === -1 ? "Question" : "Answer";
    announce(what + " moved to place " + place + " of " + (others.length + 1) + " (0 is first).");
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input.order-input")) move(event.target);
  });
  document.addEventListener("keydown", function (event) {
    // Enter moves the row instead of saving the whole quiz.
    if (event.key === "Enter" && event.target.matches && event.target.matches("input.order-input")) {
      event.preventDefault();
      move(event.target);
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var region = document.createElement("p");
    region.id = "quiz-editor-status";
    region.className = "visually-hidden";
    region.setAttribute("role", "status");
    var form = document.querySelector("#quiz_form, form#quiz_form");
    (form || document.body).appendChild(region);
  });
})();
