// A plain Node.js `ws` broadcast server: WebSocket upgrades on any path, and every
// `POST` (any path) sends its body as one text message to every open client, the way ws's
// README broadcasts (`client.send(data)` per client), then answers 204.
// Usage: node ws-broadcast.mjs [PORT]   (0: a free port); prints "listening PORT".
import http from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';

const server = http.createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) {
        client.send(body, { binary: false });
      }
    }
    res.writeHead(204).end();
  });
});
// No per-message deflate (the other servers do not compress either); no payload limit of interest.
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: true });
wss.on('connection', (ws) => ws.on('error', () => {}));
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
