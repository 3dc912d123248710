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
