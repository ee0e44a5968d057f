#!/bin/sh
# afluente container entrypoint: `cli ARGS...` | `scheduler` | `server` (docs/deployment.md).
#   AFLUENTE_PROJECT      the project folder (default /project)
#   AFLUENTE_PORT         the server's port (default 8080)
#   AFLUENTE_HOST         the server's address (default 0.0.0.0)
#   AFLUENTE_POLL         seconds between the scheduler's looks (default 5)
#   AFLUENTE_BIN          the afluente command (default: afluente on PATH)
# State store, warehouse and secrets come from the project's afluente.yml, whose
# ${VARIABLES} are read from the environment (PG_PASSWORD, AWS_* ...).
set -eu

project="${AFLUENTE_PROJECT:-/project}"
afluente="${AFLUENTE_BIN:-afluente}"
mode="${1:-server}"
[ "$#" -gt 0 ] && shift

usage() {
    echo "usage: entrypoint.sh cli ARGS... | scheduler [ARGS...] | server [ARGS...]" >&2
}

if [ "$mode" = "help" ] || [ "$mode" = "--help" ]; then
    usage
    exit 0
fi
if [ ! -f "$project/afluente.yml" ]; then
    echo "entrypoint: no afluente.yml in $project: mount the project there or set" \
         "AFLUENTE_PROJECT" >&2
    exit 2
fi

case "$mode" in
    cli)
        exec "$afluente" --project "$project" "$@"
        ;;
    scheduler)
        # SIGTERM (docker stop) lets the current run finish its commits
        exec "$afluente" --project "$project" scheduler --poll "${AFLUENTE_POLL:-5}" "$@"
        ;;
    server)
        exec "$afluente" --project "$project" serve --host "${AFLUENTE_HOST:-0.0.0.0}" \
            --port "${AFLUENTE_PORT:-8080}" "$@"
        ;;
    *)
        echo "entrypoint: unknown mode '$mode'" >&2
        usage
        exit 2
        ;;
esac
