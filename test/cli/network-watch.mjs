// Preloaded (node --import) into CLI runs whose tests say "nothing sent": every outgoing
// connection (fetch, http, https and the AWS SDK all end in net.Socket#connect) is written to
// $STS_GATE_NETWORK_LOG, one host per line, and then refused, so nothing leaves the machine.
import { appendFileSync } from "node:fs";
import net from "node:net";

const log = process.env.STS_GATE_NETWORK_LOG;
if (log !== undefined) {
  net.Socket.prototype.connect = function connect(...args) {
    const [first, second] = args;
    const target = typeof first === "object" && first !== null ? (first.host ?? first.path ?? "?") : typeof second === "string" ? second : String(first);
    appendFileSync(log, `${target}\n`);
    throw new Error(`network-watch: connection to ${target} refused`);
  };
}
