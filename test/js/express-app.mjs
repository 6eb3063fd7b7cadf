// An Express app with express-session and a socket.io 4.8 server sharing its session middleware, for the
// Parley.Sessions interop tests. The store is connect-pg-simple (PostgreSQL) or connect-redis (Redis, sess: keys).
// Configuration by environment:
//   STORE         pg (default) or redis
//   DATABASE_URL  postgres://… (STORE=pg)         TABLE, SCHEMA  connect-pg-simple tableName / schemaName
//   REDIS_URL     redis://… (STORE=redis)         PREFIX         connect-redis prefix (default sess:)
//   SECRETS       JSON array of secrets (first signs)
//   MAX_AGE       cookie maxAge in ms (empty: browser-session cookie)        PORT  (0: a free port)
// Prints one JSON line {"port": N} when it listens. Routes: POST /login {name}, GET /me, POST /logout.
// Socket.IO at /socket.io: the handshake runs the same session middleware (io.engine.use, socket.io's documented
// way to share express-session) and is refused with "unauthorized" without a logged-in session; an admitted socket
// answers "whoami" with the session's name.
import { createServer } from 'node:http';
import express from 'express';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { Server } from 'socket.io';

const secrets = JSON.parse(process.env.SECRETS || '["keyboard cat"]');
const maxAge = process.env.MAX_AGE ? Number(process.env.MAX_AGE) : undefined;

let store;
if ((process.env.STORE || 'pg') === 'redis') {
  const client = createClient({ url: process.env.REDIS_URL });
  client.on('error', (err) => console.error('redis:', err && err.message));
  await client.connect();
  store = new RedisStore({ client, prefix: process.env.PREFIX || undefined });
} else {
  const PgStore = connectPgSimple(session);
  store = new PgStore({
    conString: process.env.DATABASE_URL,
    tableName: process.env.TABLE || undefined,
    schemaName: process.env.SCHEMA || undefined,
    createTableIfMissing: true,
    errorLog: (...args) => console.error('connect-pg-simple:', ...args),
  });
}

const sessionMiddleware = session({
  store,
  secret: secrets,
  resave: false,
  saveUninitialized: false,
  cookie: maxAge === undefined ? {} : { maxAge },
});

const app = express();
app.use(express.json());
app.use(sessionMiddleware);

app.post('/login', (req, res) => {
  const name = req.body && typeof req.body.name === 'string' ? req.body.name : '';
  if (!name) {
    res.status(400).json({ error: 'name required' });
    return;
  }
  req.session.name = name;
  res.json({ name });
});

app.get('/me', (req, res) => {
  if (req.session && req.session.name) {
    res.json({ name: req.session.name });
  } else {
    res.status(401).json({ error: 'unauthorized' });
  }
});

app.post('/logout', (req, res, next) => {
  req.session.destroy((err) => {
    if (err) {
      next(err);
      return;
    }
    res.json({ ok: true });
  });
});

// express's default error handler answers 500; log so that the test output shows why.
app.use((err, req, res, next) => {
  console.error('express error:', err && err.message);
  res.status(500).json({ error: 'internal' });
});

const server = createServer(app);
const io = new Server(server);
io.engine.use(sessionMiddleware);
io.use((socket, next) => {
  const s = socket.request.session;
  next(s && s.name ? undefined : new Error('unauthorized'));
});
io.on('connection', (socket) => {
  socket.on('whoami', (ack) => ack(socket.request.session.name));
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
