package server

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

// demoText is the message alice relays to bob.
const demoText = "Hello Bob! 👋 This message was sealed for you alone."

// eventTimeout bounds the wait for each event the demo expects.
const eventTimeout = 10 * time.Second

// demo is the quick-start demo's client half: two users on their own
// connections, as two daemons would be.
type demo struct {
	addr  string
	opts  client.Options
	out   io.Writer
	alice *account
	bob   *account
	ac    *client.Client // alice's connection
	bc    *client.Client // bob's current connection
}

func cmdDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "bench demo --addr 127.0.0.1:7443 --fingerprint 3f9a…c2 --metrics 127.0.0.1:9090", stderr)
	addr := fs.String("addr", "", "server address, in 127.0.0.0/8 (required)")
	fp := fs.String("fingerprint", "", "the server certificate's SHA-256 fingerprint (required)")
	metrics := fs.String("metrics", "", "the server's --metrics address, in 127.0.0.0/8, to show its health and metrics")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkLoopback("addr", *addr); err != nil {
		return err
	}
	if err := requireFingerprint(*fp); err != nil {
		return err
	}
	if *metrics != "" {
		if err := checkLoopback("metrics", *metrics); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	d := &demo{addr: *addr, out: stdout, opts: client.Options{Fingerprint: *fp, ClientName: "rvload-demo"}}
	defer d.close()
	if err := d.run(ctx); err != nil {
		return fmt.Errorf("demo failed: %w", err)
	}
	if *metrics != "" {
		if err := showMetrics(ctx, *metrics, stdout); err != nil {
			return fmt.Errorf("demo failed: %w", err)
		}
	}
	return nil
}

// say prints one step of the demo.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, format+"\n", args...)
}

func (d *demo) close() {
	for _, c := range []*client.Client{d.ac, d.bc} {
		if c != nil {
			c.Close()
		}
	}
}

// dial opens a connection for one of the users.
func (d *demo) dial(ctx context.Context, who string) (*client.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := client.Dial(dctx, d.addr, d.opts)
	if err != nil {
		return nil, fmt.Errorf("%s connects: %w", who, err)
	}
	return c, nil
}

func (d *demo) run(ctx context.Context) error {
	var err error
	if d.alice, err = newAccount("alice", "Alice Archer"); err != nil {
		return err
	}
	if d.bob, err = newAccount("bob", "Bob Baker"); err != nil {
		return err
	}

	// Both register; each made their identity key and signed prekey
	// locally, and the private halves never leave this process.
	if d.ac, err = d.register(ctx, d.alice); err != nil {
		return err
	}
	if d.bc, err = d.register(ctx, d.bob); err != nil {
		return err
	}

	// Friend request and acceptance, each seen by the other side as an
	// event.
	var fr wire.FriendRequestResponse
	if err := d.ac.Call(ctx, wire.OpFriendRequest, wire.UserRequest{Username: "bob"}, &fr); err != nil {
		return fmt.Errorf("alice's friend request to bob: %w", err)
	}
	d.say("alice sends bob a friend request: %s", fr.Status)
	var ev wire.FriendEvent
	if err := awaitEvent(ctx, d.bc, wire.EvFriendRequest, &ev, func() bool { return ev.Username == "alice" }); err != nil {
		return fmt.Errorf("bob waits for alice's friend request: %w", err)
	}
	d.say("bob sees a friend request from %s (%s) and accepts it", ev.Username, ev.DisplayName)
	if err := d.bc.Call(ctx, wire.OpFriendAccept, wire.UserRequest{Username: "alice"}, nil); err != nil {
		return fmt.Errorf("bob accepts alice: %w", err)
	}
	if err := awaitEvent(ctx, d.ac, wire.EvFriendAccepted, &ev, func() bool { return ev.Username == "bob" }); err != nil {
		return fmt.Errorf("alice waits for bob's acceptance: %w", err)
	}
	d.say("alice sees that %s (%s) accepted: they are friends", ev.Username, ev.DisplayName)

	// Bob goes offline.
	if err := d.bc.Call(ctx, wire.OpLogout, wire.Empty{}, nil); err != nil {
		return fmt.Errorf("bob logs out: %w", err)
	}
	d.bc.Close()
	d.bc = nil
	d.say("bob logs out and closes his connection: he is offline")
	var pres wire.Presence
	// Presence is shown if it comes soon; the demo does not depend on it.
	if err := awaitEventFor(ctx, 3*time.Second, d.ac, wire.EvPresence, &pres, func() bool {
		return pres.Username == "bob" && pres.Status == wire.StatusOffline
	}); err == nil {
		d.say("alice sees bob's presence change to %s", pres.Status)
	}

	// Alice seals to bob's published prekey, checked against his identity
	// key, and hands the envelope to the relay.
	var bobKeys wire.KeysResponse
	if err := d.ac.Call(ctx, wire.OpKeysGet, wire.UserRequest{Username: "bob"}, &bobKeys); err != nil {
		return fmt.Errorf("alice fetches bob's keys: %w", err)
	}
	if err := bobKeys.Prekey.Verify(bobKeys.IdentityKey, "bob", time.Now()); err != nil {
		return fmt.Errorf("bob's prekey does not check out: %w", err)
	}
	d.say("alice fetches bob's keys (keys.get) and checks that his identity key signed his prekey %s", bobKeys.Prekey.ID())
	id, env, err := d.alice.seal("bob", bobKeys.Prekey, demoText)
	if err != nil {
		return err
	}
	d.say("alice seals %q for bob: a %d-byte envelope (HPKE ML-KEM-768 + X25519, signed with her identity key)", demoText, len(env))
	var rs wire.RelaySendResponse
	if err := d.ac.Call(ctx, wire.OpRelaySend, wire.RelaySendRequest{To: "bob", ID: id, Envelope: env}, &rs); err != nil {
		return fmt.Errorf("alice relays the message: %w", err)
	}
	d.say("relay.send → %s", rs.Status)
	if rs.Status != "queued" {
		return fmt.Errorf("relay.send answered %q, want queued", rs.Status)
	}

	// Bob comes back on a new connection and gets it.
	if d.bc, err = d.dial(ctx, "bob"); err != nil {
		return err
	}
	if err := d.bc.Call(ctx, wire.OpLogin, wire.LoginRequest{Username: "bob", Password: d.bob.password}, nil); err != nil {
		return fmt.Errorf("bob logs in again: %w", err)
	}
	d.say("bob logs in again on a new connection")
	var rel wire.RelayEvent
	if err := awaitEvent(ctx, d.bc, wire.EvRelay, &rel, func() bool { return rel.ID == id }); err != nil {
		return fmt.Errorf("bob waits for the relayed message: %w", err)
	}
	d.say("bob receives a relayed envelope %s, %d bytes, which the server says is from %s", rel.ID, len(rel.Envelope), rel.From)
	msg, err := envelope.Open(rel.Envelope, "bob", d.bob.secret, d.bob.prekey.ID(), func(user string) (ed25519.PublicKey, error) {
		// A daemon would use the key it pinned; the demo fetches it.
		var k wire.KeysResponse
		if err := d.bc.Call(ctx, wire.OpKeysGet, wire.UserRequest{Username: user}, &k); err != nil {
			return nil, fmt.Errorf("fetch %s's identity key: %w", user, err)
		}
		return ed25519.PublicKey(k.IdentityKey), nil
	})
	if err != nil {
		return fmt.Errorf("bob opens the envelope: %w", err)
	}
	d.say("bob opens it with his prekey secret and checks alice's signature:")
	d.say("")
	d.say("    [relayed] %s: %s", msg.From, msg.Body)
	d.say("")
	if string(msg.Body) != demoText || msg.From != "alice" {
		return fmt.Errorf("the opened message is %q from %s, want %q from alice", msg.Body, msg.From, demoText)
	}
	if err := d.bc.Call(ctx, wire.OpRelayAck, wire.RelayAckRequest{Acks: []wire.RelayRef{{From: rel.From, ID: rel.ID}}}, nil); err != nil {
		return fmt.Errorf("bob acknowledges the message: %w", err)
	}
	d.say("bob acknowledges it (relay.ack): the server deletes its copy")
	return nil
}

// register connects and registers a user.
func (d *demo) register(ctx context.Context, a *account) (*client.Client, error) {
	c, err := d.dial(ctx, a.name)
	if err != nil {
		return nil, err
	}
	req, err := a.registerRequest(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	err = c.Call(ctx, wire.OpRegister, req, nil)
	if isCode(err, wire.CodeUsernameTaken) {
		c.Close()
		return nil, fmt.Errorf("%s is already registered: the demo needs a fresh server", a.name)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%s registers: %w", a.name, err)
	}
	d.say("%s registers as %q with a new identity key and signed prekey", a.name, a.display)
	return c, nil
}

// awaitEvent reads c's events until one named op decodes into v and
// satisfies match, skipping others, for at most eventTimeout.
func awaitEvent(ctx context.Context, c *client.Client, op string, v any, match func() bool) error {
	return awaitEventFor(ctx, eventTimeout, c, op, v, match)
}

// awaitEventFor is awaitEvent with its own time limit.
func awaitEventFor(ctx context.Context, limit time.Duration, c *client.Client, op string, v any, match func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("no %s event: %w", op, ctx.Err())
		case f, ok := <-c.Events():
			if !ok {
				return fmt.Errorf("connection closed while waiting for %s: %w", op, c.Err())
			}
			if f.Op != op {
				continue
			}
			if err := json.Unmarshal(f.Body, v); err != nil {
				return fmt.Errorf("decode %s event: %w", op, err)
			}
			if match() {
				return nil
			}
		}
	}
}

// showMetrics prints the server's health check and its metrics about
// logins, the relay and connections.
func showMetrics(ctx context.Context, addr string, w io.Writer) error {
	health, err := httpGet(ctx, addr, "/healthz")
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	fmt.Fprintf(w, "server health (GET /healthz): %s\n", strings.TrimSpace(health))
	metrics, err := httpGet(ctx, addr, "/metrics")
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	fmt.Fprintln(w, "server metrics about logins, the relay and connections (GET /metrics):")
	sc := bufio.NewScanner(strings.NewReader(metrics))
	for sc.Scan() {
		line := sc.Text()
		for _, p := range []string{"lanchat_rendezvous_logins", "lanchat_rendezvous_relay", "lanchat_rendezvous_connections"} {
			if strings.HasPrefix(line, p) {
				fmt.Fprintf(w, "  %s\n", line)
				break
			}
		}
	}
	return nil
}
