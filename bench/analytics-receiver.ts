// bench:analytics's webhook receiver, a child process of its own so that
// its CPU is not counted as lookout's: answers every POST with 200 at once and
// counts them; GET /count says how many so far. It prints its port on
// stdout, and exits when its stdin closes (the bench ended, however it ended),
// so it is never left behind.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

let posts = 0;
let bytes = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ posts, bytes }));
    return;
  }
  req.on('data', (d: Buffer) => void (bytes += d.length));
  req.on('end', () => {
    posts++;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
});
// A webhook sink keeps its connection alive between deliveries; so does this end.
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.once('SIGTERM', () => process.exit(0));
