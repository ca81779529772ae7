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

// Images on cards: each link with a data-blurhash gets a canvas painted
// with the decoded blurhash, behind the lazily loading image, so the box
// shows the picture's colours until it arrives. Without script the box is
// a neutral colour (outloud.css). The decoder follows the published
// blurhash algorithm: base 83 digits, a DC colour and cosine AC terms.
(function () {
  var DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
  function base83(s) {
    var v = 0;
    for (var i = 0; i < s.length; i++) {
      var d = DIGITS.indexOf(s.charAt(i));
      if (d < 0) { return -1; }
      v = v * 83 + d;
    }
    return v;
  }
  function toLinear(c) {
    var x = c / 255;
    return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
  }
  function toSrgb(v) {
    var x = Math.max(0, Math.min(1, v));
    return Math.round((x <= 0.0031308 ? x * 12.92 : 1.055 * Math.pow(x, 1 / 2.4) - 0.055) * 255);
  }
  function signedPow(v, e) { return (v < 0 ? -1 : 1) * Math.pow(Math.abs(v), e); }
  // RGBA pixels of a w×h picture, or null for a malformed hash.
  function decode(hash, w, h) {
    if (!hash || hash.length < 6) { return null; }
    var size = base83(hash.charAt(0));
    var nx = (size % 9) + 1, ny = Math.floor(size / 9) + 1;
    if (size < 0 || hash.length !== 4 + 2 * nx * ny) { return null; }
    var max = (base83(hash.charAt(1)) + 1) / 166;
    var colours = [];
    for (var i = 0; i < nx * ny; i++) {
      if (i === 0) {
        var dc = base83(hash.substring(2, 6));
        colours.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
      } else {
        var ac = base83(hash.substring(4 + i * 2, 6 + i * 2));
        colours.push([
          signedPow((Math.floor(ac / 361) - 9) / 9, 2) * max,
          signedPow(((Math.floor(ac / 19) % 19) - 9) / 9, 2) * max,
          signedPow(((ac % 19) - 9) / 9, 2) * max
        ]);
      }
    }
    var px = new Uint8ClampedArray(w * h * 4);
    for (var y = 0; y < h; y++) {
      for (var x = 0; x < w; x++) {
        var r = 0, g = 0, b = 0;
        for (var j = 0; j < ny; j++) {
          for (var k = 0; k < nx; k++) {
            var basis = Math.cos(Math.PI * x * k / w) * Math.cos(Math.PI * y * j / h);
            var c = colours[k + j * nx];
            r += c[0] * basis; g += c[1] * basis; b += c[2] * basis;
          }
        }
        var at = 4 * (x + y * w);
        px[at] = toSrgb(r); px[at + 1] = toSrgb(g); px[at + 2] = toSrgb(b); px[at + 3] = 255;
      }
    }
    return px;
  }
  function paint(link) {
    var px = decode(link.getAttribute("data-blurhash"), 32, 32);
    if (!px) { return; }
    var canvas = document.createElement("canvas");
    canvas.width = 32; canvas.height = 32;
    canvas.className = "blurhash";
    canvas.setAttribute("aria-hidden", "true");
    var ctx = canvas.getContext("2d");
    if (!ctx) { return; }
    ctx.putImageData(new ImageData(px, 32, 32), 0, 0);
    link.insertBefore(canvas, link.firstChild);
  }
  // The composer's file inputs show the chosen image (as a data: URL,
  // which the pages' CSP allows).
  function previews(input) {
    var out = document.getElementById(input.getAttribute("data-preview"));
    if (!out || !window.FileReader) { return; }
    input.addEventListener("change", function () {
      out.textContent = "";
      out.hidden = true;
      var file = input.files && input.files[0];
      if (!file || file.type.indexOf("image/") !== 0) { return; }
      var reader = new FileReader();
      reader.onload = function () {
        var img = document.createElement("img");
        img.src = reader.result;
        img.alt = "Preview of " + file.name;
        out.appendChild(img);
        out.hidden = false;
      };
      reader.readAsDataURL(file);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("a[data-blurhash]").forEach(paint);
    document.querySelectorAll("input[type=file][data-preview]").forEach(previews);
  });
})();

// Live updates on home and notifications: the page's [data-live] element
// names what it lists; /live streams the signed-in person's events. A new
// narration or notification shows a bar that reloads the page to show it
// (nothing is inserted, so what is shown always went through the server's
// visibility rules), a notification also updates the count in the menu,
// and a deleted narration's card goes away.
(function () {
  function badge(n) {
    var link = document.getElementById("nav-notifications");
    if (!link) { return; }
    var count = link.querySelector(".count");
    if (!count) {
      count = document.createElement("span");
      count.className = "count";
      link.appendChild(document.createTextNode(" "));
      link.appendChild(count);
    }
    count.textContent = String(n);
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = " unread";
    count.appendChild(hidden);
  }
  function start(marker) {
    if (!window.EventSource) { return; }
    var kind = marker.getAttribute("data-live");
    var fresh = 0;
    var unread = parseInt(marker.getAttribute("data-unread") || "0", 10) || 0;
    var bar = document.createElement("p");
    bar.className = "live-bar";
    bar.id = "live-bar";
    bar.setAttribute("role", "status");
    bar.hidden = true;
    var link = document.createElement("a");
    link.href = window.location.pathname;
    marker.appendChild(bar);
    function more(what) {
      // The link joins the bar with its text: an empty link, even hidden,
      // is an unnamed control to assistive technology.
      if (!link.parentNode) { bar.appendChild(link); }
      fresh += 1;
      link.textContent = fresh + " new " + what + (fresh === 1 ? "" : "s") + " \u2014 show";
      bar.hidden = false;
    }
    var source = new EventSource("/live");
    source.addEventListener("update", function (e) {
      if (kind !== "home") { return; }
      var status;
      try { status = JSON.parse(e.data); } catch (err) { return; }
      if (status && status.id && document.getElementById("n-" + status.id)) { return; }
      more("narration");
    });
    source.addEventListener("notification", function () {
      unread += 1;
      badge(unread);
      if (kind === "notifications") { more("notification"); }
    });
    source.addEventListener("delete", function (e) {
      var card = document.getElementById("n-" + String(e.data).trim());
      if (card) { card.parentNode.removeChild(card); }
    });
    // Leaving the page closes the stream (no reconnect while unloading).
    window.addEventListener("pagehide", function () { source.close(); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var marker = document.querySelector("[data-live]");
    if (marker) { start(marker); }
  });
})();
