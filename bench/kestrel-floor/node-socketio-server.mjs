// socket.io's floor for bench/kestrel-floor.sh: a bare socket.io 4.8 server (bench/node-chat's node_modules) with no
// session, no express and no handlers, so its row minus node-ws's is what Engine.IO and Socket.IO add per
// connection. The floor's clients speak Engine.IO over a plain WebSocket and connect to "/".
//   node bench/kestrel-floor/node-socketio-server.mjs --port 5952
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { memoryHandler, portArg } from './node-common.mjs';

const require = createRequire(new URL('../node-chat/package.json', import.meta.url));
const { Server } = require('socket.io');

const server = createServer(memoryHandler);
const io = new Server(server); // socket.io's defaults: both transports, pingInterval 25 s, no deflate
io.on('connection', () => {});
server.listen(portArg(), '127.0.0.1', () => console.log(`node-socketio: socket.io ${JSON.parse(readFileSync(new URL('../node-chat/node_modules/socket.io/package.json', import.meta.url))).version}`));
