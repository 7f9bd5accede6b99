import { Server } from "http";
import { AddressInfo } from "net";

/** Starts `server` on a free loopback port and resolves with its origin (`http://127.0.0.1:<port>`). */
export function listenOnLoopback(server: Server): Promise<URL> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    });
  });
}
