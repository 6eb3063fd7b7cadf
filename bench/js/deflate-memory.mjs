// Memory per WebSocket connection with and without per-message deflate, against bench/Parley.EchoServer:
//   node bench/js/deflate-memory.mjs <server-pid> <url> <connections>
// Opens <connections> Engine.IO v4 WebSockets (ws offers permessage-deflate), sends each a 2 KB message (above the
// 1 KB threshold, so a deflate context is used both ways) and waits for its echo, then reads the server's RSS from
// /proc. Prints {connections, rssBeforeKb, rssAfterKb, perConnectionKb, deflate}.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../../test/js/package.json", import.meta.url));
const WebSocket = require("ws");

const [pid, url, countText] = process.argv.slice(2);
const count = Number(countText);
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
const message = "4" + JSON.stringify({ text: "a chat line that repeats itself. ".repeat(64) });

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, "ws") + "/engine.io/?EIO=4&transport=websocket");
    const timer = setTimeout(() => reject(new Error("timeout")), 30000);
    ws.on("message", (data) => {
      const text = data.toString();
      if (text.startsWith("0")) ws.send(message);
      else if (text === "2") ws.send("3");
      else if (text === message) {
        clearTimeout(timer);
        resolve(ws);
      }
    });
    ws.on("error", reject);
  });
}

global.gc?.();
const before = rssKb();
const sockets = [];
for (let i = 0; i < count; i += 50) {
  sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, open))));
}
await new Promise((r) => setTimeout(r, 3000));
const after = rssKb();
const deflate = sockets[0].extensions.includes?.("permessage-deflate") ?? Boolean(sockets[0]._extensions?.["permessage-deflate"]);
console.log(JSON.stringify({ connections: count, rssBeforeKb: before, rssAfterKb: after, perConnectionKb: +((after - before) / count).toFixed(1), deflate }));
for (const ws of sockets) ws.terminate();
process.exit(0);
