// Progressive enhancement for the channel index: filter the list while typing.
// Without JavaScript the same box works as a GET form (/channels?q=...).
(function () {
  var input = document.querySelector("input[data-filter]");
  if (!input) return;
  var list = document.querySelector(input.getAttribute("data-filter"));
  if (!list) return;
  var items = Array.prototype.slice.call(list.children);
  input.addEventListener("input", function () {
    var needle = input.value.trim().toLowerCase();
    items.forEach(function (li) {
      var hay = (li.getAttribute("data-name") || "") + " " + li.textContent.toLowerCase();
      li.hidden = needle !== "" && hay.indexOf(needle) === -1;
    });
  });
})();
