// Behaviour of the page shell (templates/base.html). Kept out of the HTML
// so the Content-Security-Policy allows scripts from 'self' only: no
// inline script, no inline event handler.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // The tenant switcher: each option's value is that tenant's home URL.
  var switcher = document.getElementById("tenant-switcher");
  if (switcher) {
    switcher.addEventListener("change", function () {
      window.location.assign(switcher.value);
    });
  }
  // The language switcher posts its form as soon as a language is chosen
  // (a <noscript> button does the same without JavaScript).
  var language = document.getElementById("language");
  if (language) {
    language.addEventListener("change", function () {
      language.form.submit();
    });
  }
});
