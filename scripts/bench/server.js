// The Node.js peer of scripts/bench.sh: the passport-client-cert example
// server (connect + passport + the client-cert strategy), with the user list
// and the TLS settings of the benchmark.
//
//   node server.js FIXTURES_DIR [PORT]      (PORT 0 or absent: ephemeral)
//
// Prints "listening PORT" once it accepts connections. Needs passport,
// passport-client-cert and connect on NODE_PATH (bench.sh installs them into
// a temporary folder; nothing from npm is committed).
'use strict';

const fs = require('fs');
const path = require('path');
const https = require('https');
const connect = require('connect');
const passport = require('passport');
const ClientCertStrategy = require('passport-client-cert').Strategy;

const fixtures = process.argv[2];
const port = Number(process.argv[3] || 0);
const file = (name) => fs.readFileSync(path.join(fixtures, name));

// The user list: the cn entries of fixtures/users.json; the user object is
// { cn, ...attributes }, as certauth answers.
const users = new Map();
for (const entry of JSON.parse(file('users.json')).users) {
    const e = typeof entry === 'string' ? { cn: entry } : entry;
    if (typeof e.cn !== 'string') continue;
    const { cn, ...attributes } = e;
    users.set(cn, { cn, ...attributes });
}

// The strategy's verify callback: look the certificate's CN up in the list.
function authenticate(cert, done) {
    const cn = cert.subject && cert.subject.CN;
    done(null, (cn && users.get(cn)) || false);
}

passport.use(new ClientCertStrategy(authenticate));

function send(res, status, object) {
    const body = JSON.stringify(object) + '\n';
    res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
}

const app = connect();
app.use(passport.initialize());
app.use((req, res, next) => {
    // The example's passport.authenticate('client-cert', { session: false }),
    // with a callback so that a refusal is a JSON 401 like the other servers'.
    passport.authenticate('client-cert', { session: false }, (err, user) => {
        if (err) return next(err);
        if (!user) return send(res, 401, { error: 'unauthorized' });
        req.user = user;
        next();
    })(req, res, next);
});
app.use((req, res) => send(res, 200, req.user));

const options = {
    key: file('server.key'),
    cert: file('server.crt'),
    ca: file('ca.crt'),
    crl: [file('ca.crl'), file('sub-ca.crl')],
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.3',
    ecdhCurve: 'X25519',
};

const server = https.createServer(options, app);
// Idle keep-alive connections stay open for the idle-connection test, as
// nginx's keepalive_timeout in the benchmark configuration.
server.keepAliveTimeout = 300000;
server.headersTimeout = 301000;
server.listen(port, '127.0.0.1', () => {
    console.log('listening ' + server.address().port);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => process.exit(0));
}
