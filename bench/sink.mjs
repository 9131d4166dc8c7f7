// A loopback HTTP sink in its own process, so the benchmark's client and server don't share a core's event loop.
import { createServer } from 'node:http';

const mode = process.argv[2] ?? 'ok';
// 'slow': a receiver at a realistic distance, answering after this many ms.
const delayMs = Number(process.argv[3] ?? 20);
const answer = (res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '15' });
  res.end('{"status":"ok"}');
};
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (mode === 'hang') return; // a dead endpoint: accepts, never answers
    if (mode === 'slow') setTimeout(answer, delayMs, res);
    else answer(res);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
