// taskwire web UI: the only script. It asks before a delete and runs the live tail; every
// other page works without it. Data only ever reaches the page through textContent.
"use strict";
document.addEventListener("submit", function (e) {
  var form = e.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    e.preventDefault();
  }
});

// Live tail: rows from the server-sent events of data-stream, at most data-cap of them (the
// oldest dropped, and counted); while paused, new rows are held (also at most the cap).
(function () {
  var root = document.getElementById("live");
  if (!root) return;
  var rows = document.getElementById("live-rows");
  var cap = parseInt(root.getAttribute("data-cap"), 10) || 1000;
  var out = {};
  ["shown", "dropped", "held", "sent", "state"].forEach(function (k) {
    out[k] = document.getElementById("live-" + k);
  });
  var dropped = 0, held = [], paused = false;
  var levels = { ERROR: "error", WARN: "warn", INFO: "info", DEBUG: "debug", TRACE: "trace" };
  function counts() {
    out.shown.textContent = String(rows.childElementCount);
    out.dropped.textContent = String(dropped);
    out.held.textContent = String(held.length);
  }
  function show(lines) {
    var stick = rows.scrollTop + rows.clientHeight >= rows.scrollHeight - 4;
    var from = Math.max(0, lines.length - cap);
    dropped += from;
    var frag = document.createDocumentFragment();
    for (var i = from; i < lines.length; i++) {
      var div = document.createElement("div");
      div.className = "row " + (levels[lines[i][0]] || "other");
      div.textContent = lines[i][1];
      frag.appendChild(div);
    }
    rows.appendChild(frag);
    var extra = rows.childElementCount - cap;
    for (; extra > 0; extra--) {
      rows.removeChild(rows.firstChild);
      dropped++;
    }
    if (stick) rows.scrollTop = rows.scrollHeight;
  }
  var pause = document.getElementById("live-pause");
  pause.addEventListener("click", function () {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    out.state.textContent = paused ? "paused" : "live";
    if (!paused) {
      var h = held;
      held = [];
      show(h);
    }
    counts();
  });
  var source = new EventSource(root.getAttribute("data-stream") + window.location.search);
  source.onopen = function () { out.state.textContent = paused ? "paused" : "live"; };
  source.onmessage = function (e) {
    var m = JSON.parse(e.data);
    out.sent.textContent = String(m.sent);
    if (paused) {
      for (var i = 0; i < m.lines.length; i++) held.push(m.lines[i]);
      if (held.length > cap) {
        dropped += held.length - cap;
        held = held.slice(held.length - cap);
      }
    } else {
      show(m.lines);
    }
    counts();
    if (!paused) out.state.textContent = "live";
  };
  source.onerror = function () {
    out.state.textContent = "disconnected (or the server's limit of live streams is reached): reload the page to follow again";
    source.close();
  };
})();
