#!/usr/bin/python3
"""A WebSocket client regcast did not write (Python `websockets`, Debian's python3-websockets 10.4),
driven by src/e2e's InteropIT. Run it with /usr/bin/python3 (the Debian package's interpreter):

    /usr/bin/python3 ws_client.py ws://127.0.0.1:40600/gateways/d4e.../ws [--subprotocol regcast.v1] [--last-event-id ID]

--subprotocol offers that subprotocol in the upgrade; --last-event-id sends the header Last-Event-ID
(a regcast.v1 client resuming after an id). Without them the client sends neither, as before.

Prints one JSON object per line on stdout, flushed at once:
    {"event":"open","connectionId":"..."}               the upgrade succeeded (header value or null);
                                                        with --subprotocol also "protocol": the one chosen
    {"event":"message","type":"text","data":"..."}      a text message
    {"event":"message","type":"binary","data":"<b64>"}  a binary message, base64
    {"event":"close","code":1000,"reason":"..."}        the connection closed; exit 0
    {"event":"error","status":404,"message":"..."}      the upgrade was refused (status) or failed; exit 1
    {"event":"ping"}                                    a ping arrived and `websockets` answered it
The client sends nothing on its own except the library's keep-alive pings.
"""
import argparse
import asyncio
import base64
import json
import sys

import websockets
import websockets.exceptions

CONNECTION_ID_HEADER = "X-Yc-Apigateway-Websocket-Connection-Id"


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def report_pongs(ws):
    """websockets answers a ping by calling ws.pong(data) (legacy protocol, 10.x) and has no hook
    for it: wrap that call on this connection to report each answered ping."""
    pong = ws.pong

    async def pong_and_report(data=b""):
        await pong(data)
        emit({"event": "ping"})

    ws.pong = pong_and_report


async def run(url, subprotocol=None, last_event_id=None):
    options = {}
    if subprotocol is not None:
        options["subprotocols"] = [subprotocol]
    if last_event_id is not None:
        options["extra_headers"] = {"Last-Event-ID": last_event_id}
    try:
        ws = await websockets.connect(url, open_timeout=10, **options)
    except websockets.exceptions.InvalidStatusCode as refused:
        emit({"event": "error", "status": refused.status_code, "message": str(refused)})
        return 1
    except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as failed:
        emit({"event": "error", "status": None, "message": repr(failed)})
        return 1
    opened = {"event": "open", "connectionId": ws.response_headers.get(CONNECTION_ID_HEADER)}
    if subprotocol is not None:
        opened["protocol"] = ws.subprotocol
    emit(opened)
    report_pongs(ws)
    try:
        async for message in ws:
            if isinstance(message, bytes):
                emit({"event": "message", "type": "binary", "data": base64.b64encode(message).decode("ascii")})
            else:
                emit({"event": "message", "type": "text", "data": message})
    except websockets.exceptions.ConnectionClosed:
        pass  # a close code other than 1000/1001 ends the iteration with this; reported below
    await ws.wait_closed()
    emit({"event": "close", "code": ws.close_code, "reason": ws.close_reason or ""})
    return 0


def main():
    parser = argparse.ArgumentParser(prog="ws_client.py")
    parser.add_argument("url")
    parser.add_argument("--subprotocol")
    parser.add_argument("--last-event-id")
    args = parser.parse_args()  # exits with 2 and a usage line on bad arguments
    return asyncio.run(run(args.url, args.subprotocol, args.last_event_id))


if __name__ == "__main__":
    sys.exit(main())
