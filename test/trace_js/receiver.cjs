// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// Test-only OTLP/HTTP receiver for test/trace_otlp.cpp, on loopback.
//
//   node receiver.cjs [fail_count [fail_status [retry_after]]]
//
// Prints {"port":N} once listening, then one JSON line per request:
// {"request": <decoded ExportTraceServiceRequest>} or {"error": "..."}.
// Decoding uses the official OTLP definitions that npm
// @opentelemetry/otlp-transformer carries (protobufjs code generated from
// opentelemetry-proto), not a hand-written copy: the JSON must name only
// fields those definitions know, convert with fromObject, and survive a
// protobuf binary round trip.
'use strict';
const http = require('http');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const failCount = parseInt(process.argv[2] || '0', 10);
const failStatus = parseInt(process.argv[3] || '503', 10);
const retryAfter = process.argv[4];
let requests = 0;

const idLengths = { traceId: 32, spanId: 16, parentSpanId: 16 };
const int64Fields = new Set(['startTimeUnixNano', 'endTimeUnixNano', 'timeUnixNano', 'intValue']);

// The OTLP JSON mapping differs from protobuf's: ids are hex, not base64.
function hexIdsToBase64(v, path) {
    if (Array.isArray(v)) return v.map((x, i) => hexIdsToBase64(x, `${path}[${i}]`));
    if (v === null || typeof v !== 'object') return v;
    const out = {};
    for (const [k, x] of Object.entries(v)) {
        if (k in idLengths) {
            if (typeof x !== 'string' || x.length !== idLengths[k] || !/^[0-9a-f]+$/.test(x))
                throw new Error(`${path}.${k}: not ${idLengths[k]} lower-case hex digits: ${JSON.stringify(x)}`);
            out[k] = Buffer.from(x, 'hex').toString('base64');
        } else if (int64Fields.has(k)) {
            if (typeof x !== 'string' || !/^[0-9]+$/.test(x))
                throw new Error(`${path}.${k}: a 64-bit integer must be a decimal string: ${JSON.stringify(x)}`);
            out[k] = x;
        } else if ((k === 'kind' || k === 'code') && typeof x !== 'number') {
            throw new Error(`${path}.${k}: an enum must be a number: ${JSON.stringify(x)}`);
        } else {
            out[k] = hexIdsToBase64(x, `${path}.${k}`);
        }
    }
    return out;
}

// Every key must be a field of the message the definitions say is there.
function strict(json, msg, path) {
    for (const [k, v] of Object.entries(json)) {
        if (!(k in msg) || typeof msg[k] === 'function') throw new Error(`${path}${k}: no such OTLP field`);
        if (Array.isArray(v)) {
            v.forEach((x, i) => {
                if (x && typeof x === 'object') strict(x, msg[k][i], `${path}${k}[${i}].`);
            });
        } else if (v && typeof v === 'object') {
            strict(v, msg[k], `${path}${k}.`);
        }
    }
}

function base64IdsToHex(v) {
    if (Array.isArray(v)) return v.map(base64IdsToHex);
    if (v === null || typeof v !== 'object') return v;
    const out = {};
    for (const [k, x] of Object.entries(v))
        out[k] = k in idLengths ? Buffer.from(x, 'base64').toString('hex') : base64IdsToHex(x);
    return out;
}

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        ++requests;
        if (requests <= failCount) {
            const headers = retryAfter !== undefined ? { 'Retry-After': retryAfter } : {};
            res.writeHead(failStatus, headers);
            res.end();
            console.log(JSON.stringify({ refused: failStatus }));
            return;
        }
        try {
            if (req.method !== 'POST' || req.url !== '/v1/traces')
                throw new Error(`expected POST /v1/traces, got ${req.method} ${req.url}`);
            if (req.headers['content-type'] !== 'application/json')
                throw new Error(`content-type ${req.headers['content-type']}`);
            const json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            const converted = hexIdsToBase64(json, '');
            const message = Request.fromObject(converted);
            strict(converted, message, '');
            const decoded = Request.decode(Request.encode(message).finish());
            const object = Request.toObject(decoded, { longs: String, enums: Number, bytes: String });
            console.log(JSON.stringify({ request: base64IdsToHex(object) }));
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.end('{}');
        } catch (e) {
            console.log(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
            res.writeHead(400, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ code: 3, message: String(e) }));
        }
    });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
