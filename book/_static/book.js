// The book's additions to sphinx-book-theme (wired in by _config.yml: html_static_path, html_js_files).
//
// sphinx-book-theme 1.3 draws its sidebar buttons (navigation, "on this page") in the article header, but
// the scripts of pydata-sphinx-theme 0.17 and of the book theme attach the drawers to the FIRST
// `.primary-toggle` / `.secondary-toggle` of the page, the hidden buttons of the top navbar. Without this
// file the article header's buttons do nothing. Each of them passes its click on to the hidden button that
// holds the theme's behaviour. book.css makes the "on this page" drawer the way to the page's contents
// between 1200 and 1679 pixels, so this button must work.
document.addEventListener("DOMContentLoaded", () => {
  for (const selector of [".primary-toggle", ".secondary-toggle"]) {
    const [handled, ...others] = document.querySelectorAll(selector);
    for (const button of others) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        handled.click();
      });
    }
  }
});

// Accessible names of the themes' controls (axe-core's check in tests/test_site.py). A control's name must
// contain the words a reader sees on it, so that a voice-control user can say them ("click Search") and a
// screen-reader user hears what a sighted reader reads. The themes label three controls with words that are
// not on them; their templates are the themes', so the names are corrected here, on the live page that
// assistive technology reads (all three controls are shown only when JavaScript runs: class pst-js-only).
// - The search field shows "Search Ctrl+K" but is named "Search": its content names it.
// - The colour-mode button shows one icon titled Light, Dark or System Settings and is named "Color mode":
//   it is named "Color mode: <the icon's title>", kept up to date when the mode changes.
// - A hidden code cell's toggle shows "Show code cell source" but is named "Toggle hidden content".
// And the bibliography's entries are list items (docutils marks them doc-biblioentry, a role ARIA 1.3
// deprecates, which leaves their list without items).
document.addEventListener("DOMContentLoaded", () => {
  for (const field of document.querySelectorAll(".search-button-field[aria-label]")) {
    field.removeAttribute("aria-label");
  }
  for (const summary of document.querySelectorAll("summary[aria-label='Toggle hidden content']")) {
    summary.removeAttribute("aria-label");
  }
  for (const entry of document.querySelectorAll(".citation-list > [role='doc-biblioentry']")) {
    entry.setAttribute("role", "listitem");
  }
  const nameColourModeButtons = () => {
    for (const button of document.querySelectorAll(".theme-switch-button")) {
      const mode = document.documentElement.dataset.mode;  // the theme shows the icon of this mode
      const shown = button.querySelector(`.theme-switch[data-mode='${mode}']`);
      // Font Awesome's script may already have swapped the <i title> for an <svg> holding a <title>
      const title = shown && (shown.getAttribute("title") || shown.querySelector("title")?.textContent);
      button.setAttribute("aria-label", title ? `Color mode: ${title}` : "Color mode");
    }
  };
  nameColourModeButtons();
  new MutationObserver(nameColourModeButtons).observe(document.documentElement, {
    attributes: true,
    attributeFilter: ["data-mode"],
  });
});
