// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// A Node client (npm `nats`) talks to a Spindle actor through the wire format
// of doc/remote.md: node interop.cjs NATS_URL NAME
// Tells add{n:5} twice, asks get_total and expects 10, asks an unknown type
// and expects Spindle's error; exits 0 when all held.

const { connect, headers, StringCodec } = require("nats");

async function main() {
    const [url, name] = process.argv.slice(2);
    const nc = await connect({ servers: url });
    const sc = StringCodec();
    const subject = `spindle.name.${name}`;
    const typed = (type) => {
        const h = headers();
        h.set("Spindle-Type", type);
        return h;
    };
    // two tells, then an ask behind them on the same subject: it sees both
    nc.publish(subject, sc.encode(JSON.stringify({ n: 5 })), { headers: typed("test.add") });
    nc.publish(subject, sc.encode(JSON.stringify({ n: 5 })), { headers: typed("test.add") });
    const reply = await nc.request(subject, sc.encode("{}"), { headers: typed("test.get_total"), timeout: 60000 });
    const status = reply.headers && reply.headers.get("Spindle-Status");
    const total = sc.decode(reply.data);
    if (status !== "ok" || total !== "10") {
        throw new Error(`get_total: status ${status}, payload ${total}`);
    }
    const bad = await nc.request(subject, sc.encode("{}"), { headers: typed("test.nope"), timeout: 60000 });
    const error = bad.headers && bad.headers.get("Spindle-Error");
    if (bad.headers.get("Spindle-Status") !== "error" || !error.startsWith("spindle.remote:")) {
        throw new Error(`unknown type: status ${bad.headers.get("Spindle-Status")}, error ${error}`);
    }
    console.log(`interop: total ${total}, unknown type answered ${error} (${sc.decode(bad.data)})`);
    await nc.drain();
}

main().then(() => process.exit(0), (e) => {
    console.error(`interop: ${e.message}`);
    process.exit(1);
});
