// An Express app with express-session and connect-pg-simple, for the Parley.Sessions interop tests.
// Configuration by environment:
//   DATABASE_URL  postgres://… (required)     SECRETS  JSON array of secrets (first signs)
//   MAX_AGE       cookie maxAge in ms (empty: browser-session cookie)
//   TABLE, SCHEMA connect-pg-simple tableName / schemaName     PORT  (0: a free port)
// Prints one JSON line {"port": N} when it listens. Routes: POST /login {name}, GET /me, POST /logout.
import express from 'express';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';

const PgStore = connectPgSimple(session);
const secrets = JSON.parse(process.env.SECRETS || '["keyboard cat"]');
const maxAge = process.env.MAX_AGE ? Number(process.env.MAX_AGE) : undefined;

const store = new PgStore({
  conString: process.env.DATABASE_URL,
  tableName: process.env.TABLE || undefined,
  schemaName: process.env.SCHEMA || undefined,
  createTableIfMissing: true,
  errorLog: (...args) => console.error('connect-pg-simple:', ...args),
});

const app = express();
app.use(express.json());
app.use(session({
  store,
  secret: secrets,
  resave: false,
  saveUninitialized: false,
  cookie: maxAge === undefined ? {} : { maxAge },
}));

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

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
