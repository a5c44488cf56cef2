// Tell stoat the browser's time zone once, so the pages show times in it (stoat/core/user_time.py).
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var cookie = "stoat_tz=" + encodeURIComponent(zone || "");
  if (zone && document.cookie.split("; ").indexOf(cookie) === -1) {
    document.cookie = cookie + "; path=/; max-age=31536000; samesite=lax";
  }
})();
