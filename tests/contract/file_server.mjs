// A static file server for the contract test's model download (run.sh starts it; the studio
// pulls from it through VCS_MODELS_BASE_URL). Serves the plain files of one folder by name, with
// Content-Length (the download's bytes_total) and single "bytes=N-" ranges (the resume of a .part),
// on a free loopback port, which it prints on its first line of output.
//
//   node file_server.mjs DIR
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const dir = path.resolve(process.argv[2] || '.');

const server = http.createServer((req, res) => {
  const name = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '');
  let st;
  try {
    if (!name || name.includes('/')) throw new Error('no such file');
    st = statSync(path.join(dir, name));
    if (!st.isFile()) throw new Error('no such file');
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.range || '');
  const start = range ? Number(range[1]) : 0;
  if (start >= st.size && range) {
    res.writeHead(416, { 'Content-Range': `bytes */${st.size}` }).end();
    return;
  }
  const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(st.size - start), 'Accept-Ranges': 'bytes' };
  if (range) headers['Content-Range'] = `bytes ${start}-${st.size - 1}/${st.size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD') res.end();
  else createReadStream(path.join(dir, name), { start }).pipe(res);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
