// Node's floor for bench/kestrel-floor.sh: a bare `ws` server (the version socket.io 4.8 uses, from
// bench/node-chat's node_modules) that accepts WebSockets at /ws and drops what they send. GET /gc reports
// process.memoryUsage() (collect=1 runs a full GC first when node runs with --expose-gc).
//   node bench/kestrel-floor/node-ws-server.mjs --port 5951
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { memoryHandler, portArg } from './node-common.mjs';

const require = createRequire(new URL('../node-chat/package.json', import.meta.url));
const { WebSocketServer } = require('ws');

const server = createServer(memoryHandler);
const wss = new WebSocketServer({ server, path: '/ws' }); // perMessageDeflate is off by default in ws 8
wss.on('connection', (ws) => {
  ws.on('error', () => {}); // a client killed mid-run; nothing to log for a measurement
});
server.listen(portArg(), '127.0.0.1', () => console.log(`node-ws: ws ${require('ws/package.json').version}`));
