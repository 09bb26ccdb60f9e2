// Package discovery finds lanchat daemons and rendezvous servers on the
// local link with multicast DNS (DNS-SD over mDNS, RFC 6762/6763).
//
// A daemon announces PeerService (_lanchat._udp) with its QUIC port under
// an opaque instance name, InstanceID of its identity key, and TXT "v=1";
// strangers on the LAN learn no username or host name, while contacts who
// know the key recognise it. A Browser queries for PeerService again and
// again and turns what it hears into Appeared, Changed and Gone events.
// A rendezvous server may announce ServerService (_lanchat-rendezvous._tcp)
// with TXT "v=1" and "fp=<certificate SHA-256>", which FindServer looks
// for once. Discovery only finds candidates: every connection is still
// authenticated by the pinned key or fingerprint, so a forged announcement
// can waste a dial but never impersonate.
//
// The package is built on github.com/hashicorp/mdns v1.0.7 and works
// around its limits:
//
//   - Its sockets listen on the fixed mDNS port 5353 (with SO_REUSEADDR,
//     so it shares the port with Avahi and the like). Where another
//     program holds the port exclusively, or multicast is missing, a query
//     or an announcement fails. A query's IPv4 socket joins the group with
//     no interface, so the kernel picks one by route: with no route to
//     224.0.0.0/4 (no default route) IPv4 queries fail on every interface.
//     Announcer and Browser then say so once in the log (slog Warn), keep
//     retrying, and report why in Blocked, so the daemon can fall back to
//     the endpoints the server reports.
//   - A query sends over IPv4 and then IPv6 and gives up at the first send
//     error, so one family's failure would hide the other: we run one
//     query per interface and per address family, concurrently.
//   - A query is one shot on one interface, sent once, with no
//     continuous browsing and no expiry: Browser repeats it (a burst at
//     start, then every Interval plus a random Jitter), keeps each address
//     with the time it was last heard and drops it after TTL; FindServer
//     queries in rounds of at most a second.
//   - Cancelling a query closes its sockets but the call still returns only
//     at its timeout, so Close can take up to QueryTimeout (1 s by default).
//   - It hands out a *ServiceEntry on a channel without blocking (an entry
//     is dropped if the channel is full) and keeps writing to that entry
//     as more records arrive: we give it a large buffer and read the
//     entries only after the query has returned, which is race-free.
//   - An entry keeps one A and one AAAA address, the last heard (AddrV4,
//     AddrV6 and AddrV6IPAddr; Addr is whichever came last; an IPv4
//     address may come as 16 bytes). So each interface announces exactly
//     one of each: its first IPv4 address and its IPv6 link-local address
//     (or its first other IPv6 address), and a peer's addresses are the
//     union of what recent rounds heard on every interface.
//   - A link-local AAAA gets a zone only when the answer came over IPv6:
//     we add the zone of the interface queried when it is missing.
//     Addresses that cannot be dialled (unspecified, loopback, multicast,
//     broadcast) are dropped, and so are those outside the prefixes of the
//     interface queried: on Linux every socket on port 5353 hears the
//     group's traffic on every interface where any socket joined it, so a host announcing on two links may
//     answer a query on one with the address it has on the other. (Its
//     responder always answers by unicast to the querier, whatever the
//     question asked.)
//   - Its responder defaults the host name to os.Hostname (which often
//     names the user) and resolves addresses through DNS when given none:
//     we always pass the host name "<instance>.local." and the interface's
//     own addresses. It answers only for the addresses it was given, so an
//     Announcer re-reads the interfaces every Rescan and restarts the
//     responder of an interface whose addresses changed.
//   - It logs through the standard log package: we pass it a *log.Logger
//     that forwards to the slog.Logger at Debug level, rate limited.
//   - Its responder sends no goodbye packet on shutdown, so a peer that
//     stops is Gone only after TTL. Its receive goroutines exit on their
//     own just after Shutdown or a query's end; ours all stop in Close.
//   - It compares question names case-sensitively and ignores the
//     truncated bit; TXT strings come out escaped in presentation format.
//     We parse TXT as RFC 6763 says (keys are case-insensitive, the first
//     of a repeated key wins, unknown keys are ignored), accept only
//     "v=1", and bound its size, the peers kept and their addresses.
//
// With no Iface, announcing and browsing use every interface that is up,
// running and multicast-capable, except loopback, point-to-point links and
// names of the usual local bridges and tunnels (docker, br-, veth, virbr,
// tailscale, wg, tun, ...); naming an interface (lanchat daemon
// --mdns-iface NAME) uses that one only.
package discovery
