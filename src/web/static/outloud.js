// Outloud's progressive enhancement. Every page works without it; with it:
// the header menu stays open on wide screens, and textareas with a
// data-count attribute show how many characters are left.
"use strict";
(function () {
  function wide() { return window.matchMedia("(min-width: 60rem)").matches; }
  function syncMenu() {
    var menu = document.querySelector(".menu");
    if (menu && wide()) { menu.open = true; }
  }
  function counters() {
    document.querySelectorAll("textarea[data-count]").forEach(function (area) {
      var out = document.getElementById(area.getAttribute("data-count"));
      var max = parseInt(area.getAttribute("maxlength") || "0", 10);
      if (!out || !max) { return; }
      var update = function () { out.textContent = (max - area.value.length) + " characters left"; };
      area.addEventListener("input", update);
      update();
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    syncMenu();
    counters();
    window.addEventListener("resize", syncMenu);
  });
})();
