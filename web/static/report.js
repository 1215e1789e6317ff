// The printable report: a print button (the page itself is server-rendered, charts included).
import "/static/live.js";  // the header clock
const button = document.getElementById("print");
if (button) button.addEventListener("click", () => window.print());
