// Note form: a live character count for the situation field (20 to 5,000 characters).
(function () {
  "use strict";
  var field = document.querySelector("textarea[data-counter]");
  if (!field) { return; }
  var output = document.getElementById(field.getAttribute("data-counter"));
  var max = parseInt(field.getAttribute("maxlength"), 10);
  // The words come from the page (translated there); only the numbers are filled in here.
  var template = output.getAttribute("data-template") || "{n} / {max}";
  function update() {
    output.textContent = template.replace("{n}", field.value.length).replace("{max}", max);
  }
  field.addEventListener("input", update);
  update();
})();
