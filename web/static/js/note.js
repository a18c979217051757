// Text fields with a live character count (data-counter names the output). The fields have no
// maxlength, so a pasted text is never cut silently: the count warns when the limit is reached
// and says how much is over it; the server refuses a text over the limit with the same words.
(function () {
  "use strict";
  var fields = document.querySelectorAll("textarea[data-counter]");
  Array.prototype.forEach.call(fields, function (field) {
    var output = document.getElementById(field.getAttribute("data-counter"));
    if (!output) { return; }
    var max = parseInt(field.getAttribute("data-limit"), 10);
    // The words come from the page (translated there); only the numbers are filled in here.
    var template = output.getAttribute("data-template") || "{n} / {max}";
    var full = output.getAttribute("data-full") || template;
    var over = output.getAttribute("data-over") || template;
    function fill(words, n) {
      return words.replace("{n}", n.toLocaleString("da-DK")).replace("{max}", max.toLocaleString("da-DK"));
    }
    function update() {
      var n = field.value.length;
      var words = n > max ? over : (n === max ? full : template);
      output.textContent = fill(words, n);
      output.classList.toggle("warning", n >= max);
      if (n > max) { field.setAttribute("aria-invalid", "true"); }
      else if (!field.hasAttribute("data-server-invalid")) { field.removeAttribute("aria-invalid"); }
    }
    field.addEventListener("input", update);
    update();
  });
})();
