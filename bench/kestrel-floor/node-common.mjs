// What the floor's two Node servers share: --port, /healthz and /gc.

/** The value of --port. */
export function portArg() {
  const i = process.argv.indexOf('--port');
  const port = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  if (!Number.isInteger(port)) throw new Error('--port <n> is needed');
  return port;
}

/** GET /healthz and GET /gc[?collect=1] (the heap as V8 sees it; collect=1 needs node --expose-gc). */
export function memoryHandler(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/healthz') {
    res.end('ok');
  } else if (url.pathname === '/gc') {
    const collected = url.searchParams.get('collect') === '1' && typeof globalThis.gc === 'function';
    if (collected) globalThis.gc();
    const m = process.memoryUsage();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ collected, committed: m.heapTotal, totalMemory: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers }));
  } else if (!url.pathname.startsWith('/socket.io/')) {
    res.statusCode = 404;
    res.end();
  }
}
