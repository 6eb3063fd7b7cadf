"""A line-oriented JSON driver for python-socketio (Debian's python3-socketio), run by the C# tests.

It speaks the same protocol as test/js/driver.mjs, for the sio.* operations:

stdin:  {"id":1,"op":"sio.connect","url":"http://127.0.0.1:5000/nsp","opts":{"transports":["websocket"]}}
stdout: {"id":1,"ok":true,"result":"s1"}                (reply to a command)
        {"h":"s1","event":"connect","data":{...}}        (something that happened to a client)

Binary values cross as {"$bin":"<base64>"} in both directions. Run with /usr/bin/python3 (the interpreter
Debian's package installs into), not whichever python3 comes first on PATH.
"""
import base64
import json
import os
import sys
import threading
from urllib.parse import urlsplit

import socketio

_out_lock = threading.Lock()
_handles = {}
_next = [0]


def to_wire(v):
    if isinstance(v, (bytes, bytearray)):
        return {"$bin": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, (list, tuple)):
        return [to_wire(x) for x in v]
    if isinstance(v, dict):
        return {k: to_wire(x) for k, x in v.items()}
    return v


def from_wire(v):
    if isinstance(v, list):
        return [from_wire(x) for x in v]
    if isinstance(v, dict):
        if isinstance(v.get("$bin"), str) and len(v) == 1:
            return base64.b64decode(v["$bin"])
        return {k: from_wire(x) for k, x in v.items()}
    return v


def out(obj):
    line = json.dumps(obj, separators=(",", ":"))
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def emit_event(h, event, data):
    out({"h": h, "event": event, "data": to_wire(data)})


class Handle:
    def __init__(self, h, client, namespace):
        self.h = h
        self.client = client
        self.namespace = namespace
        self.acks = {}


def sio_connect(cmd):
    url = urlsplit(cmd["url"])
    opts = cmd.get("opts") or {}
    namespace = url.path or "/"
    base = "{}://{}".format(url.scheme, url.netloc)
    _next[0] += 1
    h = "s{}".format(_next[0])
    client = socketio.Client(reconnection=False)
    entry = Handle(h, client, namespace)
    _handles[h] = entry

    def on_connect():
        emit_event(h, "connect", {"id": client.get_sid(namespace), "transport": client.transport(), "recovered": False})

    def on_connect_error(data=None):
        message = data.get("message") if isinstance(data, dict) else data
        details = data.get("data") if isinstance(data, dict) else None
        emit_event(h, "connect_error", {"message": message, "data": details})

    def on_disconnect():
        emit_event(h, "disconnect", {"reason": "", "description": ""})

    def on_any(event, *args):
        emit_event(h, "event", {"name": event, "args": list(args), "withAck": event in entry.acks})
        reply = entry.acks.get(event)
        if reply is None:
            return None
        return tuple(from_wire(reply))

    client.on("connect", on_connect, namespace=namespace)
    client.on("connect_error", on_connect_error, namespace=namespace)
    client.on("disconnect", on_disconnect, namespace=namespace)
    client.on("*", on_any, namespace=namespace)

    def run():
        try:
            client.connect(
                base,
                headers=opts.get("extraHeaders") or {},
                auth=opts.get("auth"),
                transports=opts.get("transports"),
                namespaces=[namespace],
                socketio_path=(opts.get("path") or "/socket.io").strip("/"),
                wait_timeout=10,
            )
        except socketio.exceptions.ConnectionError as e:
            # A refusal by the server was reported by the connect_error handler already; this is the rest.
            if "One or more namespaces failed to connect" not in str(e):
                emit_event(h, "connect_error", {"message": str(e), "data": None})

    threading.Thread(target=run, daemon=True).start()
    return h


def sio_emit(cmd):
    entry = _handles[cmd["h"]]
    args = from_wire(cmd.get("args") or [])
    # python-socketio sends a tuple's items as the event's arguments.
    data = tuple(args)
    if not cmd.get("ack"):
        entry.client.emit(cmd["event"], data, namespace=entry.namespace)
        return True
    timeout = (cmd.get("timeout") or 10000) / 1000
    reply = entry.client.call(cmd["event"], data, namespace=entry.namespace, timeout=timeout)
    # emitWithAck resolves with the ack's first argument, as the JS driver does.
    if isinstance(reply, tuple):
        return reply[0] if reply else None
    return reply


def sio_ack_with(cmd):
    _handles[cmd["h"]].acks[cmd["event"]] = cmd.get("reply") or []
    return True


def sio_state(cmd):
    entry = _handles[cmd["h"]]
    c = entry.client
    connected = c.connected and entry.namespace in c.namespaces
    return {"connected": connected, "id": c.get_sid(entry.namespace) if connected else None,
            "transport": c.transport() if c.connected else None}


def sio_disconnect(cmd):
    _handles[cmd["h"]].client.disconnect()
    return True


OPS = {
    "sio.connect": sio_connect,
    "sio.emit": sio_emit,
    "sio.ackWith": sio_ack_with,
    "sio.state": sio_state,
    "sio.disconnect": sio_disconnect,
}


def handle(cmd):
    try:
        if cmd.get("op") == "exit":
            out({"id": cmd.get("id"), "ok": True, "result": True})
            return
        fn = OPS.get(cmd.get("op"))
        if fn is None:
            raise ValueError("unknown op {}".format(cmd.get("op")))
        out({"id": cmd.get("id"), "ok": True, "result": to_wire(fn(cmd))})
    except Exception as e:  # every failure goes back to the caller as an error reply
        out({"id": cmd.get("id"), "ok": False, "error": "{}: {}".format(type(e).__name__, e)})


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            cmd = json.loads(line)
        except ValueError as e:
            out({"id": None, "ok": False, "error": "bad json: {}".format(e)})
            continue
        # Emits with an ack block until the ack: each command runs on its own thread, as the JS driver's are async.
        threading.Thread(target=handle, args=(cmd,), daemon=True).start()
    for entry in list(_handles.values()):
        try:
            entry.client.disconnect()
        except Exception:  # the process is ending; a failed disconnect changes nothing
            pass
    sys.stdout.flush()
    # The client library's own threads would keep the process alive after its input ended.
    os._exit(0)


if __name__ == "__main__":
    main()
