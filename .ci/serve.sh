# Sourced by the CI steps that drive a real server over HTTP (.ci/schemathesis.sh,
# .ci/client.sh): `serve BIN WORK [serve flags...]` makes an admin token and starts
# `chanlab serve` on a free loopback port over the fresh data directory WORK/data, logging
# to WORK/server.log. It sets `token`, `base` (http://127.0.0.1:PORT) and `server_pid`;
# `stop_server` stops it and `server_checks` fails when it stopped answering or panicked.

serve() {
    local bin=$1 work=$2
    shift 2
    token=$("$bin" token create --role admin --label ci --data-dir "$work/data" 2>/dev/null)
    RUST_LOG=info "$bin" serve --bind 127.0.0.1:0 --data-dir "$work/data" "$@" 2>"$work/server.log" &
    server_pid=$!
    local port=
    for _ in $(seq 1 300); do
        port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$work/server.log" | head -n 1)
        [ -n "$port" ] && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "the server did not start"; return 1; }
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$work/server.log"; echo "the server never said where it listens"; return 1; }
    base=http://127.0.0.1:$port
    echo "listening on $base"
}

stop_server() {
    if [ -n "${server_pid:-}" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}

# Prints why and returns 1 when the server no longer answers /healthz or its log (WORK/server.log)
# shows a panic.
server_checks() {
    local work=$1 status=0
    if ! python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=10)" "$base/healthz"; then
        echo "the server stopped answering"; status=1
    fi
    if grep -q "panicked" "$work/server.log"; then
        grep -B2 -A5 "panicked" "$work/server.log" | head -n 40
        echo "the server panicked"; status=1
    fi
    return "$status"
}
