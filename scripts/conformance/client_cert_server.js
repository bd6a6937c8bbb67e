// The Node.js column of scripts/conformance.sh: an HTTPS server that decides
// as an application built on passport-client-cert does. A request is
// authenticated when Node's TLS layer authorised the client certificate
// (req.socket.authorized, with requestCert: true and rejectUnauthorized:
// false, as the strategy's example server sets them up), and authorised when
// the certificate's subject CN (or, for an entry keyed so, its
// fingerprint256) is in the user list; any refusal is passport's default
// answer, 401 "Unauthorized". The routes of users.json (a public path, a path
// that needs a role) are what an application adds on top.
//
// Written for this repository with Node's own https module: no code of
// passport or passport-client-cert is copied or loaded.
//
//   node client_cert_server.js PKI_DIR        (a folder of `certauth pki init`)
//
// Listens on an ephemeral port of 127.0.0.1 and prints "listening PORT".
'use strict';

const fs = require('fs');
const https = require('https');
const path = require('path');

const dir = process.argv[2];
const read = (name) => fs.readFileSync(path.join(dir, name));
const list = JSON.parse(read('users.json'));

// users.json: a string is a CN; an object matches on cn and/or fingerprint256,
// its other keys are the user's attributes.
const entries = list.users.map((entry) => (typeof entry === 'string' ? { cn: entry } : entry));
function findUser(cert) {
    const cn = cert.subject && cert.subject.CN;
    for (const entry of entries) {
        const { cn: wantCn, fingerprint256, ...attributes } = entry;
        if (wantCn !== undefined && wantCn !== cn) continue;
        if (fingerprint256 !== undefined && fingerprint256.toUpperCase() !== cert.fingerprint256) continue;
        return { cn, ...attributes };
    }
    return null;
}

// The longest route whose path prefixes the request's.
function routeOf(url) {
    const requestPath = url.split('?')[0];
    let best = null;
    for (const route of list.routes || []) {
        const p = route.path;
        const matches = requestPath === p || requestPath.startsWith(p.endsWith('/') ? p : p + '/');
        if (matches && (!best || p.length > best.path.length)) best = route;
    }
    return best;
}

function send(res, status, body, type) {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
}
const json = (res, status, object) => send(res, status, JSON.stringify(object), 'application/json');

const server = https.createServer(
    {
        key: read('server.key'),
        cert: read('server.crt'),
        ca: read('ca.crt'),
        crl: [read('ca.crl'), read('sub-ca.crl')], // the example server gives none
        requestCert: true,
        rejectUnauthorized: false,
    },
    (req, res) => {
        const route = routeOf(req.url);
        if (req.url.split('?')[0] === '/healthz') return json(res, 200, { status: 'ok' });
        if (route && route.public) return json(res, 200, { public: true });
        // The strategy: an authorised TLS session, a certificate, a user.
        const cert = req.socket.authorized ? req.socket.getPeerCertificate() : null;
        const user = cert && Object.keys(cert).length > 0 ? findUser(cert) : null;
        if (!user) return send(res, 401, 'Unauthorized', 'text/plain');
        if (route && route.roles && !route.roles.some((role) => (user.roles || []).includes(role)))
            return send(res, 403, 'Forbidden', 'text/plain');
        return json(res, 200, user);
    },
);
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
