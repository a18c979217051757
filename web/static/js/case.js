// Case page: keyboard shortcuts (j/k move, c confirm, r reject), evidence highlighting and
// the explanation of the suggestion in focus.
(function () {
  "use strict";
  var cards = Array.prototype.slice.call(document.querySelectorAll(".suggestion"));
  var marks = Array.prototype.slice.call(document.querySelectorAll("mark.evidence"));
  var current = -1;

  function highlight(ref) {
    marks.forEach(function (mark) {
      var refs = (mark.getAttribute("data-refs") || "").split(" ");
      mark.classList.toggle("active", ref !== null && refs.indexOf(ref) !== -1);
    });
  }

  // The explanation (summary and the act's words) is open for the suggestion in focus only:
  // the page opens the first undecided one; j/k move the open one along with the selection.
  var shown = document.querySelector(".suggestion details.provision[open]");

  function explain(card) {
    var details = card.querySelector("details.provision");
    if (shown && shown !== details) { shown.open = false; }
    if (details) { details.open = true; }
    shown = details;
  }

  function select(index, open) {
    if (!cards.length) { return; }
    current = Math.max(0, Math.min(cards.length - 1, index));
    cards.forEach(function (card, i) { card.classList.toggle("selected", i === current); });
    if (open) { explain(cards[current]); }
    cards[current].focus();
    highlight(cards[current].getAttribute("data-ref"));
  }

  function press(decision) {
    if (current < 0) { return; }
    var button = cards[current].querySelector('button[value="' + decision + '"]');
    if (button) { button.click(); }
  }

  cards.forEach(function (card, i) {
    card.addEventListener("focusin", function () {
      current = i;
      cards.forEach(function (other, j) { other.classList.toggle("selected", j === i); });
      highlight(card.getAttribute("data-ref"));
    });
    card.addEventListener("mouseenter", function () { highlight(card.getAttribute("data-ref")); });
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    // Typing a reason or a search must not trigger the shortcuts.
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    if (event.key === "j") { select(current + 1, true); event.preventDefault(); }
    else if (event.key === "k") { select(current < 0 ? 0 : current - 1, true); event.preventDefault(); }
    else if (event.key === "c") { press("confirm"); event.preventDefault(); }
    else if (event.key === "r") { press("reject"); event.preventDefault(); }
  });

  // After a decision the page comes back with #entry-...: keep that card selected.
  if (window.location.hash) {
    var again = cards.findIndex(function (card) { return "#" + card.id === window.location.hash; });
    if (again !== -1) { select(again); }
  }

  // Closing asks first: the first press opens the dialog; "Ja, luk sagen" sends the form.
  var closeForm = document.getElementById("close-form");
  var dialog = document.getElementById("close-dialog");
  if (closeForm && dialog && dialog.showModal) {
    closeForm.addEventListener("submit", function (event) {
      var by = event.submitter;
      if (by && by.name === "confirmed") { return; }
      event.preventDefault();
      if (!dialog.open) { dialog.showModal(); }
    });
    document.getElementById("cancel-close").addEventListener("click", function () { dialog.close(); });
  }
  // "Henvist til" needs the place; the field shows only with that reason.
  var reason = document.getElementById("reason");
  var place = document.getElementById("reason-text-field");
  if (reason && place) {
    var toggle = function () { place.hidden = reason.value !== "referred"; };
    reason.addEventListener("change", toggle);
    toggle();
  }
})();
