# shellcheck shell=bash
# The cluster profile's credentials, sourced by cluster.sh once the topology is read: the single
# profile's mechanism (scripts/stack_credentials.sh) with this topology's addresses, and what
# pg_auto_failover needs besides (its roles' passwords, pg_hba.conf written by the stack).

# Roles are made on the primary, users on one RabbitMQ node; every pgpass file lists every
# PostgreSQL of the topology.
CREDS_PG_ENDPOINTS=()
for node in pg-monitor "${PG_NODES[@]}"; do CREDS_PG_ENDPOINTS+=("$(host_port "$node")"); done
PG_CREDENTIALS_MARK="$PG_ROOT/sn_credentials_applied"
CREDS_AMQP_ADDRESSES=()
for node in "${RMQ_NODES[@]}"; do CREDS_AMQP_ADDRESSES+=("$(host_port "$node")"); done
CREDS_AMQP_MARK="$CL/${RMQ_NODES[0]}/mnesia/sn-credentials.sha"
# shellcheck source=../stack_credentials.sh
. "$REPO_DIR/scripts/stack_credentials.sh"
# pg_auto_failover's own logins (keepers to the monitor and to their PostgreSQL, the standby's
# replication and pg_rewind, the monitor's health checks) take their passwords from a pgpass file
# of the postgres OS user: the secrets folder is root's alone.
PGAF_ROLES=(postgres pgautofailover_replicator pgautofailover_monitor autoctl_node)
PGAF_PGPASS="$PGAF_HOME/.pgpass"

# pg_hba.conf is ours (pg_autoctl's edits are off: --skip-pg-hba, hba_level skip): every host of
# the topology may connect, replication included, with a password once the roles have them.
pg_write_hba() {
    local -a cidrs; mapfile -t cidrs < <(for n in "${TOPO_ORDER[@]}"; do echo "${TOPO_HOST[$n]}"; done | sort -u |
        awk '{ print $0 (index($0, ":") ? "/128" : "/32") }')
    creds_write_pg_hba "$PG_ROOT/$1" "${cidrs[@]}"
}
pgaf_skip_hba() {
    [ "$(pgaf config get --pgdata "$PG_ROOT/$1" postgresql.hba_level 2>/dev/null)" = skip ] ||
        pgaf config set --pgdata "$PG_ROOT/$1" postgresql.hba_level skip >/dev/null
}
pgaf_write_pgpass() {
    local role
    for role in "${PGAF_ROLES[@]}"; do creds_pgpass_lines "$role" "*:*"; done | creds_write_file "$PGAF_PGPASS"
    chown postgres:postgres "$PGAF_PGPASS"
}
# pg_auto_failover's roles get their passwords (on the primary, and on the monitor) before pg_hba
# asks for them (creds_setup_postgres, then profile_require_pg_passwords).
pgaf_set_passwords() {
    { creds_password_sql pgautofailover_replicator; creds_password_sql pgautofailover_monitor; } |
        creds_psql postgres -f - >/dev/null
    { creds_password_sql postgres; creds_password_sql autoctl_node; } |
        "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$(monitor_dsn)" -f - >/dev/null
}
profile_require_pg_passwords() {
    local node
    for node in pg-monitor "${PG_NODES[@]}"; do
        pg_write_hba "$node"
        (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" reload -s -D "$PG_ROOT/$node") >/dev/null 2>&1 ||
            log "warning: $node did not reload its pg_hba.conf (not running?); it reads it when it starts"
    done
}
