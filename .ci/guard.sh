# shellcheck shell=bash
# guard SECONDS COMMAND...: runs COMMAND; if it has not ended after SECONDS, prints every
# thread's stack of each test binary still running (gdb), then stops it and fails. A hung
# test then fails CI in minutes with the place it hangs, instead of at the runner's limit.
guard() {
    local limit=$1
    shift
    "$@" &
    local pid=$! waited=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge "$limit" ]; then
            echo "== guard: '$*' still running after ${limit} s; the test binaries' stacks:"
            for p in $(pgrep -f 'target/debug/deps/'); do
                echo "-- $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)"
                gdb -p "$p" -batch -ex 'thread apply all bt' 2>/dev/null | grep -E '^(Thread|#)' | head -n 400
            done
            pkill -KILL -f 'target/debug/deps/' || true
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            return 124
        fi
        sleep 5
        waited=$((waited + 5))
    done
    wait "$pid"
}
