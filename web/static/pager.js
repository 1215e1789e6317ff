// One page of a long list, with its place in the whole ("11–20 dari 326") and ‹ › buttons.
// The server pages (?limit=&offset=, answers with total): the browser never holds hundreds of rows.
import {T, el} from "/static/live.js";

export class Pager {
  constructor(nav, limit, onChange) {
    this.nav = nav;
    this.limit = limit;
    this.offset = 0;
    this.total = 0;
    this.seq = 0;  // the newest request: an answer to an older one (a live reload racing a click) is dropped
    this.onChange = onChange;
    this.label = el("span", "", "page-label");
    this.prev = el("button", T.page_prev);
    this.next = el("button", T.page_next);
    this.prev.type = this.next.type = "button";
    this.prev.addEventListener("click", () => this.go(this.offset - this.limit));
    this.next.addEventListener("click", () => this.go(this.offset + this.limit));
    nav.classList.add("pager");
    nav.replaceChildren(this.prev, this.label, this.next);
  }

  // A request for the current page: pass it back to update() with its answer.
  ask() { return {query: `limit=${this.limit}&offset=${this.offset}`, seq: ++this.seq}; }

  go(offset) {
    this.offset = Math.max(0, offset);
    this.onChange();
  }

  // After each answer: false for an answer a newer request superseded (its rows are another page's: the label
  // and rows would disagree), or when the total shrank under us (items done): then it steps back to the last page.
  update(data, asked) {
    if (asked.seq !== this.seq) return false;
    this.total = data.total;
    if (this.offset > 0 && this.offset >= this.total) { this.go(Math.floor((this.total - 1) / this.limit) * this.limit); return false; }
    const last = Math.min(this.offset + this.limit, this.total);
    this.label.textContent = this.total ? `${this.offset + 1}–${last} ${T.page_of} ${this.total}` : "";
    this.prev.hidden = this.offset === 0;
    this.next.hidden = last >= this.total;
    this.nav.hidden = this.total <= this.limit;
    return true;
  }
}

// Many live events in a burst: run fn at once for the first, then at most once every `ms` (once more at the end
// of the window if events came meanwhile), so a single change shows immediately and a storm costs few reads.
export function coalesce(fn, ms) {
  let timer = null;
  let again = false;
  const run = () => {
    fn();
    timer = setTimeout(() => {
      timer = null;
      if (again) { again = false; run(); }
    }, ms);
  };
  return () => {
    if (timer) { again = true; return; }
    run();
  };
}
