#!/usr/bin/env bash
# Generates the secrets docker-compose.yml mounts (its top-level `secrets:`), one file each, in deploy/secrets/
# (git-ignored) or the folder given. Idempotent: an existing secret is kept, so running it again never changes
# a password an existing database volume was initialised with.
#
# Permissions: the folder is 0700 (other users of this machine cannot reach the files); the files are 0644,
# because compose bind-mounts them as they are (without swarm it ignores a secret's uid/gid/mode) and the
# containers read them as their own users (node, postgres), not as the owner of the files.
#
#   bash deploy/make-secrets.sh && docker compose up -d
#
#   tracking-secret    the edge's HMAC key of the notice tokens (INGEST_TRACKING_SECRET_FILE)
#   postgres-password  the rtb role's password (the postgres image's POSTGRES_PASSWORD_FILE)
#   postgres-url       postgres://rtb:<password>@postgres:5432/rtb for the services (POSTGRES_URL_FILE)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-$ROOT/deploy/secrets}"
umask 077
mkdir -p "$DIR"
random() { # $1 bytes, base64 without newline; openssl when installed, else the kernel's generator
  if command -v openssl >/dev/null 2>&1; then openssl rand -base64 "$1" | tr -d '\n'; else head -c "$1" /dev/urandom | base64 | tr -d '\n'; fi
}
made=()
if [ ! -s "$DIR/tracking-secret" ]; then random 32 > "$DIR/tracking-secret"; made+=(tracking-secret); fi
# Letters and digits only: the password also goes into a URL.
if [ ! -s "$DIR/postgres-password" ]; then pw="$(random 48 | tr -dc 'A-Za-z0-9')"; printf '%s' "${pw:0:32}" > "$DIR/postgres-password"; made+=(postgres-password); fi
printf 'postgres://rtb:%s@postgres:5432/rtb' "$(cat "$DIR/postgres-password")" > "$DIR/postgres-url"
chmod 700 "$DIR"
chmod 644 "$DIR"/tracking-secret "$DIR"/postgres-password "$DIR"/postgres-url
echo "secrets in $DIR${made[*]:+ (generated: ${made[*]})}"
echo "tools on the host reach the compose Postgres with: export POSTGRES_URL=\"postgres://rtb:\$(cat $DIR/postgres-password)@127.0.0.1:5432/rtb\""
