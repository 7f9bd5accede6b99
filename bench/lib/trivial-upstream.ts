// A trivial upstream: answers every request, after reading its body, with a small fixed JSON body. Behind the
// gateway it shows the gateway's own cost without MLflow's. Run as its own process; prints its port.
import { createServer } from "http";
import { AddressInfo } from "net";

const BODY = JSON.stringify({ experiment: { experiment_id: "1", name: "bench", lifecycle_stage: "active" } });

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () =>
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) }).end(BODY),
  );
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
