// Used by statics/html/index.html.
document.addEventListener("DOMContentLoaded", () => {
  document.body.dataset.loaded = "yes";
});
