// Preloaded with `node --require` into a child process under test: appends every host name it looks up and
// every address it connects to, one line each, to $MLFLOW_GATE_TEST_HOSTS_FILE. A test then asserts the
// child reached nothing but loopback.
"use strict";
const dns = require("dns");
const fs = require("fs");
const net = require("net");

const file = process.env.MLFLOW_GATE_TEST_HOSTS_FILE;
if (file) {
  const note = (line) => fs.appendFileSync(file, `${line}\n`);
  const lookup = dns.lookup;
  dns.lookup = function (host, ...rest) {
    note(`lookup ${host}`);
    return lookup.call(this, host, ...rest);
  };
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    if (first && typeof first === "object")
      note(
        typeof first.path === "string"
          ? `connect unix:${first.path}`
          : `connect ${first.host ?? "localhost"}:${first.port}`,
      );
    else if (typeof first === "string" && typeof args[1] !== "string") note(`connect unix:${first}`);
    else note(`connect ${args[1] ?? "localhost"}:${first}`);
    return connect.apply(this, args);
  };
}
