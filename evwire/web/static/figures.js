// Draws the charts of a page with the vendored Vega-Lite (static/vendor/vega-bundle.js; no CDN).
// Each chart box names a <script type="application/json"> holding its Vega-Lite spec. Without
// JavaScript the server-rendered SVG in <noscript> is shown; if drawing fails, that SVG is put in.
(function () {
  var boxes = document.querySelectorAll("[data-vl-spec]");
  Array.prototype.forEach.call(boxes, function (box) {
    var target = box.querySelector(".vl-target");
    var fallback = function () {
      var img = document.createElement("img");
      img.src = box.getAttribute("data-fallback");
      img.alt = box.getAttribute("data-title") || "chart";
      target.replaceChildren(img);
    };
    var source = document.getElementById(box.getAttribute("data-vl-spec"));
    if (!window.vegaEmbed || !source || !target) {
      if (target) fallback();
      return;
    }
    var spec = JSON.parse(source.textContent);
    window
      .vegaEmbed(target, spec, { renderer: "svg", actions: false, ast: true, defaultStyle: false })
      .then(function () {
        box.classList.add("vl-drawn");
      })
      .catch(function (err) {
        if (window.console) console.error("chart not drawn:", err);
        fallback();
      });
  });
})();
