// The team's login page: steps still queued on this phone (team.js keeps them in
// localStorage) are named, so that the team knows they are sent after logging in.
"use strict";
(() => {
  const n = JSON.parse(localStorage.getItem("dispatch112.pending") || "[]").length;
  const note = document.getElementById("waiting-steps");
  note.hidden = n === 0;
  note.textContent = t("team.login_waiting", { n });
})();
