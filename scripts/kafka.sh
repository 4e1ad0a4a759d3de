# shellcheck shell=bash
# A single-node Apache Kafka broker in KRaft mode (combined broker + controller, node.id=1), run
# straight from the Maven jars (./bk deps) with Java 17 and a 256 MB heap. Config, data and the
# cluster id live in $BK_STATE_DIR/kafka; the topic "bookings" gets one partition per tier.

readonly KAFKA_TOPIC=bookings

# The partition count: one per row of the tiers table (tiers.position is the partition), read from
# PostgreSQL, which the stack starts first. The services check the topic against the same table.
kafka_partitions() {
    local n
    n=$(psql_booking -At -c 'SELECT count(*) FROM tiers') || die "could not count the tiers in PostgreSQL"
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "the tiers table holds ${n:-no} tiers: no topic to create"
    printf '%s\n' "$n"
}

kafka_pidfile() { printf '%s\n' "$RUN_DIR/kafka.pid"; }
kafka_pid() { pid_alive "$(kafka_pidfile)" "*kafka.Kafka $KAFKA_DIR/server.properties*"; }

# kafka_tool TIMEOUT_S CLASS ARGS... — runs a Kafka command-line tool (StorageTool, TopicCommand)
# in a small, quick-starting JVM, killed after TIMEOUT_S.
kafka_tool() {
    local limit=$1
    shift
    timeout "$limit" java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dlog4j.configuration="file:$KAFKA_DIR/tools-log4j.properties" \
        -cp "$BK_KAFKA_LIBS/*" "$@"
}

# TopicCommand with bounded client timeouts (the admin client's default is 60 s per call).
kafka_topics() {
    kafka_tool 60 org.apache.kafka.tools.TopicCommand --bootstrap-server "$BK_KAFKA_BROKERS" \
        --command-config "$KAFKA_DIR/admin.properties" "$@"
}

kafka_up() {
    command -v java >/dev/null || die "java not found; run ./bk deps"
    deps_kafka_jars # a no-op once the jars are there
    local pid
    if pid=$(kafka_pid); then
        log "kafka already running (pid $pid)"
        # An earlier ./bk up may have been interrupted before the topic existed.
        if [[ ! -f $KAFKA_DIR/topic-checked ]]; then
            kafka_wait_ready
            kafka_ensure_topic
        fi
        return 0
    fi
    require_free_port "$BK_KAFKA_PORT" "BK_KAFKA_PORT"
    require_free_port "$BK_KAFKA_CONTROLLER_PORT" "BK_KAFKA_CONTROLLER_PORT"
    mkdir -p "$KAFKA_DIR/data" "$LOG_DIR" "$RUN_DIR"
    kafka_write_config
    kafka_format

    log "starting kafka on 127.0.0.1:$BK_KAFKA_PORT (controller 127.0.0.1:$BK_KAFKA_CONTROLLER_PORT)"
    start_daemon "$(kafka_pidfile)" "$LOG_DIR/kafka.out" \
        java -Xms256m -Xmx256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true -Dkafka.logs.dir="$LOG_DIR" \
        -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
        -cp "$BK_KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties"

    kafka_wait_ready
    kafka_ensure_topic
}

kafka_write_config() {
    cat >"$KAFKA_DIR/server.properties" <<EOF
# Written by scripts/kafka.sh before every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$BK_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$BK_KAFKA_PORT,CONTROLLER://127.0.0.1:$BK_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$BK_KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
# One broker: every internal topic has a single replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
default.replication.factor=1
group.initial.rebalance.delay.ms=0
# Topics are created on purpose (./bk up), never by a typo in a client.
auto.create.topics.enable=false
EOF
    # Broker logs go to a rotating file in the state folder; only JVM crashes reach kafka.out.
    cat >"$KAFKA_DIR/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$LOG_DIR/kafka.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=3
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
EOF
    cat >"$KAFKA_DIR/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
    cat >"$KAFKA_DIR/admin.properties" <<'EOF'
request.timeout.ms=5000
default.api.timeout.ms=10000
EOF
}

# The storage is formatted once with a cluster id generated once and kept in the state folder.
kafka_format() {
    [[ -f $KAFKA_DIR/data/meta.properties ]] && return 0
    local id_file=$KAFKA_DIR/cluster-id
    if [[ ! -s $id_file ]]; then
        kafka_tool 60 kafka.tools.StorageTool random-uuid >"$id_file.tmp"
        mv "$id_file.tmp" "$id_file"
    fi
    log "formatting kafka storage (cluster id $(<"$id_file"))"
    kafka_tool 60 kafka.tools.StorageTool format -t "$(<"$id_file")" -c "$KAFKA_DIR/server.properties" \
        --ignore-formatted >/dev/null || die "kafka storage format failed"
}

# Ready = the broker answers a metadata request (listing topics, kept in KAFKA_TOPIC_LIST). The
# port is probed first so no JVM starts while the broker still boots; a dead broker ends the wait.
kafka_wait_ready() {
    local deadline=$((SECONDS + 90))
    while ((SECONDS < deadline)); do
        if ! kafka_pid >/dev/null; then
            log_tail "$LOG_DIR/kafka.log"
            log_tail "$LOG_DIR/kafka.out"
            die "kafka exited during start-up"
        fi
        if port_open "$BK_KAFKA_PORT" && KAFKA_TOPIC_LIST=$(kafka_topics --list 2>/dev/null); then
            return 0
        fi
        sleep 0.5
    done
    log_tail "$LOG_DIR/kafka.log"
    die "kafka did not answer metadata requests on $BK_KAFKA_BROKERS within 90 s"
}

kafka_ensure_topic() {
    local marker=$KAFKA_DIR/topic-checked desc count partitions
    # Partition count verified once after creation; later starts only check the topic exists.
    if [[ -f $marker ]] && grep -qx "$KAFKA_TOPIC" <<<"$KAFKA_TOPIC_LIST"; then
        return 0
    fi
    partitions=$(kafka_partitions)
    kafka_topics --create --if-not-exists --topic "$KAFKA_TOPIC" \
        --partitions "$partitions" --replication-factor 1 >/dev/null ||
        die "could not create topic $KAFKA_TOPIC"
    desc=$(kafka_topics --describe --topic "$KAFKA_TOPIC") || die "could not describe topic $KAFKA_TOPIC"
    count=$(sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p' <<<"$desc" | head -n1)
    [[ $count == "$partitions" ]] ||
        die "topic $KAFKA_TOPIC has ${count:-?} partitions, expected $partitions (one per tier)"
    log "topic $KAFKA_TOPIC ready: $count partitions"
    touch "$marker"
}

kafka_stop() {
    # A clean shutdown flushes the log and avoids recovery on the next start; give it time.
    stop_pid kafka "$(kafka_pidfile)" "*kafka.Kafka $KAFKA_DIR/server.properties*" 60
}

kafka_status() {
    local pid state=starting
    if pid=$(kafka_pid); then
        port_open "$BK_KAFKA_PORT" && state=listening
        printf '%-12s running  pid %-8s 127.0.0.1:%s, controller 127.0.0.1:%s (%s)\n' \
            kafka "$pid" "$BK_KAFKA_PORT" "$BK_KAFKA_CONTROLLER_PORT" "$state"
    else
        printf '%-12s stopped\n' kafka
    fi
}
