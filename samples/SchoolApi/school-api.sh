#!/bin/sh
# Starts, stops and reports the school API in the background: the `local` environment's stop/start hooks.
#
#   samples/SchoolApi/school-api.sh start 0.3|0.4   start that build; waits until /health answers 200 as that build
#   samples/SchoolApi/school-api.sh stop            SIGTERM, then SIGKILL after SCHOOL_API_STOP_TIMEOUT seconds
#   samples/SchoolApi/school-api.sh status          exit 0 when running, 3 when not
#
# All three are idempotent: start when the same build runs and stop when nothing runs succeed and do nothing.
# If the API exits during start (the version check refuses a database at another version, a port is taken), start
# prints the log's tail and exits with the API's exit code (3: wrong database version, 4: database unreachable).
#
# Environment:
#   SCHOOL_DB                 the Npgsql connection string of the application role (required by start; never printed)
#   SCHOOL_API_URL            where it listens (default http://127.0.0.1:5080)
#   SCHOOL_API_STATE          pid file and logs (default .nuke/temp/school-api under the repository)
#   SCHOOL_API_DLL            a built SchoolApi.dll to run (default: this project's Debug build, built first when
#                             missing or older than the sources of samples/SchoolApi and samples/School)
#   SCHOOL_API_START_TIMEOUT  seconds start waits for /health (default 60)
#   SCHOOL_API_STOP_TIMEOUT   seconds stop waits after SIGTERM before SIGKILL (default 10)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
state=${SCHOOL_API_STATE:-$root/.nuke/temp/school-api}
url=${SCHOOL_API_URL:-http://127.0.0.1:5080}
dll=${SCHOOL_API_DLL:-$here/bin/Debug/net10.0/SchoolApi.dll}
pid_file=$state/school-api.pid
version_file=$state/school-api.version
log_file=$state/school-api.log

say() { echo "school-api: $*"; }
fail() { echo "school-api: $*" >&2; exit 1; }

# True while the process runs; an exited process not yet reaped (a zombie) has stopped.
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    [ -r "/proc/$1/stat" ] || return 0
    [ "$(sed 's/^.*) //' "/proc/$1/stat" | cut -c1)" != Z ]
}

# The pid of the API this script started, if it still runs. A pid reused by another program does not count.
running_pid() {
    [ -f "$pid_file" ] || return 1
    pid=$(cat "$pid_file")
    case $pid in '' | *[!0-9]*) return 1 ;; esac
    alive "$pid" || return 1
    if [ -r "/proc/$pid/cmdline" ]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'SchoolApi' || return 1
    fi
    echo "$pid"
}

# True when /health answers 200 as the $1 build: another process answering on the same address does not count.
healthy() {
    if command -v curl >/dev/null 2>&1; then
        body=$(curl --silent --fail --max-time 2 "$url/health") || return 1
    else
        body=$(wget --quiet --timeout=2 --tries=1 --output-document=- "$url/health") || return 1
    fi
    case $body in *"\"appVersion\":\"$1\""*) return 0 ;; esac
    return 1
}

# Builds the API when its dll is missing or older than a source file (only for the default dll).
ensure_built() {
    if [ -n "${SCHOOL_API_DLL:-}" ]; then
        [ -f "$dll" ] || fail "SCHOOL_API_DLL=$dll does not exist"
        return 0
    fi
    if [ -f "$dll" ] && [ -z "$(find "$here" "$root/samples/School" \( -name bin -o -name obj \) -prune -o \
        -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.sql' \) -newer "$dll" -print | head -n 1)" ]; then
        return 0
    fi
    say "building samples/SchoolApi"
    # No MSBuild node or compiler server may outlive the build: one holding this hook's output open would hang the caller.
    # From the project's physical directory: reached through a symbolic link, MSBuild would miss the repository's
    # Directory.Build.props above it.
    (cd "$(cd "$here" && pwd -P)" && dotnet build . -v q -nologo -clp:NoSummary -nodeReuse:false -p:UseSharedCompilation=false) ||
        fail "the build of samples/SchoolApi failed"
}

# Waits up to $2 seconds for process $1 to end; true if it did.
wait_for_exit() {
    tenths=$(($2 * 10))
    while alive "$1"; do
        [ "$tenths" -gt 0 ] || return 1
        sleep 0.1
        tenths=$((tenths - 1))
    done
}

start() {
    version=$1
    if pid=$(running_pid); then
        running=$(cat "$version_file" 2>/dev/null || echo unknown)
        [ "$running" = "$version" ] || fail "the $running build is running (pid $pid): stop it before starting $version"
        say "the $version build is already running (pid $pid) on $url"
        return 0
    fi
    [ -n "${SCHOOL_DB:-}" ] || fail "SCHOOL_DB is not set: the API needs the Npgsql connection string of the application role"
    ensure_built
    mkdir -p "$state"
    [ ! -f "$log_file" ] || mv "$log_file" "$log_file.previous"

    # Its own session, so that the end of the hook's process group does not end the API; no inherited output, so the
    # hook's caller sees end of output when this script exits.
    launcher=
    if command -v setsid >/dev/null 2>&1; then launcher=setsid; fi
    $launcher dotnet "$dll" --app-version "$version" --urls "$url" </dev/null >"$log_file" 2>&1 &
    pid=$!
    echo "$pid" >"$pid_file"
    echo "$version" >"$version_file"

    tenths=$((${SCHOOL_API_START_TIMEOUT:-60} * 10))
    until healthy "$version"; do
        if ! alive "$pid"; then
            code=0
            wait "$pid" || code=$?
            rm -f "$pid_file" "$version_file"
            echo "school-api: the $version build exited with code $code during start; the end of $log_file:" >&2
            tail -n 20 "$log_file" >&2
            [ "$code" -ne 0 ] || code=1
            exit "$code"
        fi
        if [ "$tenths" -le 0 ]; then
            echo "school-api: /health did not answer 200 as the $version build within ${SCHOOL_API_START_TIMEOUT:-60}s; the end of $log_file:" >&2
            tail -n 20 "$log_file" >&2
            stop >&2
            exit 1
        fi
        sleep 0.1
        tenths=$((tenths - 1))
    done
    say "the $version build is running (pid $pid) on $url; log: $log_file"
}

stop() {
    if ! pid=$(running_pid); then
        rm -f "$pid_file" "$version_file"
        say "not running"
        return 0
    fi
    timeout=${SCHOOL_API_STOP_TIMEOUT:-10}
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for_exit "$pid" "$timeout"; then
        say "pid $pid did not stop within ${timeout}s of SIGTERM: killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_for_exit "$pid" 10 || fail "pid $pid survived SIGKILL"
    fi
    rm -f "$pid_file" "$version_file"
    say "stopped (pid $pid)"
}

status() {
    if pid=$(running_pid); then
        version=$(cat "$version_file" 2>/dev/null || echo unknown)
        health=unhealthy
        if healthy "$version"; then health=healthy; fi
        say "the $version build is running (pid $pid) on $url, $health; log: $log_file"
        return 0
    fi
    say "not running"
    return 3
}

case "${1:-}" in
start)
    case "${2:-}" in
    [0-9]*.[0-9]*) start "$2" ;;
    *) fail "usage: $0 start <version>, e.g. start 0.4" ;;
    esac
    ;;
stop) stop ;;
status) status ;;
*) fail "usage: $0 start <version> | stop | status" ;;
esac
