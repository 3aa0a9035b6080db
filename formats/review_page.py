"""The review page's style sheet and script, kept apart from the writer that fills them in.

The page (see :mod:`qalign.formats.review_html`) runs with a strict Content-Security-Policy
that allows exactly these two inline blocks by their SHA-256 hashes, so nothing here may
use inline event handlers or ``style`` attributes; the script styles the canvas only
through its 2-D context.

The script's model of "the word under the playhead": the last word whose start is at or
before the audio's ``currentTime`` (the first word before any word starts). Exactly one
word carries ``aria-current="true"`` once the page has loaded; it moves on every
``timeupdate``, ``seeked`` and animation frame while playing.

Keys: space plays or pauses; ``n`` / ``j`` jump to the next flagged stretch, ``p`` / ``k``
to the previous one (seeking, and keeping the play state).
"""

from __future__ import annotations

CSS = """
:root { color-scheme: light; --ink: #1d1d1f; --muted: #6b6b70; --cur: #1a56db; }
* { box-sizing: border-box; }
body { font: 16px/1.7 system-ui, sans-serif; color: var(--ink); margin: 0; background: #fafafa; }
header, #player, #flags, #transcript, footer { max-width: 60rem; margin: 0 auto; padding: 0 1rem; }
header h1 { font-size: 1.25rem; margin: 1rem 0 0.25rem; word-break: break-all; }
.summary, footer { color: var(--muted); font-size: 0.875rem; }
#player { position: sticky; top: 0; background: #fafafa; padding-top: 0.5rem; z-index: 1;
  border-bottom: 1px solid #ddd; }
#player audio { width: 100%; }
#strip { display: block; width: 100%; height: 72px; background: #fff; border: 1px solid #ddd;
  cursor: pointer; }
#flags h2 { font-size: 1rem; margin: 1rem 0 0.25rem; }
#flags ol { margin: 0; padding-left: 1.5rem; max-height: 12rem; overflow: auto; }
#flags a { color: inherit; }
#flags a.unaligned { color: #a61b1b; }
#flags a.uncertain { color: #8a5a00; }
#flags li.here { font-weight: 600; }
#transcript p { margin: 0.75rem 0; }
.w { cursor: pointer; border-radius: 3px; padding: 0 1px; }
.w:hover { background: #e8eefc; }
.w.q3 { background: #f1f8e9; }
.w.q2 { background: #fff8d6; }
.w.q1 { background: #ffe9c7; }
.w.q0 { background: #ffd8b8; }
.w.uncertain { background: #ffcf70; text-decoration: underline dotted #8a5a00; }
.w.unaligned { background: #f7b3b3; color: #6d1010; font-style: italic;
  text-decoration: line-through #a61b1b; }
.w[aria-current="true"] { background: var(--cur); color: #fff; text-decoration: none; }
kbd { border: 1px solid #bbb; border-radius: 3px; padding: 0 4px; font-size: 0.8rem; }
"""

JS = r"""
(function () {
  "use strict";
  var audio = document.getElementById("audio");
  var canvas = document.getElementById("strip");
  var data = JSON.parse(document.getElementById("qalign-data").textContent);
  var words = Array.prototype.slice.call(document.querySelectorAll("#transcript .w"));
  var starts = words.map(function (w) { return parseFloat(w.dataset.start); });
  var ends = words.map(function (w) { return parseFloat(w.dataset.end); });
  var flagLinks = Array.prototype.slice.call(document.querySelectorAll("#flags a[data-start]"));
  var flagStarts = flagLinks.map(function (a) { return parseFloat(a.dataset.start); });
  var env = decode(data.envelope || "");
  var current = -1;
  var currentFlag = -1;
  var follow = false;

  function decode(b64) {
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  function lastAtOrBefore(list, t) {
    var lo = 0, hi = list.length - 1, best = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (list[mid] <= t) { best = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return best;
  }
  function wordAt(t) {
    if (!words.length) { return -1; }
    return Math.max(0, lastAtOrBefore(starts, t));
  }
  function now() { return audio.currentTime || 0; }
  function mark(i) {
    if (i !== current) {
      if (current >= 0) { words[current].removeAttribute("aria-current"); }
      current = i;
      if (i >= 0) {
        words[i].setAttribute("aria-current", "true");
        if (follow) { keepVisible(words[i]); }
      }
    }
    var f = lastAtOrBefore(flagStarts, now() + 1e-6);
    if (f !== currentFlag) {
      if (currentFlag >= 0) { flagLinks[currentFlag].parentNode.classList.remove("here"); }
      currentFlag = f;
      if (f >= 0) { flagLinks[f].parentNode.classList.add("here"); }
    }
  }
  function keepVisible(el) {
    var r = el.getBoundingClientRect();
    var top = document.getElementById("player").getBoundingClientRect().bottom;
    if (r.top < top || r.bottom > window.innerHeight) { el.scrollIntoView({block: "center"}); }
  }
  function sync() { mark(wordAt(now())); draw(); }
  function seek(t, play) {
    audio.currentTime = t;
    follow = true;
    mark(wordAt(t));
    draw();
    if (play) { start(); }
  }
  function start() {
    var p = audio.play();
    if (p && p.catch) { p.catch(function () { /* no source, or playback refused */ }); }
  }
  function toggle() { if (audio.paused) { start(); } else { audio.pause(); } }
  function jump(step) {
    if (!flagLinks.length) { return; }
    var t = now(), k;
    if (step > 0) {
      k = lastAtOrBefore(flagStarts, t + 1e-3) + 1;
      if (k >= flagLinks.length) { return; }
    } else {
      k = lastAtOrBefore(flagStarts, t - 0.5);
      if (k < 0) { return; }
    }
    seek(flagStarts[k], !audio.paused);
    flagLinks[k].focus({preventScroll: true});
  }
  function loop() { sync(); if (!audio.paused) { window.requestAnimationFrame(loop); } }

  // -- the loudness strip: the envelope with word boundaries in a window of the audio --
  function span() { return Math.min(data.duration || 0, 20) || 1; }
  function windowStart(t) {
    var w = span();
    return Math.min(Math.floor(t / w) * w, Math.max(0, (data.duration || 0) - w));
  }
  function draw() {
    if (!canvas.getContext) { return; }
    var ratio = window.devicePixelRatio || 1;
    var width = canvas.clientWidth * ratio, height = canvas.clientHeight * ratio;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width; canvas.height = height;
    }
    var ctx = canvas.getContext("2d"), w = span(), t0 = windowStart(now());
    var x = function (t) { return (t - t0) / w * width; };
    ctx.clearRect(0, 0, width, height);
    var colours = {aligned: "rgba(46,125,50,0.10)", uncertain: "rgba(255,160,0,0.35)",
      unaligned: "rgba(211,47,47,0.35)"};
    for (var i = lastAtOrBefore(ends, t0) + 1; i < words.length && starts[i] < t0 + w; i++) {
      var status = words[i].dataset.status;
      ctx.fillStyle = i === current ? "rgba(26,86,219,0.25)" : colours[status] || colours.aligned;
      ctx.fillRect(x(starts[i]), 0, Math.max(1, x(ends[i]) - x(starts[i])), height);
      ctx.fillStyle = "#555";
      ctx.fillRect(x(starts[i]), 0, ratio, height);
      ctx.fillRect(x(ends[i]), 0, ratio, height);
    }
    if (env.length && data.hop > 0) {
      ctx.fillStyle = "#37474f";
      var first = Math.floor(t0 / data.hop), last = Math.min(env.length, Math.ceil((t0 + w) / data.hop));
      var barW = Math.max(1, width * data.hop / w);
      for (var j = first; j < last; j++) {
        var h = env[j] / 255 * (height - 4);
        ctx.fillRect(x(j * data.hop), (height - h) / 2, barW, h);
      }
    }
    ctx.font = (11 * ratio) + "px system-ui, sans-serif";
    ctx.textBaseline = "top";
    for (var l = lastAtOrBefore(ends, t0) + 1; l < words.length && starts[l] < t0 + w; l++) {
      var room = x(ends[l]) - x(starts[l]) - 3 * ratio, label = words[l].textContent;
      if (room > 0 && ctx.measureText(label).width <= room) {
        ctx.fillStyle = "#fff";
        ctx.fillRect(x(starts[l]) + ratio, 2 * ratio, ctx.measureText(label).width + 2 * ratio, 13 * ratio);
        ctx.fillStyle = "#1d1d1f";
        ctx.fillText(label, x(starts[l]) + 2 * ratio, 3 * ratio);
      }
    }
    ctx.fillStyle = "#d32f2f";
    ctx.fillRect(x(now()) - ratio, 0, 2 * ratio, height);
  }

  words.forEach(function (el, i) {
    el.addEventListener("click", function () { seek(starts[i], true); });
  });
  flagLinks.forEach(function (a, k) {
    a.addEventListener("click", function (e) { e.preventDefault(); seek(flagStarts[k], true); });
  });
  canvas.addEventListener("click", function (e) {
    var r = canvas.getBoundingClientRect();
    seek(windowStart(now()) + (e.clientX - r.left) / r.width * span(), !audio.paused);
  });
  ["timeupdate", "seeked", "pause", "ended", "loadedmetadata"].forEach(function (name) {
    audio.addEventListener(name, sync);
  });
  audio.addEventListener("play", function () { follow = true; window.requestAnimationFrame(loop); });
  window.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var key = e.key;
    if (key === " " || key === "Spacebar") { toggle(); }
    else if (key === "n" || key === "j") { jump(1); }
    else if (key === "p" || key === "k") { jump(-1); }
    else { return; }
    e.preventDefault();
    e.stopPropagation();
  }, true);
  window.addEventListener("resize", draw);
  sync();
})();
"""
