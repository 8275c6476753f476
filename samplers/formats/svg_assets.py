"""The style sheet and script embedded in every flame graph SVG (no network, no libraries).

The script reads each frame's geometry from data-* attributes (fractions of the root), so
zooming is a re-layout of those fractions; search accepts a regular expression and falls
back to a plain substring when the text is not a valid one. `#search=TERM` and `#zoom=N`
(the N-th frame, parents first) in the URL search or zoom on load: handy for links, and how
the tests drive the script in headless Chromium.
"""

from __future__ import annotations

CSS = """
text { font-family: "DejaVu Sans Mono", Menlo, Consolas, "Noto Sans Mono CJK SC", monospace; font-size: 12px; fill: #111; }
#title { font-size: 17px; font-weight: bold; }
#meta, #legend, #details { fill: #444; }
#matched { font-weight: bold; }
g.frame { cursor: pointer; }
g.frame rect { stroke: #fff; stroke-width: 0.5; }
g.frame:hover rect, g.frame:focus rect { stroke: #000; stroke-width: 1.5; }
g.frame.match rect { fill: #d63bd6; stroke: #000; stroke-width: 1.5; }
g.frame.match text { font-weight: bold; text-decoration: underline; }
g.frame.ancestor rect { opacity: 0.45; }
g.frame.hidden { display: none; }
#reset { cursor: pointer; }
#reset.disabled { opacity: 0.35; cursor: default; }
#reset rect { fill: #eee; stroke: #888; }
input#search { width: 100%; box-sizing: border-box; font: 12px monospace; padding: 2px 4px; }
"""

SCRIPT = r"""
(function () {
  "use strict";
  var root = document.documentElement;
  var PAD = +root.getAttribute("data-pad"), W = +root.getAttribute("data-inner-width");
  var CHAR = 7.3, EPS = 1e-9;
  var frames = [], zoomed = null, term = "";
  var details = document.getElementById("details");
  var matched = document.getElementById("matched");
  var reset = document.getElementById("reset");
  var input = document.getElementById("search");

  function fit(f, px) {
    var label = f.label, n = Math.floor((px - 6) / CHAR);
    f.text.textContent = n < 3 ? "" : (label.length <= n ? label : label.slice(0, n - 2) + "..");
  }
  function place(f, x, w) {
    var px = Math.max(w * W, 0.5);
    f.rect.setAttribute("x", (PAD + x * W).toFixed(2));
    f.rect.setAttribute("width", px.toFixed(2));
    f.text.setAttribute("x", (PAD + x * W + 3).toFixed(2));
    fit(f, px);
  }
  function inside(f, t) { return f.d >= t.d && f.x >= t.x - EPS && f.x + f.w <= t.x + t.w + EPS; }
  function above(f, t) { return f.d < t.d && f.x <= t.x + EPS && f.x + f.w >= t.x + t.w - EPS; }
  function zoom(t) {
    zoomed = t.d === 0 ? null : t;
    frames.forEach(function (f) {
      f.g.classList.remove("hidden", "ancestor");
      if (!zoomed) { place(f, f.x, f.w); }
      else if (inside(f, t)) { place(f, (f.x - t.x) / t.w, f.w / t.w); }
      else if (above(f, t)) { f.g.classList.add("ancestor"); place(f, 0, 1); }
      else { f.g.classList.add("hidden"); }
    });
    reset.classList.toggle("disabled", !zoomed);
    search(term);
  }
  function search(text) {
    term = text || "";
    var re = null, needle = term.toLowerCase();
    if (term) { try { re = new RegExp(term, "i"); } catch (e) { re = null; } }
    var spans = [], count = 0;
    frames.forEach(function (f) {
      var hit = term !== "" && f.d > 0 && (re ? re.test(f.name) : f.name.toLowerCase().indexOf(needle) >= 0);
      f.g.classList.toggle("match", hit);
      if (hit) { count++; spans.push([f.x, f.x + f.w]); }
    });
    if (!term) { matched.textContent = ""; return; }
    var lo = zoomed ? zoomed.x : 0, hi = zoomed ? zoomed.x + zoomed.w : 1, sum = 0, end = -1;
    spans.sort(function (a, b) { return a[0] - b[0]; });
    spans.forEach(function (s) {
      var a = Math.max(s[0], lo, end), b = Math.min(s[1], hi);
      if (b > a) { sum += b - a; }
      end = Math.max(end, s[1]);
    });
    matched.textContent = "Matched: " + (100 * sum / (hi - lo)).toFixed(1) + "% of " +
      (zoomed ? "the zoomed frame" : "all samples") + " (" + count + " frames)";
  }
  Array.prototype.forEach.call(document.querySelectorAll("g.frame"), function (g) {
    var f = {
      g: g, x: +g.getAttribute("data-x"), w: +g.getAttribute("data-w"), d: +g.getAttribute("data-d"),
      name: g.getAttribute("data-name"), label: g.getAttribute("data-label"),
      info: g.querySelector("title").textContent,
      rect: g.querySelector("rect"), text: g.querySelector("text")
    };
    frames.push(f);
    g.addEventListener("click", function () { zoom(f); });
    g.addEventListener("mouseover", function () { details.textContent = f.info; });
    g.addEventListener("keydown", function (e) { if (e.key === "Enter") { zoom(f); } });
  });
  function unzoom() { if (frames.length) { zoom(frames[0]); } }
  reset.addEventListener("click", unzoom);
  reset.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { unzoom(); } });
  input.addEventListener("input", function () { search(input.value); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { input.value = ""; search(""); unzoom(); }
    if ((e.ctrlKey || e.metaKey) && e.key === "f") { e.preventDefault(); input.focus(); }
  });
  frames.forEach(function (f) { place(f, f.x, f.w); });
  var z = /[#&]zoom=(\d+)/.exec(window.location.hash);
  if (z && frames[+z[1]]) { zoom(frames[+z[1]]); }
  var m = /[#&]search=([^&]*)/.exec(window.location.hash);
  if (m) { input.value = decodeURIComponent(m[1]); search(input.value); }
})();
"""
