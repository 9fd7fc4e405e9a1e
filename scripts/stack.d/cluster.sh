# The cluster profile (`make cluster-up`): three RabbitMQ nodes with quorum queues, PostgreSQL
# with a synchronous standby under pg_auto_failover (docs/adr/008-postgresql-ha-manager.md),
# Redis with a replica under three Sentinels, two copies of each service behind HAProxy.
# Everything comes from one topology file; sourced by scripts/stack (hooks as in single.sh).

TOPOLOGY="${CLUSTER_TOPOLOGY:-$REPO_DIR/deploy/cluster.topology}"
[ -r "$TOPOLOGY" ] || die "no topology file $TOPOLOGY"
CL="$DATA_DIR/cluster"
PG_ROOT="$CL/pg"                 # owned by postgres: pg_autoctl replaces a standby's folder in it
PGAF_HOME="$PG_ROOT/home"        # pg_auto_failover's own config, state and pid files
RMQ_HOME="$CL/rabbitmq-home"     # the Erlang cookie every node shares
REDIS_MASTER=sn-redis            # the name Sentinel knows the Redis primary by
PGAF_FORMATION_SETTINGS=(        # the monitor's failure detection, tightened from 20-30 s defaults
    "pgautofailover.health_check_period=1000" "pgautofailover.health_check_timeout=1000"
    "pgautofailover.health_check_max_retries=1" "pgautofailover.health_check_retry_delay=500"
    "pgautofailover.node_considered_unhealthy_timeout=4000" "pgautofailover.primary_demote_timeout=8000")
PGAF_PARTITION_TIMEOUT=5         # s: a primary cut off from monitor and standby demotes itself (< demote timeout)

# ---------------------------------------------------------------------------
# The topology file
# ---------------------------------------------------------------------------

# The file is read once: name -> role, host, port, and its options as " key=value key=value ".
declare -A TOPO_ROLE=() TOPO_HOST=() TOPO_PORT=() TOPO_OPTS=()
TOPO_ORDER=()
while read -r name role host port opts; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    TOPO_ROLE[$name]="$role" TOPO_HOST[$name]="$host" TOPO_PORT[$name]="$port" TOPO_OPTS[$name]=" $opts "
    TOPO_ORDER+=("$name")
done <"$TOPOLOGY"

topo_names() { local n; for n in "${TOPO_ORDER[@]}"; do [ "${TOPO_ROLE[$n]}" != "$1" ] || echo "$n"; done; }
topo_field() {   # NAME host|port|role
    [ -n "${TOPO_ROLE[$1]:-}" ] || die "$TOPOLOGY: no component $1"
    case "$2" in role) echo "${TOPO_ROLE[$1]}" ;; host) echo "${TOPO_HOST[$1]}" ;; port) echo "${TOPO_PORT[$1]}" ;; esac
}
topo_option() {  # NAME KEY [DEFAULT]
    local opts="${TOPO_OPTS[$1]:-}" value=""
    [[ "$opts" == *" $2="* ]] && { value="${opts#* "$2"=}"; value="${value%% *}"; }
    echo "${value:-${3:-}}"
}
host_port() { echo "$(topo_field "$1" host):$(topo_field "$1" port)"; }
join_by() { local IFS="$1"; shift; echo "$*"; }

mapfile -t PG_NODES < <(topo_names postgres)
mapfile -t RMQ_NODES < <(topo_names rabbitmq)
mapfile -t REDIS_NODES < <(topo_names redis)
mapfile -t SENTINELS < <(topo_names sentinel)
EPMD_PORT="$(topo_field epmd port)"
INFRA=(pg-monitor "${PG_NODES[@]}" "${RMQ_NODES[@]}" "${REDIS_NODES[@]}" "${SENTINELS[@]}" haproxy)
ALL_SERVICES=(dialogs counters backend)
EXTRA_SERVICES=(dialogs-2 counters-2 backend-2)   # in this profile they run too

# Per-service credentials (scripts/stack_credentials.sh with this topology's addresses).
# shellcheck source=cluster_credentials.sh
. "$REPO_DIR/scripts/stack.d/cluster_credentials.sh"

service_port() { topo_field "$1" port; }
profile_autostarts() { return 0; }
client_port() { if [ "${1:-backend}" = backend ]; then topo_field haproxy port; else topo_option haproxy "$1"; fi; }

# libpq tries the hosts in turn and keeps the one that takes writes (the primary, whichever it is now).
pg_dsn() {  # DB USER [TARGET_SESSION_ATTRS]
    local -a hosts=() ports=() node
    for node in "${PG_NODES[@]}"; do hosts+=("$(topo_field "$node" host)"); ports+=("$(topo_field "$node" port)"); done
    echo "host=$(join_by , "${hosts[@]}") port=$(join_by , "${ports[@]}") dbname=$1 user=$2 target_session_attrs=${3:-read-write} connect_timeout=2"
}
admin_pg_dsn() { pg_dsn "$1" postgres; }
svc_pg_dsn() { pg_dsn "$1" "$2"; }
svc_credentials_env() {
    creds_service_env "$1"
    # The backend's read-only queries on the standby while there is one (docs/api.md, "Reads from the standby").
    [ "$1" != backend ] || echo "PG_READ_DSN=$(pg_dsn backend backend prefer-standby) application_name=backend-read"
}
svc_redis_url() {
    local -a addrs=() node
    for node in "${SENTINELS[@]}"; do addrs+=("$(host_port "$node")"); done
    echo "redis-sentinel://$(join_by , "${addrs[@]}")/$REDIS_MASTER"
}
svc_upstream_url() { echo "http://$(topo_field haproxy host):$(client_port "$1")"; }

# ---------------------------------------------------------------------------
# PostgreSQL under pg_auto_failover
# ---------------------------------------------------------------------------

# Its config, state and pid files live in the data folder (the pid files' default is /tmp).
pgaf_env_pairs() {
    printf '%s\n' "HOME=$PGAF_HOME" "XDG_CONFIG_HOME=$PGAF_HOME/config" "XDG_DATA_HOME=$PGAF_HOME/share" \
        "XDG_RUNTIME_DIR=$PGAF_HOME/run" "PATH=$PG_BIN:/usr/bin:/bin" "PGPASSFILE=$PGAF_PGPASS"
}
pgaf() {
    local -a envs; mapfile -t envs < <(pgaf_env_pairs)
    (cd / && runuser -u postgres -- env "${envs[@]}" pg_autoctl "$@")
}
monitor_uri() { echo "postgres://autoctl_node@$(host_port pg-monitor)/pg_auto_failover?sslmode=disable"; }
monitor_dsn() { echo "host=$(topo_field pg-monitor host) port=$(topo_field pg-monitor port) user=postgres dbname=pg_auto_failover"; }
monitor_psql() { "$PG_BIN/psql" "$(monitor_dsn)" -qAt "$@"; }

init_pg_monitor() {
    [ -f "$PG_ROOT/pg-monitor/PG_VERSION" ] && return 0
    log "pg_auto_failover: creating the monitor"
    pgaf create monitor --pgdata "$PG_ROOT/pg-monitor" --pgport "$(topo_field pg-monitor port)" \
        --hostname "$(topo_field pg-monitor host)" --skip-pg-hba --no-ssl --pgctl "$PG_BIN/pg_ctl" \
        >"$LOG_DIR/pg-monitor-create.log" 2>&1 || pg_create_failed pg-monitor
}

# The monitor remembers what registered: a half-made formation is started over as a whole.
pg_create_failed() {
    grep -E 'ERROR|FATAL' "$LOG_DIR/$1-create.log" | tail -n 10 >&2
    die "pg_auto_failover could not create $1 (log: $LOG_DIR/$1-create.log); start over with 'scripts/stack down; rm -rf $PG_ROOT'"
}

# A data node joins the formation: the first becomes the primary, the next clones it (pg_basebackup).
init_pg_node() {
    local node="$1" pgdata="$PG_ROOT/$1"
    [ -f "$pgdata/PG_VERSION" ] && return 0
    log "pg_auto_failover: creating $node"
    pgaf create postgres --pgdata "$pgdata" --pgport "$(topo_field "$node" port)" \
        --hostname "$(topo_field "$node" host)" --listen "$(topo_field "$node" host)" --name "$node" \
        --monitor "$(monitor_uri)" --skip-pg-hba --no-ssl --pgctl "$PG_BIN/pg_ctl" \
        >"$LOG_DIR/$node-create.log" 2>&1 || pg_create_failed "$node"
    pgaf config set --pgdata "$pgdata" timeout.network_partition_timeout "$PGAF_PARTITION_TIMEOUT" >/dev/null
    # Our settings in a file of their own, included last (a clone copies both from the primary).
    printf '%s\n' "${PG_SETTINGS//-c /}" | tr ' ' '\n' | sed 's/=/ = /' >"$pgdata/postgresql-sn.conf"
    grep -q "postgresql-sn.conf" "$pgdata/postgresql.conf" || echo "include 'postgresql-sn.conf'" >>"$pgdata/postgresql.conf"
    chown postgres:postgres "$pgdata/postgresql-sn.conf"
}

pg_program() {
    local name="$1" autorestart="$2"
    cat <<EOF
[program:$name]
command=/usr/bin/pg_autoctl run --pgdata $PG_ROOT/$name
user=postgres
directory=$PG_ROOT/$name
priority=20
$(sv_common "$name" INT 30 "$autorestart")
$(pgaf_env_pairs | sv_env_line)

EOF
}

# Nodes are created one at a time: a standby can only clone a primary whose keeper runs.
start_postgres() {
    install -d -o postgres -g postgres -m 700 "$PG_ROOT" "$PGAF_HOME" "$PGAF_HOME/run"
    pgaf_write_pgpass
    init_pg_monitor
    pg_write_hba pg-monitor
    start_components pg-monitor
    wait_ready pg-monitor
    local setting changed=0
    for setting in "${PGAF_FORMATION_SETTINGS[@]}"; do
        if [ "$(monitor_psql -c "show ${setting%%=*}")" != "${setting#*=}" ]; then
            monitor_psql -c "alter system set ${setting%%=*} = '${setting#*=}'" >/dev/null
            changed=1
        fi
    done
    [ "$changed" -eq 0 ] || monitor_psql -c "select pg_reload_conf()" >/dev/null
    local node
    for node in "${PG_NODES[@]}"; do
        init_pg_node "$node"
        pgaf_skip_hba "$node"
        profile_before_start "$node"
        start_components "$node"
        wait_ready "$node"
    done
    wait_for "a PostgreSQL primary with a synchronous standby" pg_formation_ready
}

pg_states() { monitor_psql -F ' ' -c "select nodename, reportedstate, goalstate from pgautofailover.node order by nodeid"; }
pg_formation_ready() {
    local states; states="$(pg_states)"
    grep -q ' primary primary$' <<<"$states" && grep -q ' secondary secondary$' <<<"$states"
}

# ---------------------------------------------------------------------------
# RabbitMQ: three nodes, one cluster
# ---------------------------------------------------------------------------

# One epmd per host knows nodes by name alone: the names differ even where the hosts do.
rmq_node_name() { echo "${1//-/}@$(topo_field "$1" host)"; }
rmq_env_pairs() {
    local node="$1" dir="$CL/$1" ip; ip="$(topo_field "$1" host)"
    echo "HOME=$RMQ_HOME"
    echo "ERL_EPMD_PORT=$EPMD_PORT"
    echo "RABBITMQ_USE_LONGNAME=true"
    echo "RABBITMQ_NODENAME=$(rmq_node_name "$node")"
    echo "RABBITMQ_NODE_IP_ADDRESS=$ip"
    echo "RABBITMQ_NODE_PORT=$(topo_field "$node" port)"
    echo "RABBITMQ_DIST_PORT=$(topo_option "$node" dist)"
    echo "RABBITMQ_MNESIA_BASE=$dir/mnesia"
    echo "RABBITMQ_LOG_BASE=$dir/log"
    echo "RABBITMQ_LOGS=-"
    echo "RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf"
    echo "RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins"
    echo "RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf"
    # Distribution listens and connects from the node's own address (so a partition can be made
    # by address), and a lost peer is noticed in about 10 s instead of 60.
    echo "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {${ip//./,}} -kernel inet_dist_connect_options [{ip,{${ip//./,}}}] -kernel net_ticktime 10"
}

init_rabbitmq_node() {
    local node="$1" dir="$CL/$1"
    init_rabbitmq_dir "$dir" "$RMQ_HOME"
    # pause_minority: a node cut off from the majority stops serving (its clients go elsewhere)
    # instead of carrying on with a diverging copy.
    cat >"$dir/rabbitmq.conf" <<EOF
# generated by scripts/stack from $TOPOLOGY
listeners.tcp.default = $(host_port "$node")
loopback_users.guest = true
disk_free_limit.absolute = 50MB
cluster_partition_handling = pause_minority
EOF
}

rmq_cli_on() {  # NODE TOOL ARGS...
    local node="$1" tool="$2"; shift 2
    local -a envs; mapfile -t envs < <(rmq_env_pairs "$node")
    env "${envs[@]}" PATH="/usr/lib/rabbitmq/bin:$PATH" "/usr/lib/rabbitmq/bin/$tool" -n "$(rmq_node_name "$node")" "$@"
}
# The stack's rabbitmqctl: RABBITMQ_NODE=rabbitmq-2 picks the node (default: the first one up).
rabbitmq_cli() {
    local node="${RABBITMQ_NODE:-}"
    if [ -z "$node" ]; then
        for node in "${RMQ_NODES[@]}"; do [ "$(component_state "$node")" = RUNNING ] && break; done
    fi
    rmq_cli_on "$node" "$@"
}

rmq_running_nodes() { rmq_cli_on "$1" rabbitmqctl -q cluster_status --formatter json 2>/dev/null | jq -r '.running_nodes[]' 2>/dev/null; }

# The first node founds the cluster; each other joins it unless it is already a member.
form_rabbitmq_cluster() {
    local first="${RMQ_NODES[0]}" node
    for node in "${RMQ_NODES[@]:1}"; do
        if rmq_cli_on "$node" rabbitmqctl -q cluster_status --formatter json | jq -e --arg n "$(rmq_node_name "$first")" \
            '.disk_nodes | index($n)' >/dev/null; then
            continue
        fi
        log "rabbitmq: $node joins $first"
        rmq_cli_on "$node" rabbitmqctl -q stop_app >/dev/null
        rmq_cli_on "$node" rabbitmqctl -q join_cluster "$(rmq_node_name "$first")" >/dev/null
        rmq_cli_on "$node" rabbitmqctl -q start_app >/dev/null
    done
    wait_for "all ${#RMQ_NODES[@]} RabbitMQ nodes running in one cluster" \
        eval '[ "$(rmq_running_nodes "$first" | wc -l)" -eq "${#RMQ_NODES[@]}" ]'
}

# ---------------------------------------------------------------------------
# Redis and Sentinel. Their config files are written once: Sentinel rewrites them as roles change.
# ---------------------------------------------------------------------------

init_redis() {
    local node conf primary
    for node in "${REDIS_NODES[@]}"; do
        mkdir -p "$CL/$node"; conf="$CL/$node/redis.conf"
        [ -f "$conf" ] && continue
        {
            echo "bind $(topo_field "$node" host)"
            echo "port $(topo_field "$node" port)"
            echo "dir $CL/$node"
            echo "appendonly yes"
            echo "daemonize no"
            echo 'logfile ""'
            primary="$(topo_option "$node" replica_of)"
            [ -z "$primary" ] || echo "replicaof $(topo_field "$primary" host) $(topo_field "$primary" port)"
        } >"$conf"
    done
    primary="${REDIS_NODES[0]}"
    for node in "${SENTINELS[@]}"; do
        mkdir -p "$CL/$node"; conf="$CL/$node/sentinel.conf"
        [ -f "$conf" ] && continue
        cat >"$conf" <<EOF
bind $(topo_field "$node" host)
port $(topo_field "$node" port)
dir $CL/$node
daemonize no
logfile ""
sentinel monitor $REDIS_MASTER $(topo_field "$primary" host) $(topo_field "$primary" port) $(topo_option "$node" quorum 2)
sentinel down-after-milliseconds $REDIS_MASTER 2000
sentinel failover-timeout $REDIS_MASTER 10000
sentinel parallel-syncs $REDIS_MASTER 1
EOF
    done
}

redis_primary() {  # host:port, as the first sentinel that answers says
    local node reply
    for node in "${SENTINELS[@]}"; do
        reply="$(redis-cli -h "$(topo_field "$node" host)" -p "$(topo_field "$node" port)" \
            sentinel get-master-addr-by-name "$REDIS_MASTER" 2>/dev/null | paste -sd:)" || continue
        [ -n "$reply" ] && { echo "$reply"; return 0; }
    done
    return 1
}

# ---------------------------------------------------------------------------
# HAProxy: the clients' entry (the backend's address) and the gateway's way to dialogs and counters
# ---------------------------------------------------------------------------

haproxy_backend() {  # ROLE: a frontend on its client port and the role's copies behind it
    local role="$1" copy
    cat <<EOF

frontend $role
    bind $(topo_field haproxy host):$(client_port "$role")
    default_backend $role

backend $role
    option httpchk GET /readyz
    http-check expect status 200
EOF
    for copy in $(topo_names "$role"); do
        echo "    server $copy $(host_port "$copy") check inter 500ms fall 2 rise 2"
    done
}

write_haproxy_config() {
    {
        cat <<EOF
# generated by scripts/stack from $TOPOLOGY
global
    maxconn 8000  # two descriptors per connection: within the 20,000 supervisord allows
    stats socket $CL/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
    timeout tunnel 1h
    # Only a connection that failed is tried again, on another copy: the request was never sent,
    # so this is safe for a POST too. An answer that does not come is not retried.
    retries 2
    retry-on conn-failure
    option redispatch 1
    balance roundrobin

listen stats
    bind $(topo_field haproxy host):$(topo_option haproxy stats)
    stats enable
    stats uri /
EOF
        haproxy_backend backend
        haproxy_backend dialogs
        haproxy_backend counters
    } >"$CL/haproxy.cfg"
    /usr/sbin/haproxy -c -q -f "$CL/haproxy.cfg" || die "haproxy rejects $CL/haproxy.cfg"
}

# ---------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------

profile_init() {
    mkdir -p "$CL"
    ensure_traversable_for_postgres
    local node
    for node in "${RMQ_NODES[@]}"; do init_rabbitmq_node "$node"; done
    init_redis
    write_haproxy_config
}

profile_ports() {
    local n key
    for n in "${TOPO_ORDER[@]}"; do
        echo "${TOPO_PORT[$n]}"
        for key in dist dialogs counters stats; do topo_option "$n" "$key"; done
    done | grep . | sort -u
}

# Engine nodes stay down when they die, as a dead host would, until `scripts/stack start NAME`;
# the cluster carries on without them. Services, sentinels, the monitor and HAProxy restart.
# None starts with supervisord: profile_start_infra starts them in their order (a pg_auto_failover
# keeper that finds no monitor gives up).
profile_programs() { engine_programs | awk '{print} /^\[program:/ {print "autostart=false"}'; }
engine_programs() {
    local -a addresses=(127.0.0.1) node
    for node in "${RMQ_NODES[@]}"; do addresses+=("$(topo_field "$node" host)"); done
    simple_program epmd "/usr/bin/epmd -port $EPMD_PORT -address $(printf '%s\n' "${addresses[@]}" | sort -u | paste -sd,)" \
        "$CL" 10
    pg_program pg-monitor true
    for node in "${PG_NODES[@]}"; do pg_program "$node" false; done
    for node in "${RMQ_NODES[@]}"; do rabbitmq_program "$node" "$CL/$node" 30 false < <(rmq_env_pairs "$node"); echo; done
    for node in "${REDIS_NODES[@]}"; do
        simple_program "$node" "/usr/bin/redis-server $CL/$node/redis.conf" "$CL/$node" 20 TERM 15 false
    done
    for node in "${SENTINELS[@]}"; do
        simple_program "$node" "/usr/bin/redis-sentinel $CL/$node/sentinel.conf" "$CL/$node" 25
    done
    simple_program haproxy "/usr/sbin/haproxy -db -f $CL/haproxy.cfg" "$CL" 40 USR1 5
}

# NAME COMMAND DIRECTORY PRIORITY [sv_common's stop signal, wait, autorestart]
simple_program() {
    local name="$1" command="$2" directory="$3" priority="$4"; shift 4
    printf '[program:%s]\ncommand=%s\ndirectory=%s\npriority=%s\n%s\n\n' "$name" "$command" "$directory" "$priority" \
        "$(sv_common "$name" "$@")"
}

# Polls CHECK ARGS... until it succeeds, against STACK_TIMEOUT. $1: what is awaited, for messages.
wait_for() {
    local what="$1" deadline=$((SECONDS + STACK_TIMEOUT)); shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || die "no $what within ${STACK_TIMEOUT}s"
        sleep 0.5
    done
    log "ready: $what"
}

profile_start_infra() {
    start_components epmd
    start_postgres
    start_components "${RMQ_NODES[@]}"
    wait_ready "${RMQ_NODES[@]}"
    form_rabbitmq_cluster
    start_components "${REDIS_NODES[@]}" "${SENTINELS[@]}" haproxy
    wait_ready "${REDIS_NODES[@]}" "${SENTINELS[@]}" haproxy
    wait_for "a Redis primary known to the sentinels" redis_primary
}

profile_after_infra() {
    ensure_databases "$(admin_pg_dsn postgres)"
    pgaf_set_passwords
    creds_setup_postgres
    creds_setup_rabbitmq
}

# HAProxy must have seen the copies healthy before clients are told the cluster is up.
profile_after_services() {
    wait_for "HAProxy passing requests to the backends" \
        curl -fsS -o /dev/null --max-time 2 "http://$(topo_field haproxy host):$(client_port)/readyz"
}

# A primary that crashed must replay its WAL before pg_rewind can make it follow the new primary.
# pg_autoctl 2.0 starts it for that and runs pg_rewind while it still runs ("lock file
# postmaster.pid already exists"), then falls back to a pg_basebackup that waits for a spread
# checkpoint (minutes). So the recovery is done here first, in single-user mode, which ends with a
# clean shutdown: pg_rewind then starts at once.
recover_crashed_primary() {
    local pgdata="$PG_ROOT/$1"
    rm -f "$pgdata/postmaster.pid"
    [ -f "$pgdata/PG_VERSION" ] || return 0
    if [ ! -f "$pgdata/standby.signal" ] &&
        "$PG_BIN/pg_controldata" "$pgdata" 2>/dev/null | grep -q '^Database cluster state: *in production$'; then
        log "$1 crashed as a primary: crash recovery before it rejoins"
        (cd / && runuser -u postgres -- "$PG_BIN/postgres" --single -D "$pgdata" postgres </dev/null) \
            >>"$LOG_DIR/$1.log" 2>&1 || log "warning: crash recovery of $1 failed; pg_autoctl will try"
    fi
}

# A node that died leaves pid files that only it could have removed: nothing else uses them.
profile_before_start() {
    case "$(topo_field "$1" role 2>/dev/null)" in
        postgres) [ "$(component_state "$1")" = RUNNING ] || { pg_write_hba "$1"; recover_crashed_primary "$1"; } ;;
        rabbitmq) [ "$(component_state "$1")" = RUNNING ] || rm -f "$CL/$1/mnesia/$(rmq_node_name "$1").pid" ;;
    esac
}

profile_clean_stale_state() {
    local node
    for node in "${PG_NODES[@]}" pg-monitor; do rm -f "$PG_ROOT/$node/postmaster.pid"; done
    rm -rf "$PGAF_HOME/run"
    for node in "${RMQ_NODES[@]}"; do rm -f "$CL/$node/mnesia/$(rmq_node_name "$node").pid"; done
}

ready_infra() {
    local host port; host="$(topo_field "$1" host)"; port="$(topo_field "$1" port)"
    case "$(topo_field "$1" role)" in
        pg-monitor|postgres) "$PG_BIN/pg_isready" -q -h "$host" -p "$port" -U postgres -d postgres -t 2 ;;
        rabbitmq) rmq_cli_on "$1" rabbitmq-diagnostics -q check_running --timeout 5 >/dev/null 2>&1 &&
                      (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null ;;
        redis|sentinel) [ "$(redis-cli -h "$host" -p "$port" ping 2>/dev/null)" = PONG ] ;;
        haproxy) curl -fsS -o /dev/null --max-time 2 "http://$host:$(topo_option haproxy stats)/" ;;
        *) return 1 ;;
    esac
}

describe_infra() {
    case "$(topo_field "$1" role)" in
        rabbitmq) echo "amqp://$(host_port "$1") (node $(rmq_node_name "$1"))" ;;
        haproxy) echo "http://$(host_port haproxy) (stats on :$(topo_option haproxy stats))" ;;
        *) host_port "$1" ;;
    esac
}

profile_ps() {
    echo
    echo "PostgreSQL (pg_auto_failover):"; pg_states 2>/dev/null | sed 's/^/  /' || echo "  monitor not answering"
    echo "Redis primary (Sentinel): $(redis_primary || echo none)"
    echo "RabbitMQ queue leaders:"
    rabbitmq_cli rabbitmqctl -q list_queues name leader members 2>/dev/null | sed 's/^/  /' || echo "  no node answering"
}

profile_env() {
    cat <<EOF
$(creds_env)
export REDIS_URL='$(svc_redis_url)' REDIS_MASTER=$REDIS_MASTER
export RABBITMQ_PORT=$(topo_field "${RMQ_NODES[0]}" port)
export HAPROXY_SOCKET='$CL/haproxy.sock' CLUSTER_TOPOLOGY='$TOPOLOGY'
export PG_MONITOR_DSN='$(monitor_dsn)'
EOF
}

profile_psql_dsn() { admin_pg_dsn "$1"; }
profile_redis_cli() {
    local primary; primary="$(redis_primary)" || die "no Redis primary known to the sentinels"
    exec redis-cli -h "${primary%:*}" -p "${primary#*:}" "$@"
}
