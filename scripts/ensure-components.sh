#!/usr/bin/env bash
# Make sure the real components the tests start are on this machine (PostgreSQL server
# binaries, MariaDB server). Installs them from Debian packages when missing and we are allowed to.
set -euo pipefail

have_postgres() {
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

if ! have_postgres; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing PostgreSQL server binaries (apt-get install postgresql)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL server binaries (initdb, pg_ctl) are missing; install PostgreSQL >= 13" >&2
    [ "${CI:-}" = "true" ] && exit 1
  fi
fi

have_mariadb() {
  command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 \
    || [ -x /usr/sbin/mariadbd ] || [ -x /usr/sbin/mysqld ]
}

if ! have_mariadb; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing MariaDB server (apt-get install mariadb-server)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
  else
    echo "MariaDB server (mariadbd, mariadb-install-db) is missing; install mariadb-server" >&2
    [ "${CI:-}" = "true" ] && exit 1
  fi
fi

have_chromium() {
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}

if ! have_chromium; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Chromium for the docs site browser test (apt-get install chromium)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium (headless browser for the docs site test) is missing; install chromium" >&2
    [ "${CI:-}" = "true" ] && exit 1
  fi
fi
