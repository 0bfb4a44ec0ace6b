// What the pages here share: the URL they are to connect to, and reporting each event back to
// the test (src/e2e's BrowserPage, which serves the pages and this script). A page loads it with
// <script src="report.js"> before its own script, which then uses `url` and `emit`.
'use strict';

/** The URL the page is to connect to: its `?url=` parameter, shown on the page. */
const url = new URLSearchParams(location.search).get('url');
document.getElementById('url').textContent = url;

let reported = Promise.resolve();

/**
 * Shows the event on the page and POSTs it to /events on the server that served the page, as one
 * JSON object, one request at a time so the server gets them in order.
 */
function emit(event) {
  const json = JSON.stringify(event);
  const item = document.createElement('li');
  item.textContent = json;
  document.getElementById('events').append(item);
  // Chained: the next POST starts once the previous one was answered.
  reported = reported
    .then(() => fetch('/events', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: json }))
    .then((response) => {
      if (!response.ok) console.error(`POST /events: HTTP ${response.status}`);
    })
    .catch((error) => console.error(`POST /events failed: ${error}`));
}
