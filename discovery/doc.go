// Package discovery finds lanchat daemons and rendezvous servers on the
// local link with multicast DNS (DNS-SD over mDNS, RFC 6762/6763), and
// shares the link, and the host, with Avahi, Bonjour and other mDNS
// software.
//
// A daemon announces PeerService (_lanchat._udp) with its QUIC port under
// an opaque instance name, InstanceID of its identity key and the UTC
// date, and TXT "v=1": strangers on the LAN learn no username or host
// name and cannot follow a machine from one day to the next, while
// contacts who know the key recognise it (Recognize). A Browser turns
// what it hears into Appeared, Changed and Gone events. A rendezvous
// server may announce ServerService (_lanchat-server._tcp) with TXT "v=1"
// and "fp=<certificate SHA-256>", which FindServer looks for. Discovery
// only finds candidates: every connection is still authenticated by the
// pinned key or fingerprint, so a forged announcement can waste a dial
// but never impersonate. docs/protocol.md, "Discovery (mDNS)", is the
// reference for what goes on the wire.
//
// Where the parts come from, and why:
//
//   - Packets are built and parsed by github.com/miekg/dns (dns.Msg and
//     its records), never by hand.
//   - The sockets are golang.org/x/net/ipv4 and ipv6 packet conns on port
//     5353, shared through SO_REUSEADDR (and SO_REUSEPORT off Linux):
//     their control messages say on which interface a packet came in and
//     whether it was sent to the group, and let us send on a chosen
//     interface (socket.go).
//   - The responder (zone.go, announce.go) and the browser's cache
//     (cache.go, watch.go) are our own. github.com/hashicorp/mdns, which
//     this package used before, answers every query by unicast to the
//     querier's port (on a host that also runs avahi-daemon, port 5353
//     belongs to Avahi, which then never hears the answer), drops the id
//     and question of legacy queries and answers them with TTL 120,
//     ignores known answers, sets no cache-flush bit, answers sources
//     off the link, sends no goodbye, reads only the last record of each
//     kind in a packet (three instances in one packet became none), and
//     keeps unbounded state per query. Those are the core of what it
//     does, so there was nothing left to keep.
//
// Not implemented, because lanchat's names are unique by construction
// (hashes of keys or fingerprints): probing and conflict resolution
// (RFC 6762 section 8.1, 9). Answers are not delayed by 20-120 ms for
// shared records (section 6) and a truncated query's known answers in
// following packets are not awaited (section 7.2): answers are small,
// and the at-most-once-a-second rule per record bounds the traffic.
//
// With no Iface, announcing and browsing use every interface that is up,
// running and multicast-capable, except loopback, point-to-point links and
// names of the usual local bridges and tunnels (docker, br-, veth, virbr,
// tailscale, wg, tun, ...); naming an interface (lanchat daemon
// --mdns-iface NAME) uses that one only. Where no interface works,
// Announcer and Browser say so once in the log (slog Warn), keep trying,
// and report why in Blocked, so the daemon can fall back to the endpoints
// the server reports.
package discovery
