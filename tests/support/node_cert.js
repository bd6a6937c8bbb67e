// Prints, for the PEM (or DER) certificate file given as argv[2], the object
// Node.js hands to passport-client-cert's verify callback:
// JSON.stringify(new crypto.X509Certificate(file).toLegacyObject()), which
// has the keys and values of tlsSocket.getPeerCertificate(), without the
// raw and pubkey buffers. Used by tests/x509/node_object_test.cpp as the
// oracle for Certificate::node_object().
'use strict';
const crypto = require('crypto');
const fs = require('fs');

if (process.argv.length !== 3) {
    process.stderr.write('usage: node node_cert.js CERTFILE\n');
    process.exit(2);
}
const cert = new crypto.X509Certificate(fs.readFileSync(process.argv[2]));
const object = cert.toLegacyObject();
delete object.raw;
delete object.pubkey;
process.stdout.write(JSON.stringify(object) + '\n');
