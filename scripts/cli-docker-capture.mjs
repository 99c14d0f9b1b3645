#!/usr/bin/env node
// Fake Engine API server for comparing berth's CLI with the real docker CLI: it logs each request
// (method, url, headers of interest, JSON body) as one JSON line on stderr and answers from a
// small table of canned replies. Usage:
//   node scripts/cli-docker-capture.mjs /tmp/cap.sock &
//   DOCKER_HOST=unix:///tmp/cap.sock docker run -d -m 64m busybox true
import http from 'node:http';
import fs from 'node:fs';

const path = process.argv[2] ?? '/tmp/cli-capture.sock';
const canned = process.argv[3] ? JSON.parse(fs.readFileSync(process.argv[3], 'utf8')) : {};
try { fs.unlinkSync(path); } catch { /* not there */ }
const id = 'a'.repeat(64);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    let body = raw;
    try { body = raw ? JSON.parse(raw) : undefined; } catch { body = `<${raw.length} bytes>`; }
    process.stderr.write(JSON.stringify({ method: req.method, url: req.url, headers: { 'content-type': req.headers['content-type'], upgrade: req.headers.upgrade }, body }) + '\n');
    const url = req.url.replace(/^\/v[0-9.]+/, '');
    res.setHeader('API-Version', '1.45');
    res.setHeader('OSType', 'linux');
    for (const [pattern, reply] of Object.entries(canned)) {
      if (new RegExp(pattern).test(`${req.method} ${url}`)) {
        res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json' });
        res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
        return;
      }
    }
    if (url.startsWith('/_ping')) { res.end('OK'); return; }
    if (url.startsWith('/containers/create')) { res.writeHead(201, { 'Content-Type': 'application/json' }); res.end(JSON.stringify({ Id: id, Warnings: [] })); return; }
    if (/\/wait/.test(url)) { res.writeHead(200, { 'Content-Type': 'application/json' }); res.flushHeaders(); setTimeout(() => res.end(JSON.stringify({ StatusCode: 0 })), 50); return; }
    if (/\/start$/.test(url) || /\/(stop|kill|restart|pause|unpause|rename)/.test(url)) { res.writeHead(204); res.end(); return; }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ message: `page not found: ${req.method} ${url}` }));
  });
});
server.on('upgrade', (req, socket) => {
  process.stderr.write(JSON.stringify({ method: req.method, url: req.url, upgrade: req.headers.upgrade, connection: req.headers.connection }) + '\n');
  socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
  setTimeout(() => socket.end(), 30);
});
server.listen(path, () => process.stderr.write(`listening on ${path}\n`));
