package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

// peer is a test stand-in for a peer daemon: it keeps its identity and
// prekey secret and seals and opens envelopes as the daemon does.
type peer struct {
	name     string
	password string
	identity ed25519.PrivateKey
	prekey   keys.SignedPrekey
	secret   hpke.PrivateKey
	c        *client.Client
}

func newPeer(t *testing.T, name string) *peer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, secret, err := keys.NewPrekey(priv, name, time.Now(), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &peer{name: name, password: "correct horse " + name, identity: priv, prekey: pk, secret: secret}
}

func (p *peer) connect(t *testing.T, srv *rendezvous) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, srv.addr, client.Options{Fingerprint: srv.fp, ClientName: "e2e"})
	if err != nil {
		t.Fatalf("%s: dial: %v", p.name, err)
	}
	t.Cleanup(func() { c.Close() })
	p.c = c
}

func (p *peer) register(t *testing.T, srv *rendezvous) {
	t.Helper()
	p.connect(t, srv)
	p.call(t, wire.OpRegister, wire.RegisterRequest{
		Username: p.name, Password: p.password,
		IdentityKey: p.identity.Public().(ed25519.PublicKey), Prekey: p.prekey,
		KeyProof: p.proof(t),
	}, nil)
}

// proof is p's key proof for the server it is connected to.
func (p *peer) proof(t *testing.T) []byte {
	t.Helper()
	server, err := keys.ParseServerID(p.c.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	sig, err := keys.SignProof(p.identity, p.name, server)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func (p *peer) login(t *testing.T, srv *rendezvous) {
	t.Helper()
	p.connect(t, srv)
	p.call(t, wire.OpLogin, wire.LoginRequest{Username: p.name, Password: p.password}, nil)
}

func (p *peer) call(t *testing.T, op string, req, resp any) {
	t.Helper()
	if err := p.try(op, req, resp); err != nil {
		t.Fatalf("%s: %s: %v", p.name, op, err)
	}
}

func (p *peer) try(op string, req, resp any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return p.c.Call(ctx, op, req, resp)
}

// seal makes an envelope for to, as the daemon does for the relay.
func (p *peer) seal(t *testing.T, to *peer, text string) (id string, env []byte) {
	t.Helper()
	id, env, err := p.sealMsg(to, text)
	if err != nil {
		t.Fatal(err)
	}
	return id, env
}

func (p *peer) sealMsg(to *peer, text string) (id string, env []byte, err error) {
	var b [16]byte
	rand.Read(b[:])
	id = hex.EncodeToString(b[:])
	env, err = envelope.Seal(envelope.Message{
		ID: id, From: p.name, To: to.name, Sent: time.Now(), Kind: "text", Body: []byte(text),
	}, p.identity, to.prekey)
	return id, env, err
}

// open opens a relayed envelope from one of the given senders.
func (p *peer) open(ev wire.RelayEvent, senders ...*peer) (envelope.Message, error) {
	return envelope.Open(ev.Envelope, p.name, p.secret, p.prekey.ID(), func(user string) (ed25519.PublicKey, error) {
		for _, s := range senders {
			if s.name == user {
				return s.identity.Public().(ed25519.PublicKey), nil
			}
		}
		return nil, fmt.Errorf("unknown sender %s", user)
	})
}

// befriend makes a and b friends.
func befriend(t *testing.T, a, b *peer) {
	t.Helper()
	a.call(t, wire.OpFriendRequest, wire.UserRequest{Username: b.name}, nil)
	b.call(t, wire.OpFriendAccept, wire.UserRequest{Username: a.name}, nil)
}

// collectRelay gathers relay events until quiet for the given time, and
// acknowledges them when ack is set.
func (p *peer) collectRelay(t *testing.T, quiet time.Duration, ack bool) []wire.RelayEvent {
	t.Helper()
	var got []wire.RelayEvent
	for {
		select {
		case f, ok := <-p.c.Events():
			if !ok {
				t.Fatalf("%s: connection closed: %v", p.name, p.c.Err())
			}
			if f.Op != wire.EvRelay {
				continue
			}
			var batch wire.RelayBatchEvent
			if err := json.Unmarshal(f.Body, &batch); err != nil {
				t.Fatal(err)
			}
			got = append(got, batch.Envelopes...)
			if ack {
				var req wire.RelayAckRequest
				for _, ev := range batch.Envelopes {
					req.Acks = append(req.Acks, wire.RelayRef{From: ev.From, ID: ev.ID})
				}
				p.call(t, wire.OpRelayAck, req, nil)
			}
		case <-time.After(quiet):
			return got
		}
	}
}

// relayOne is a relay.send request of one envelope.
func relayOne(to, id string, env []byte) wire.RelaySendRequest {
	return wire.RelaySendRequest{Envelopes: []wire.RelayEnvelope{{To: to, ID: id, Envelope: env}}}
}

// relayStatus is the status of a one-envelope relay.send's envelope, or
// its error's code.
func relayStatus(resp wire.RelaySendResponse) string {
	switch {
	case len(resp.Results) != 1:
		return fmt.Sprintf("%d results", len(resp.Results))
	case resp.Results[0].Error != nil:
		return resp.Results[0].Error.Code
	}
	return resp.Results[0].Status
}

func isCode(err error, code string) bool {
	var werr *wire.Error
	return errors.As(err, &werr) && werr.Code == code
}
