// A WebSocket client for the forwarding tests: connects through certauth
// (wss://, with a client certificate), sends messages of the given sizes and
// checks that each comes back unchanged; prints one JSON line with what it
// saw, and exits 0 when every echo matched.
//   node ws_echo_client.js URL CA CERT KEY SIZE...
const fs = require('fs');
const crypto = require('crypto');
const WebSocket = require('ws');

const [url, ca, cert, key, ...sizes] = process.argv.slice(2);
const socket = new WebSocket(url, {
  ca: fs.readFileSync(ca),
  cert: cert ? fs.readFileSync(cert) : undefined,
  key: key ? fs.readFileSync(key) : undefined,
  servername: 'localhost',
  handshakeTimeout: 10000,
});
const result = { opened: false, echoed: 0, mismatched: 0, closed: null, error: null, status: null };
const timer = setTimeout(() => finish('timed out'), 20000);
let pending = sizes.map(Number);
let expected = null;

function finish(error) {
  clearTimeout(timer);
  if (error && !result.error) result.error = String(error);
  console.log(JSON.stringify(result));
  process.exit(result.error || result.mismatched ? 1 : 0);
}

function next() {
  if (pending.length === 0) return socket.close(1000, 'done');
  expected = crypto.randomBytes(pending.shift());
  socket.send(expected);
}

socket.on('open', () => { result.opened = true; next(); });
socket.on('message', (data) => {
  if (Buffer.compare(Buffer.from(data), expected) === 0) result.echoed++;
  else result.mismatched++;
  next();
});
socket.on('unexpected-response', (request, response) => { result.status = response.statusCode; finish('refused'); });
socket.on('close', (code) => { result.closed = code; finish(null); });
socket.on('error', (e) => finish(e.message));
