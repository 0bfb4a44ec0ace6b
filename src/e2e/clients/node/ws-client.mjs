// A WebSocket client regcast did not write (npm `ws`), driven by src/e2e's InteropIT.
//
//   node ws-client.mjs ws://127.0.0.1:40600/gateways/d4e.../ws [--subprotocol regcast.v1] [--last-event-id ID]
//
// --subprotocol offers that subprotocol in the upgrade (`ws` then requires the server to choose
// it); --last-event-id sends the header Last-Event-ID (a regcast.v1 client resuming after an id).
// Without them the client sends neither, as before.
//
// Prints one JSON object per line on stdout (each line written synchronously, so a reader sees
// it at once):
//   {"event":"open","connectionId":"..."}               the upgrade succeeded (header value or null);
//                                                       with --subprotocol also "protocol": the one chosen
//   {"event":"message","type":"text","data":"..."}      a text message
//   {"event":"message","type":"binary","data":"<b64>"}  a binary message, base64
//   {"event":"close","code":1000,"reason":"..."}        the connection closed; exit 0
//   {"event":"error","status":404,"message":"..."}      the upgrade was refused (status) or failed; exit 1
//   {"event":"ping"}                                    a ping arrived; `ws` answers it itself (autoPong)
// The client never sends anything on its own.
import { WebSocket } from 'ws';

const CONNECTION_ID_HEADER = 'x-yc-apigateway-websocket-connection-id';

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function usage() {
  process.stderr.write('usage: node ws-client.mjs ws://host:port/path [--subprotocol P] [--last-event-id ID]\n');
  process.exit(2);
}

const [url, ...options] = process.argv.slice(2);
if (!url) usage();
let subprotocol = null;
let lastEventId = null;
for (let i = 0; i < options.length; i += 2) {
  const value = options[i + 1];
  if (value === undefined) usage();
  if (options[i] === '--subprotocol') subprotocol = value;
  else if (options[i] === '--last-event-id') lastEventId = value;
  else usage();
}

let connectionId = null;
let opened = false;
let done = false;
const headers = lastEventId === null ? {} : { 'Last-Event-ID': lastEventId };
const ws = subprotocol === null
  ? new WebSocket(url, { handshakeTimeout: 10_000, headers })
  : new WebSocket(url, [subprotocol], { handshakeTimeout: 10_000, headers });

ws.on('upgrade', (response) => {
  const value = response.headers[CONNECTION_ID_HEADER];
  connectionId = value === undefined ? null : value;
});

ws.on('open', () => {
  opened = true;
  emit(subprotocol === null ? { event: 'open', connectionId } : { event: 'open', connectionId, protocol: ws.protocol });
});

ws.on('message', (data, isBinary) => {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  emit(isBinary
    ? { event: 'message', type: 'binary', data: bytes.toString('base64') }
    : { event: 'message', type: 'text', data: bytes.toString('utf8') });
});

ws.on('ping', () => emit({ event: 'ping' }));

ws.on('unexpected-response', (request, response) => {
  done = true;
  emit({ event: 'error', status: response.statusCode, message: `unexpected response ${response.statusCode}` });
  request.destroy();
  process.exit(1);
});

ws.on('error', (error) => {
  if (done) return;
  if (opened) {
    // e.g. a protocol error: `ws` closes the connection and 'close' reports the code
    process.stderr.write(`ws error: ${error && error.message}\n`);
    return;
  }
  done = true;
  emit({ event: 'error', status: null, message: String(error && error.message) });
  process.exit(1);
});

ws.on('close', (code, reason) => {
  if (done) return;
  done = true;
  emit({ event: 'close', code, reason: reason.toString('utf8') });
  process.exit(0);
});
