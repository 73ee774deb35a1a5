# Sourced by CI after `apt-get update`: installs the PostgreSQL server binaries and nothing else.
# The tests initdb and start their own throwaway server (tests/pg_server.py) on a free port, so the
# cluster the package may create is never used.
if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
else
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
fi
