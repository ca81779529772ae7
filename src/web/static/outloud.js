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

// Narrations: in a compose form, the submit button and the visibility hint
// follow the chosen visibility and community ("Share with followers",
// "Post in Rust guild"), as the server renders them.
(function () {
  function follow(form) {
    var vis = form.querySelector("select[name=visibility]");
    var com = form.querySelector("select[name=community]");
    var button = form.querySelector("button[data-submit]");
    var hint = form.querySelector("[data-visibility-hint]");
    if (!vis || !button) { return; }
    var update = function () {
      var chosen = vis.options[vis.selectedIndex];
      var community = com && com.value ? com.options[com.selectedIndex] : null;
      if (hint && chosen) { hint.textContent = chosen.getAttribute("data-explain") || ""; }
      if (community) {
        button.textContent = "Post in " + community.textContent;
      } else if (chosen) {
        button.textContent = chosen.getAttribute("data-submit") || button.textContent;
      }
    };
    vis.addEventListener("change", update);
    if (com) { com.addEventListener("change", update); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.compose").forEach(follow);
  });
})();
