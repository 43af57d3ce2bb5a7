// Live progress of a running study: the page works without this; with it, the task counts (and an
// adaptive study's "n of at most max" line) follow the study over Server-Sent Events, and the page
// reloads once the study has finished. textContent only: the line holds names researchers chose.
(function () {
  var main = document.querySelector("main[data-events]");
  if (!main || !window.EventSource) return;
  var source = new EventSource(main.getAttribute("data-events"));
  function update(event) {
    var counts = JSON.parse(event.data);
    Object.keys(counts).forEach(function (key) {
      var id = key === "state" ? "study-state" : key === "adaptive" ? "adaptive-seeds" : "tasks-" + key;
      var cell = document.getElementById(id);
      if (cell) cell.textContent = String(counts[key]);
    });
  }
  source.addEventListener("progress", update);
  source.addEventListener("done", function (event) { update(event); source.close(); window.location.reload(); });
})();
