#!/usr/bin/env bash

bash --version 2>&1 | head -n 1

set -eo pipefail
SCRIPT_DIR=$(cd "$( dirname "${BASH_SOURCE[0]}" )" && pwd)

###########################################################################
# CONFIGURATION
###########################################################################

BUILD_PROJECT_FILE="$SCRIPT_DIR/build/_build.csproj"
TEMP_DIRECTORY="$SCRIPT_DIR/.nuke/temp"

DOTNET_GLOBAL_FILE="$SCRIPT_DIR/global.json"
DOTNET_INSTALL_URL="https://dot.net/v1/dotnet-install.sh"
DOTNET_CHANNEL="STS"

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1

###########################################################################
# EXECUTION
###########################################################################

function FirstJsonValue {
    perl -nle 'print $1 if m{"'"$1"'": "([^"]+)",?}' <<< "${@:2}"
}

# Use the installed SDK when it satisfies global.json (dotnet --version fails otherwise).
if [[ -x "$(command -v dotnet)" && $(dotnet --version 2>&1) && $? -eq 0 ]]; then
    export DOTNET_EXE="$(command -v dotnet)"
else
    DOTNET_INSTALL_FILE="$TEMP_DIRECTORY/dotnet-install.sh"
    mkdir -p "$TEMP_DIRECTORY"
    curl -Lsfo "$DOTNET_INSTALL_FILE" "$DOTNET_INSTALL_URL"
    chmod +x "$DOTNET_INSTALL_FILE"

    if [[ -f "$DOTNET_GLOBAL_FILE" ]]; then
        DOTNET_VERSION=$(FirstJsonValue "version" "$(cat "$DOTNET_GLOBAL_FILE")")
        if [[ "$DOTNET_VERSION" == "" ]]; then
            unset DOTNET_VERSION
        fi
    fi

    DOTNET_DIRECTORY="$TEMP_DIRECTORY/dotnet-unix"
    if [[ -z ${DOTNET_VERSION+x} ]]; then
        "$DOTNET_INSTALL_FILE" --install-dir "$DOTNET_DIRECTORY" --channel "$DOTNET_CHANNEL" --no-path
    else
        "$DOTNET_INSTALL_FILE" --install-dir "$DOTNET_DIRECTORY" --version "$DOTNET_VERSION" --no-path
    fi
    export DOTNET_EXE="$DOTNET_DIRECTORY/dotnet"
    export PATH="$DOTNET_DIRECTORY:$PATH"
fi

echo "Microsoft (R) .NET SDK version $("$DOTNET_EXE" --version)"

# The SQL tools that check the scripts before the fence (squawk, PostgreSQL's parser), pinned by tools/sql/package-lock.json:
# installed like the SDK, once, and again when the lock file changes. Without npm the checks refuse and say how to fix it.
SQL_TOOLS_DIRECTORY="$SCRIPT_DIR/tools/sql"
if [[ ! "$SQL_TOOLS_DIRECTORY/node_modules/.package-lock.json" -nt "$SQL_TOOLS_DIRECTORY/package-lock.json" ]]; then
    if command -v npm >/dev/null 2>&1; then
        npm install --prefix "$SQL_TOOLS_DIRECTORY" --no-save --no-audit --no-fund --loglevel=error >&2 \
            || echo "build.sh: 'npm install' in $SQL_TOOLS_DIRECTORY failed (above); the checks before the fence will refuse until it succeeds." >&2
    else
        echo "build.sh: npm is not on the PATH, so the SQL tools in $SQL_TOOLS_DIRECTORY are not installed; install Node.js 18 or later." >&2
    fi
fi

# Compiles the build program and prints only its path: at any verbosity `dotnet build` ends with its own "Build succeeded",
# which read like the outcome of the deployment that follows. Errors and warnings still reach stderr.
BUILD_PROGRAM=$("$DOTNET_EXE" build "$BUILD_PROJECT_FILE" /nodeReuse:false /p:UseSharedCompilation=false -nologo --verbosity quiet -target:Build -getProperty:TargetPath)
if [[ ! -f "$BUILD_PROGRAM" ]]; then
    echo "build.sh: building $BUILD_PROJECT_FILE named no program to run (its TargetPath was '$BUILD_PROGRAM'): the project must build one assembly for one target framework. Set TargetFramework (not TargetFrameworks) and run again." >&2
    exit 1
fi

# exec: this script's process becomes the build program, so a signal sent to it (SIGTERM from CI or kill, Ctrl-C) reaches the
# program, which stops the running target and runs its failure handling, and the caller gets the program's exit code (130
# after an interrupt) once that is done.
exec "$DOTNET_EXE" "$BUILD_PROGRAM" "$@"
