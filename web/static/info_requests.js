// Requests for more information ("Minta info tambahan"): the agencies' questions and the 112 room's answers.
// The 112 room's list (call taker, supervisor) is kept by request id, so an answer being typed survives live updates.
import {T, api, el} from "/static/live.js";

const items = new Map();  // request id -> its <li> in #info-list

// "08:12 WIB" from an ISO time in WIB ("2023-08-07T08:12:40+07:00").
export function wibTime(iso) { return iso ? `${iso.slice(11, 16)} WIB` : ""; }

// One question with its answers, as text nodes only (the texts are typed by people: never HTML).
export function threadItem(request) {
  const li = el("li", null, "info-thread");
  li.dataset.requestId = request.id;
  li.dataset.answered = request.answered_at ? "1" : "0";
  li.append(el("span", `${wibTime(request.at)} · ${request.agency_name} (${request.by}): `), el("q", request.text),
            " ", el("em", request.answered_at ? T.info_answered : T.info_unanswered, "info-state"));
  const answers = el("ul", null, "answers");
  answers.replaceChildren(...request.answers.map((a) => {
    const item = el("li", `${wibTime(a.at)} · ${a.by}: `, "info-answer");
    item.append(el("q", a.text));
    return item;
  }));
  li.append(answers);
  return li;
}

function answerForm(request) {
  const form = el("form", null, "info-answer-form");
  const box = el("textarea");
  Object.assign(box, {name: "text", rows: 2, maxLength: 1000, required: true});
  const label = el("label", `${T.info_answer} `);
  label.append(box);
  const send = el("button", T.info_send_answer);
  send.type = "submit";
  const error = el("span", null, "field-error");
  error.setAttribute("role", "alert");
  form.append(label, " ", send, " ", error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      show(await api("POST", `/api/v1/incidents/${request.incident_id}/info-requests/${request.id}/answers`,
                     {text: box.value}));
      box.value = "";
    } catch (e) { error.textContent = e.message; }
  });
  return form;
}

function show(request) {
  const list = document.getElementById("info-list");
  let item = items.get(request.id);
  if (!item) {
    item = el("li", null, "info-request");
    item.append(el("strong", `${T.incident} ${request.incident_number}`), el("ul", null, "thread-slot"),
                answerForm(request));
    items.set(request.id, item);
    list.append(item);
  }
  item.dataset.requestId = request.id;
  item.dataset.answered = request.answered_at ? "1" : "0";
  item.querySelector(".thread-slot").replaceChildren(threadItem(request));
  const open = [...items.values()].filter((i) => i.dataset.answered === "0").length;
  document.getElementById("info-open-count").textContent = open;
  document.getElementById("info-none").hidden = items.size > 0;
}

async function load() {
  const {requests} = await api("GET", "/api/v1/info-requests?state=open");
  requests.forEach(show);
}

// Feed every /ws message here: "hello" (re)loads the unanswered requests, "info_request" shows one live.
export function infoRequests(message) {
  if (message.type === "hello") load();
  else if (message.type === "info_request") show(message.request);
}
