// Every bound in one place (docs/style.md point 7: "all queues have a fixed upper
// bound"). Defaults that an operator may change live in the config schema and start from
// these values; the hard ceilings here are what no configuration may exceed.

/** Default key limit; a key is 1..keyBytesMax bytes. */
export const KEY_BYTES_MAX_DEFAULT = 1024;
/** Ceiling for a configured key limit: keys live inside LMDB keys, which cap at 1978 bytes. */
export const KEY_BYTES_MAX_CEILING = 1900;
/** Default value limit. */
export const VALUE_BYTES_MAX_DEFAULT = 1024 * 1024;
/** Ceiling for a configured value limit, kept well below the gRPC message ceiling. */
export const VALUE_BYTES_MAX_CEILING = 3 * 1024 * 1024;
/** gRPC message ceiling for every server and client we create. */
export const GRPC_MESSAGE_BYTES_MAX = 16 * 1024 * 1024;
/** Items in one BatchPut or BatchGet; the request decoders stop at the first item past it. */
export const BATCH_ITEMS_MAX = 1000;
/**
 * Key and value bytes in one BatchGet answer. Items after it come back as
 * RESPONSE_TOO_LARGE for the client to ask again, so the answer stays below
 * GRPC_MESSAGE_BYTES_MAX (1000 values of 1 MiB would otherwise be a 1 GB message that
 * the node builds and gRPC then refuses). The first found item always fits. The
 * coordinator reads the keys in chunks and stops here, each replica read bounded by the
 * bytes left, so this also bounds what one BatchGet makes the node hold: about
 * N × (this + REPLICA_ANSWER_BYTES_MAX + one value) on a cluster of N nodes
 * (docs/decisions/0040-bounded-batch-get-memory.md).
 */
export const BATCH_GET_RESPONSE_BYTES_MAX = 8 * 1024 * 1024;
/** Node id (pod name) length; node ids are stored in every version. */
export const NODE_ID_BYTES_MAX = 253;

// --- gRPC requests before they are decoded (docs/decisions/0102-bounded-decoding.md) ---
// GRPC_MESSAGE_BYTES_MAX is the server-wide bound, which grpc-js checks against a
// message's length prefix before it buffers the message. The per-method bounds below are
// checked once the message has arrived and before any decoder reads it: they bound the
// decoding, not the receiving. Methods not named here (KV.BatchPut, Replica.Apply and
// Replica.Exchange) may use the whole GRPC_MESSAGE_BYTES_MAX; their item counts bound them.
/**
 * Bytes of one request to a method whose requests hold at most one key: KV Get and
 * Delete, every Admin method, Replica MerkleTree and Scan (a Probe has its own
 * PROBE_REQUEST_BYTES_MAX). A key is at most
 * KEY_BYTES_MAX_CEILING bytes; the rest is room for the scalar fields and for fields a
 * newer client may add.
 */
export const SMALL_REQUEST_BYTES_MAX = 64 * 1024;
/** Bytes of one KV Put request: a key and a value at their ceilings, and the small rest. */
export const PUT_REQUEST_BYTES_MAX = KEY_BYTES_MAX_CEILING + VALUE_BYTES_MAX_CEILING + SMALL_REQUEST_BYTES_MAX;
/** Bytes of one key in a repeated field: the key at its ceiling, a one-byte tag and a two-byte length. */
const KEY_FIELD_BYTES_MAX = KEY_BYTES_MAX_CEILING + 3;
/** Bytes of one KV BatchGet request: BATCH_ITEMS_MAX keys at the ceiling, and the small rest (≈ 1.9 MiB). */
export const BATCH_GET_REQUEST_BYTES_MAX = BATCH_ITEMS_MAX * KEY_FIELD_BYTES_MAX + SMALL_REQUEST_BYTES_MAX;
/**
 * Calls one HTTP/2 connection may have open at once (`grpc.max_concurrent_streams`,
 * announced in the server's SETTINGS; a client queues the calls past it). A quarter of
 * COORDINATOR_IN_FLIGHT_REQUESTS_DEFAULT, so that one connection cannot take the whole
 * in-flight budget; far above what a peer (two Exchange streams and a few unary calls)
 * or a client of the default `qkv bench --concurrency 64` opens.
 */
export const GRPC_CONNECTION_STREAMS_MAX = 1024;

/** One WAL frame payload; larger appends are refused before they touch the file. */
export const WAL_FRAME_PAYLOAD_BYTES_MAX = 8 * 1024 * 1024;
/** Default segment size before rotation. */
export const WAL_SEGMENT_BYTES_DEFAULT = 64 * 1024 * 1024;
/** Bytes gathered into one group-commit write before a sync is forced. */
export const WAL_GROUP_COMMIT_BYTES_MAX = 4 * 1024 * 1024;
/** Appends waiting for the log before new ones are refused with OVERLOADED. */
export const WAL_PENDING_APPENDS_MAX = 100_000;

/** Default memtable budget before a checkpoint is started. */
export const MEMTABLE_BYTES_DEFAULT = 64 * 1024 * 1024;
/** Default grace period before tombstones are purged (10 days). */
export const TOMBSTONE_GRACE_MS_DEFAULT = 10 * 24 * 60 * 60 * 1000;
/**
 * Keys in one StorageEngine.discard call. Each discarded key costs at most about 2.2 KB
 * of WAL frame (key, stamp, node id); the durable engine splits a call across frames of
 * at most WAL_FRAME_PAYLOAD_BYTES_MAX.
 */
export const DISCARD_ENTRIES_MAX = 4_096;
/** A sync slower than this is logged as slow. */
export const FSYNC_SLOW_MS = 100;

/** Messages (apply or read calls) waiting to be sent to one peer; more get OVERLOADED. */
export const REPLICA_QUEUE_MESSAGES_MAX = 10_000;
/**
 * Approximate payload bytes in one coalesced Replica call. A turn's messages beyond it
 * travel in further calls, which keeps every call well below GRPC_MESSAGE_BYTES_MAX.
 */
export const REPLICA_BATCH_BYTES_MAX = 4 * 1024 * 1024;
/**
 * Records or keys in one coalesced Replica call; a replica refuses an Apply or Read with
 * more, and its decoders stop at the first record or key past it.
 */
export const REPLICA_BATCH_ITEMS_MAX = 4096;
/** Bytes of one Replica.Read request: REPLICA_BATCH_ITEMS_MAX keys at the ceiling, and the small rest (≈ 7.5 MiB). */
export const REPLICA_READ_REQUEST_BYTES_MAX = REPLICA_BATCH_ITEMS_MAX * KEY_FIELD_BYTES_MAX + SMALL_REQUEST_BYTES_MAX;
/**
 * Record bytes (keys and values) in one Replica Read answer or Scan page. A replica stops
 * there and the caller asks again for the rest, so an answer stays far below
 * GRPC_MESSAGE_BYTES_MAX however large the values or however often a key repeats. One
 * record always fits: it is at most KEY_BYTES_MAX_CEILING + VALUE_BYTES_MAX_CEILING.
 */
export const REPLICA_ANSWER_BYTES_MAX = 4 * 1024 * 1024;
/**
 * Keys a replica reads from its engine at a time while answering a Read, so that a Read
 * of many large values stops reading soon after REPLICA_ANSWER_BYTES_MAX instead of
 * first copying every value out of the store.
 */
export const REPLICA_READ_SLICE_KEYS = 64;
/**
 * Batches on one Exchange stream (docs/decisions/0062-replica-exchange-stream.md): a
 * sender lets at most this many wait for their replies (more fail with OVERLOADED), and
 * a replica runs at most this many at once for one stream (more are answered OVERLOADED),
 * so what one peer can make a replica hold per stream is this many decoded batches. At
 * the per-turn batching of a busy node a few dozen are in flight.
 */
export const REPLICA_STREAM_REQUESTS_MAX = 256;
/**
 * Requests one client's KV.Multiplex stream may have running at once
 * (docs/decisions/0170-multiplexed-kv-stream.md): the node answers more OVERLOADED, and
 * the project's client never sends more (it fails the extra ones OVERLOADED itself), so
 * what one stream can make a node hold is this many decoded requests. The bench's 64
 * concurrent requests per connection stay well below it.
 */
export const KV_STREAM_REQUESTS_MAX = 256;
/**
 * KV.Multiplex streams the project's client keeps open to one node, used in turn
 * (docs/decisions/0230-client-requests-spread-over-streams.md). grpc-js sends one message
 * of a stream per socket write, each after the last one's write finished, so requests
 * made in one turn leave in one write only when they are on different streams. What one
 * client can make a node hold is this many times KV_STREAM_REQUESTS_MAX.
 */
export const KV_CLIENT_STREAMS_PER_NODE = 4;
/** Time a draining node waits for in-flight requests before closing anyway. */
export const DRAIN_TIMEOUT_MS_DEFAULT = 10_000;

/** Virtual nodes (tokens) per member when the cluster does not say otherwise. */
export const RING_VNODES_DEFAULT = 256;
/** Ceiling for vnodes per member; more buys little balance and costs memory. */
export const RING_VNODES_MAX = 4096;
/** Members in one ring. */
export const RING_MEMBERS_MAX = 4096;

/**
 * Members forgotten by `qkv forget` that a node keeps and passes on in every probe
 * (docs/decisions/0180-forget-a-member-gone-for-good.md). A probe with more is refused;
 * `qkv forget` beyond it is refused. Each entry is one id (at most NODE_ID_BYTES_MAX),
 * one version and the forget's signature (FORGET_SIGNER_CERTIFICATE_BYTES_MAX and
 * FORGET_SIGNATURE_BYTES_MAX): PROBE_REQUEST_BYTES_MAX bounds a probe with a full list.
 */
export const FORGOTTEN_MEMBERS_MAX = 128;
/**
 * Forget signatures a node checks, per peer and second, for marks that peer passes on
 * that it has not refused in the last minute (docs/decisions/0268-forget-signed-by-an-admin.md):
 * a full list of new marks fits, and a member sending forged marks with fresh versions
 * costs the node about 0.33 ms each, some 42 ms of CPU a second, not all it has. A mark
 * beyond it waits for that peer's next probe.
 */
export const FORGET_SIGNATURE_CHECKS_PER_PEER_PER_SECOND = FORGOTTEN_MEMBERS_MAX;
/**
 * The signature of a forget (docs/decisions/0268-forget-signed-by-an-admin.md): an admin
 * user's DER certificate and its signature, carried by Admin.Forget and by every probe
 * with the mark. A P-256 certificate of `qkv certs` is about 600 bytes and its signature
 * at most 72; the bounds leave room for RSA-4096 certificates of other tools (cert-manager).
 */
export const FORGET_SIGNER_CERTIFICATE_BYTES_MAX = 2048;
export const FORGET_SIGNATURE_BYTES_MAX = 512;
/**
 * A probe's bytes: the 64 KiB of a small request for its ring states, and a full list of
 * signed forgotten members (about 2.6 KiB each at most): about 388 KiB. Only members
 * reach the peer port, and the size is checked before the probe is decoded.
 */
export const PROBE_REQUEST_BYTES_MAX = SMALL_REQUEST_BYTES_MAX + FORGOTTEN_MEMBERS_MAX * (FORGET_SIGNER_CERTIFICATE_BYTES_MAX + FORGET_SIGNATURE_BYTES_MAX + 32);
/** A probe answer's bytes, checked by the prober before decoding: what a probe may hold (src/protocol/probe-answer-bounds.ts). */
export const PROBE_ANSWER_BYTES_MAX = PROBE_REQUEST_BYTES_MAX;
/**
 * Tokens in one ring (members × vnodes): 4096 members at the default 256 vnodes. A ring
 * measured 37 bytes per token when built and 109 once every range's replica list was
 * cached (N = 3), so this bounds a ring at about 115 MB.
 */
export const RING_TOKENS_MAX = 1024 * 1024;
/** Replicas per key (N) when the cluster does not say otherwise. */
export const REPLICATION_FACTOR_DEFAULT = 3;
/** Keys one `qkv ring simulate` run may place (8 bytes of token and more per key). */
export const RING_SIMULATE_KEYS_MAX = 10_000_000;
/** Default cap on coordinator calls in flight on one node; more are refused with OVERLOADED. */
export const COORDINATOR_IN_FLIGHT_REQUESTS_DEFAULT = 4096;
/** Ceiling for a configured in-flight cap; a batch counts once and holds ≤ BATCH_ITEMS_MAX keys. */
export const COORDINATOR_IN_FLIGHT_REQUESTS_CEILING = 100_000;
/** How long a write waits for its W acks when the client gives no deadline. */
export const WRITE_TIMEOUT_MS_DEFAULT = 2_000;
/** How long a read waits for its R replies when the client gives no deadline. */
export const READ_TIMEOUT_MS_DEFAULT = 5_000;
/**
 * A read sized to its quorum asks one spare replica once the first R have been silent
 * for their observed p99 read latency, but never sooner than the floor (loopback and LAN
 * reads can be sub-millisecond, and a spare on every scheduling hiccup doubles the reads)
 * nor later than the ceiling (a replica that just stalled must not hold reads up long).
 * docs/decisions/0175-reads-sized-to-the-quorum.md.
 */
export const READ_SPECULATION_FLOOR_MS_DEFAULT = 5;
export const READ_SPECULATION_CEILING_MS_DEFAULT = 50;
/** No request waits longer than this, whatever deadline the client asks for. */
export const REQUEST_TIMEOUT_MS_CEILING = 60_000;
/** Longest TTL a write may ask for (100 years); keeps expiry times exact in a double. */
export const TTL_MS_MAX = 100 * 365 * 24 * 60 * 60 * 1000;

// --- Times other nodes send (docs/decisions/0101-bounds-on-peer-stamps-and-ring-versions.md) ---
/**
 * How far ahead of this node's wall clock another node's clock may run: a stamp further
 * ahead is not adopted by the hybrid logical clock (src/clock/hybrid-logical-clock.ts),
 * and a record stamped further ahead is refused with STAMP_FROM_FUTURE wherever it would
 * be stored here (Replica Apply, hints, streaming, repair, read repair). An honest
 * cluster keeps its clocks far closer (NTP holds them within milliseconds).
 */
export const HLC_FORWARD_DRIFT_MS_MAX = 60_000;
/**
 * How far ahead of this node's wall clock a ring-state version may lie. Versions are
 * wall-clock milliseconds of the announcing node (src/ring/ring-state.ts), so the
 * same skew bound applies; a probe carrying a later one is refused with
 * RING_STATE_VERSION_FROM_FUTURE and changes nothing.
 */
export const RING_STATE_VERSION_AHEAD_MS_MAX = HLC_FORWARD_DRIFT_MS_MAX;
/**
 * Largest replication factor N a cluster may be configured with (the ring and the
 * coordinator both check it; merged from the ring's 16 and the coordinator's 7).
 */
export const REPLICATION_FACTOR_MAX = 7;

/** Consecutive unanswered calls or probes after which a peer is marked down. */
export const FAILURE_DETECTOR_DOWN_AFTER_FAILURES_DEFAULT = 3;
export const FAILURE_DETECTOR_DOWN_AFTER_FAILURES_MAX = 100;
/** How often every peer is probed, and how long a probe may take. */
export const PEER_PROBE_INTERVAL_MS_DEFAULT = 1_000;
export const PEER_PROBE_TIMEOUT_MS_DEFAULT = 1_000;
/**
 * How long a starting node waits for every peer to answer a probe before it reports ready
 * anyway, and how often it asks again meanwhile. Bounded, so a node whose peers are down
 * still starts; long enough to cover peers started at the same moment.
 */
export const PEERS_READY_WAIT_MS_DEFAULT = 3_000;
export const PEERS_READY_WAIT_MS_MAX = 60_000;
export const PEERS_READY_RETRY_MS = 100;

/** Hint bytes kept for one peer (Cassandra keeps hints per target too); more are dropped. */
export const HINT_BYTES_PER_PEER_DEFAULT = 64 * 1024 * 1024;
/** Ceiling for a configured per-peer hint budget. */
export const HINT_BYTES_PER_PEER_CEILING = 4 * 1024 * 1024 * 1024;
/** Hints are kept for writes at most this old (Cassandra's max_hint_window, 3 h). */
export const HINT_WINDOW_MS_DEFAULT = 3 * 60 * 60 * 1000;
/** Delivery pace per peer, so a returning node is not flooded. */
export const HINT_REPLAY_BYTES_PER_SECOND_DEFAULT = 4 * 1024 * 1024;
/** Records in one hint delivery call. */
export const HINT_REPLAY_BATCH_RECORDS = 512;
/** How often pending hints are offered to peers that are not down. */
export const HINT_REPLAY_INTERVAL_MS_DEFAULT = 1_000;
/** Segment size of a per-peer hint log. */
export const HINT_SEGMENT_BYTES = 8 * 1024 * 1024;

/** Merkle tree depth per token range: 2^depth leaves. */
export const MERKLE_DEPTH_DEFAULT = 6;
export const MERKLE_DEPTH_MAX = 12;
/**
 * Key and value bytes in one storage-engine scan page: a page ends there even before its
 * record limit (always holding at least one record), so a page of large values stays
 * small in memory and fits a Scan answer far below GRPC_MESSAGE_BYTES_MAX.
 */
export const SCAN_PAGE_BYTES_MAX = 4 * 1024 * 1024;
/**
 * Records read from the engine per scan page while hashing or streaming a range; a
 * Merkle tree build yields to the event loop between pages.
 */
export const REPAIR_SCAN_PAGE_RECORDS = 1_000;
/** Records sent in one anti-entropy apply call. */
export const REPAIR_STREAM_BATCH_RECORDS = 512;
/** Records one Scan RPC may return. */
export const REPAIR_SCAN_RECORDS_MAX = 4_096;
/** Anti-entropy pace: token ranges compared per second (rate limit). */
export const REPAIR_RANGES_PER_SECOND_DEFAULT = 50;
/** Background anti-entropy round interval (a full pass over this node's ranges). */
export const REPAIR_INTERVAL_MS_DEFAULT = 10 * 60 * 1000;
/** How long one tree or scan exchange with a peer may take. */
export const REPAIR_CALL_TIMEOUT_MS = 10_000;
/**
 * Join and decommission streaming pace (bytes of keys and values per second), the way
 * Cassandra's stream_throughput_outbound (24 MiB/s) keeps a bootstrap from starving
 * client traffic.
 */
export const STREAM_BYTES_PER_SECOND_DEFAULT = 32 * 1024 * 1024;
export const STREAM_BYTES_PER_SECOND_CEILING = 4 * 1024 * 1024 * 1024;
/**
 * Token ranges one join or decommission streams at once. Each range that brings records
 * ends in a durable apply; several in flight share one WAL sync (group commit).
 */
export const STREAM_RANGES_IN_FLIGHT = 16;
/** Pause before a streaming pass retries the ranges whose sources or targets failed. */
export const STREAM_RETRY_INTERVAL_MS = 2_000;
/** How often the completed ranges of a running stream are saved (and at its end). */
export const STREAM_PROGRESS_SAVE_INTERVAL_MS = 1_000;
/**
 * Records cleanup reads per scan page. Each page with records to delete costs a probe
 * of every member (the rings are checked again before anything is deleted) and one
 * discard, so a page is also the most cleanup deletes under one check.
 */
export const CLEANUP_SCAN_PAGE_RECORDS = 1_000;
/** How long cleanup waits for a member's answer when it checks the rings. */
export const CLEANUP_PEER_TIMEOUT_MS = 5_000;
/** How often a running cleanup logs its progress. */
export const CLEANUP_PROGRESS_LOG_INTERVAL_MS = 10_000;
/** How often a node checks whether every reachable peer has heard its new ring state. */
export const RING_STATE_ANNOUNCE_POLL_MS = 100;
/**
 * How long a node that became NORMAL also waits for peers its failure detector holds
 * down before it reports ready: peers that started in the same moment fail their first
 * probes and are marked down while they are in fact coming up, and one of them may
 * still route by an older view of this node. A peer that is really gone delays
 * readiness by this much, once.
 */
export const RING_STATE_ANNOUNCE_DOWN_GRACE_MS = 3_000;
/**
 * The longest a starting node waits, before it first reports ready, to see every member
 * it knows NORMAL (a member held down by the failure detector does not count): a member
 * that stays JOINING or LEAVING longer (a long join elsewhere) no longer holds it back
 * (docs/decisions/0163).
 */
export const READINESS_PEERS_WAIT_MS = 120_000;

/** How often the node records that it is alive (for the stale-rejoin check). */
export const LAST_SEEN_INTERVAL_MS = 60_000;

/** Closed-loop clients in one `qkv bench` run; each holds one request in flight. */
export const BENCH_CONCURRENCY_MAX = 4096;
/** Operations per second `qkv bench --rate` may ask for. */
export const BENCH_RATE_PER_SECOND_MAX = 10_000_000;
/** Keys in one `qkv bench` key space (the load phase writes each once). */
export const BENCH_RECORDS_MAX = 100_000_000;
/** Length of one `qkv bench` run (one hour). */
export const BENCH_DURATION_MS_MAX = 60 * 60 * 1000;
/**
 * Longest latency a benchmark histogram records exactly (60 s, in microseconds); a slower
 * call is recorded at this value so one stall cannot break the histogram.
 */
export const BENCH_LATENCY_US_MAX = 60_000_000;

// --- Kubernetes list/watch (src/kubernetes, src/discovery/kubernetes) ---
/**
 * How long the API server keeps one watch open before it ends it cleanly (the watch's
 * timeoutSeconds, as client-go's reflector does); the loop then resumes from the last
 * resourceVersion without a relist.
 */
export const KUBE_WATCH_TIMEOUT_SECONDS_DEFAULT = 300;
/**
 * A watch that has said nothing for this long past its own timeout is taken as dead
 * (a half-open connection, a proxy that swallowed the close) and restarted.
 */
export const KUBE_WATCH_SILENCE_GRACE_MS = 30_000;
/** First delay before reconnecting after a failed list or watch; doubles up to the max. */
export const KUBE_RECONNECT_BACKOFF_INITIAL_MS = 250;
export const KUBE_RECONNECT_BACKOFF_MAX_MS = 30_000;
/** Member-list changes closer together than this reach the ring as one change. */
export const DISCOVERY_DEBOUNCE_MS_DEFAULT = 500;
/** Objects one list/watch cache holds; a label selector matching more is refused. */
export const KUBE_WATCH_OBJECTS_MAX = RING_MEMBERS_MAX;

// --- Client identities (QuorumKVCluster spec.users, `qkv server --users-file`) ---
/** Users one cluster names; each is looked up on every call, and the list is applied live. */
export const USERS_MAX = 1000;

// --- Scale controller (src/controller, docs/decisions/0090) ---
/** How often the controller looks at the cluster when nothing is moving. */
export const CONTROLLER_RESYNC_MS_DEFAULT = 10_000;
/** How often it looks while a member is joining or leaving, to follow the streaming. */
export const CONTROLLER_POLL_MS_DEFAULT = 2_000;
/** Deadline of one Admin call (Status, Decommission) to a member. */
export const CONTROLLER_RPC_TIMEOUT_MS_DEFAULT = 5_000;
/** Members asked for their status at once during one look. */
export const CONTROLLER_STATUS_CALLS_IN_FLIGHT_MAX = 16;
/**
 * Kubernetes Events the controller remembers to aggregate a repeat into (count and
 * lastTimestamp of the existing Event instead of a new one); the oldest is forgotten.
 */
export const CONTROLLER_EVENT_SERIES_MAX = 64;
/** A repeat later than this after the last one starts a new Event (client-go's window). */
export const CONTROLLER_EVENT_SERIES_WINDOW_MS = 10 * 60 * 1000;
/** Characters of an Event's message; longer ones are cut (events.k8s.io/v1 allows 1 kB). */
export const CONTROLLER_EVENT_MESSAGE_CHARS_MAX = 1024;

// --- Security (src/security, docs/operations/security.md) ---

/**
 * How often certificate files are read again: a rotated certificate (cert-manager
 * renewing a Secret, an operator replacing files) is used for new connections within
 * this time, with no restart.
 */
export const CERTIFICATE_REFRESH_INTERVAL_MS = 5_000;
/** Characters in a node id or user name that a certificate carries (a DNS label's length). */
export const CERTIFICATE_NAME_CHARS_MAX = 63;
/** Characters in a CA's common name (X.520's upper bound for commonName). */
export const CERTIFICATE_COMMON_NAME_CHARS_MAX = 64;
/** DNS names and IP addresses in one node certificate, the three local defaults included. */
export const CERTIFICATE_HOSTS_MAX = 100;
/** Default lifetime of a CA certificate (10 years): replacing a CA means re-issuing every certificate. */
export const CA_VALIDITY_DAYS_DEFAULT = 3650;
/** Default lifetime of a node or client certificate (1 year). */
export const CERTIFICATE_VALIDITY_DAYS_DEFAULT = 365;
/** Longest lifetime any certificate may ask for (100 years). */
export const CERTIFICATE_VALIDITY_DAYS_MAX = 36_500;
/** Largest certificate or key file read; real ones are a few KiB, a bundle of CAs a few more. */
export const CERTIFICATE_FILE_BYTES_MAX = 1024 * 1024;
/**
 * Calls whose request message the node reads at once (src/security/receive-gate.ts).
 * grpc-js holds a call's whole message, up to GRPC_MESSAGE_BYTES_MAX, before any
 * handler or size check runs; a call past this many waits, its HTTP/2 stream paused so
 * that flow control keeps its bytes with the sender. Bounds what callers with a valid
 * certificate can make the node hold: 8 × 16 MiB = 128 MiB at worst.
 */
export const RECEIVING_CALLS_MAX = 8;
/**
 * Of those turns, how many one caller may hold at once (a certificate's user or member;
 * with --insecure, a remote address): a caller that trickles its messages slowly can
 * keep this many turns busy, never all of them (docs/decisions/0240).
 */
export const RECEIVING_CALLS_PER_CALLER_MAX = 4;
/** Calls waiting for a turn to be read; more are refused OVERLOADED at once. */
export const RECEIVE_WAITING_CALLS_MAX = 4096;
/**
 * Of those, how many one caller may have waiting (one connection's worth of calls,
 * GRPC_CONNECTION_STREAMS_MAX): a single caller cannot fill the queue and have everyone
 * else refused OVERLOADED.
 */
export const RECEIVE_WAITING_CALLS_PER_CALLER_MAX = 1024;
/** How long a call may take to deliver its message once its turn came; then it is ended. */
export const RECEIVE_TIMEOUT_MS = 10_000;
/**
 * How often held turns are checked against RECEIVE_TIMEOUT_MS (one interval per port,
 * not a timer per call: docs/decisions/0241); a slow call is ended up to this much late.
 */
export const RECEIVE_TIMEOUT_CHECK_INTERVAL_MS = 1_000;

// Backup and restore (src/backup, docs/operations/backup.md).
/**
 * Pace of a cluster backup (snapshot-file bytes per second, all members together), so a
 * backup leaves the disks and the network to the cluster's own traffic.
 */
export const BACKUP_BYTES_PER_SECOND_DEFAULT = 64 * 1024 * 1024;
export const BACKUP_BYTES_PER_SECOND_CEILING = 4 * 1024 * 1024 * 1024;
/**
 * Records a backup asks a member for per Scan call: the most one Scan answers, so a page
 * is bounded by SCAN_PAGE_BYTES_MAX rather than by round trips (bench:backup: 1000-record
 * pages of 200-byte values backed up at 1.6 MB/s on the loaded 2-core machine).
 */
export const BACKUP_SCAN_PAGE_RECORDS = REPAIR_SCAN_RECORDS_MAX;
/** How long one Scan call of a backup, or one Apply call of a restore, may take. */
export const BACKUP_PEER_CALL_TIMEOUT_MS = 30_000;
/**
 * Bytes of one frame of a snapshot file: a scan page (SCAN_PAGE_BYTES_MAX of keys and
 * values, and one record more, up to VALUE_BYTES_MAX_CEILING) with its record framing.
 * A frame whose length field says more is refused before it is buffered.
 */
export const BACKUP_FRAME_BYTES_MAX = 64 * 1024 * 1024;
/** Bytes of a backup set's manifest.json; one entry per member keeps it far smaller. */
export const BACKUP_MANIFEST_BYTES_MAX = 1024 * 1024;
/** Members one backup set may name. */
export const BACKUP_MEMBERS_MAX = 1_000;
/** Characters of the reason kept for a member a backup could not read (the manifest, the progress). */
export const BACKUP_MISSING_REASON_CHARS_MAX = 512;
/** Characters of a backup destination or backup id. */
export const BACKUP_PATH_CHARS_MAX = 512;
/** How often a running backup or restore sends a progress message (and at its end). */
export const BACKUP_PROGRESS_INTERVAL_MS = 500;
/** Batches (a snapshot frame's worth of records each) a restore writes to their replicas at once. */
export const RESTORE_FRAMES_IN_FLIGHT = 4;
/**
 * Memory a restore's merge of snapshot files may hold (src/backup/snapshot-merge.ts), a
 * quarter of the chart's 1 GiB memory limit for a node that also serves while it restores.
 */
export const RESTORE_MERGE_BYTES_MAX = 256 * 1024 * 1024;
/**
 * Snapshot files a restore merges at once (16). Each file being merged holds its current
 * frame decoded plus the read chunk the frame ended in: about three times a frame of at
 * most SCAN_PAGE_BYTES_MAX (12 MiB per file measured with 4 MiB frames of 1 KB values,
 * test/backup/snapshot-merge-memory.test.ts), so four frames per file are allowed for. At
 * 64 files the merge held 1067 MiB (docs/decisions/0247-restore-merge-memory-bound.md).
 */
export const RESTORE_MERGE_FILES_MAX = Math.floor(RESTORE_MERGE_BYTES_MAX / (4 * SCAN_PAGE_BYTES_MAX));
/**
 * Bytes of one part of a multipart upload to an S3-compatible store. S3 wants at least
 * 5 MiB per part but the last, and at most 10,000 parts: 8 MiB parts reach 78 GiB per
 * file. What a write holds in memory is this times S3_UPLOAD_PARTS_IN_FLIGHT_MAX.
 */
export const S3_UPLOAD_PART_BYTES = 8 * 1024 * 1024;
/** Parts of one upload sent at once. */
export const S3_UPLOAD_PARTS_IN_FLIGHT_MAX = 2;
/** How long connecting to an S3 endpoint may take before it counts as unreachable. */
export const S3_CONNECT_TIMEOUT_MS = 5_000;
/** How long one S3 request may go without an answer. */
export const S3_REQUEST_TIMEOUT_MS = 60_000;
/** Tries of one S3 request (the SDK backs off between them) before its error stands. */
export const S3_REQUEST_ATTEMPTS_MAX = 3;

/**
 * Open grpc.health.v1 Watch calls one node serves at once (src/node/health-service.ts);
 * one more is refused OVERLOADED. A probe or a load balancer holds one or two; each
 * open Watch is a call the node keeps, so callers with a certificate may not open
 * them without end.
 */
export const HEALTH_WATCHES_MAX = 64;

// Backup schedules: a QuorumKVCluster's spec.backup.schedule and timeZone
// (src/clock/cron-schedule.ts, docs/decisions/0250-cron-backup-schedules.md). The CRD
// checks the same bounds at the API server (test/controller/backup-schedule-crd.test.ts).
/** Characters of a cron expression; five fields with long lists fit in far fewer. */
export const CRON_EXPRESSION_CHARS_MAX = 128;
/** Characters of an IANA time zone name; the longest in tzdata has 32 (America/Argentina/ComodRivadavia). */
export const TIME_ZONE_CHARS_MAX = 64;
/**
 * Days a next-time search looks ahead. The rarest expression cron accepts fires on
 * 29 February only, which skips 2100: eight years apart (2096, 2104). Expressions that
 * never fire (31 February) are refused when parsed, so a search never reaches this.
 */
export const CRON_SEARCH_DAYS_MAX = 9 * 366;
